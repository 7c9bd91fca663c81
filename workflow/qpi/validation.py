"""How good is TIE as ground truth? Solver × Δz × noise, scored against the simulation's exact phase."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from . import metrics, tie
from .io import Stack
from .optics.imaging import Microscope, image_stack


def tie_sweep(
    fields: dict[str, tuple[np.ndarray, np.ndarray]],
    scope: Microscope,
    dz_um: list[float],
    noise: list[float],
    solvers: list[str],
    rng: np.random.Generator,
    eps: float | None = None,
) -> list[dict]:
    """Re-image each exact (phase, amplitude) field at ±Δz with the microscope, add Gaussian noise
    (σ relative to the mean intensity) and score every solver. One tidy row per combination."""
    rows = []
    for name, (phase, amplitude) in fields.items():
        t = amplitude * np.exp(1j * phase)
        for dz in dz_um:
            z = np.array([-dz, 0.0, dz])
            clean = image_stack(t, z, scope, pixel_um=scope.pixel_um)
            for sigma in noise:
                data = (clean + sigma * rng.standard_normal(clean.shape)).astype(np.float32)
                stack = Stack(data=data, z_um=z, wavelength_um=scope.wavelength_um, pixel_um=scope.pixel_um,
                              medium_index=scope.medium_index)
                for solver in solvers:
                    start = time.perf_counter()
                    recovered = tie.solve(stack, method=solver, eps=eps)
                    seconds = time.perf_counter() - start
                    rows.append({"source": "sweep", "field": name, "solver": solver, "dz_um": dz, "noise": sigma,
                                 **accuracy(recovered, phase), "seconds": seconds})
    return rows


def accuracy(recovered: np.ndarray, exact: np.ndarray) -> dict:
    """RMSE (rad) and SSIM of a phase after piston removal."""
    scores = metrics.score(recovered, exact, phase=True)
    return {"rmse_rad": scores["nrmse"] * scores["data_range"], "ssim": scores["ssim"]}


def microscope_at_camera(params: dict) -> Microscope:
    """The configured microscope simulated directly on the camera grid (no oversampling)."""
    return dataclasses.replace(Microscope(**params), oversample=1)
