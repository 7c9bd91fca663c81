"""The TIE's ε̃ from the planes' noise against the best ε̃ and fixed ones, and a label's boundary uncertainty
against its true error on crops (benchmarks/tie_regularisation.md). About 2 min on 2 cores.

    .venv/bin/python benchmarks/tie_regularisation.py > benchmarks/tie_regularisation.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from qpi import tie  # noqa: E402
from qpi.io import Stack  # noqa: E402
from qpi.optics.imaging import Camera, Microscope  # noqa: E402
from qpi.optics.simulate import simulate_field  # noqa: E402
from qpi.tie.quality import label_quality  # noqa: E402

GRID = np.logspace(-15, -5, 21)
PHANTOM = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
PHANTOM = PHANTOM["simulate"]["phantoms"]["hela"]


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    inside = np.isfinite(a)
    d = (a[inside] - a[inside].mean()) - (b[inside] - b[inside].mean())
    return float(np.sqrt(np.mean(d**2)))


def tilted(n: int = 512, px: float = 0.2, wavelength: float = 0.55, noise: float = 0.0) -> tuple[Stack, np.ndarray]:
    """A writer of our own: Gaussian cells and a tilt, coherent plane-wave propagation (numpy FFT, mirror
    padding), float planes at −1, 0, +1 µm."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:n, :n] * px
    phase = 0.05 * x + 0.03 * y
    for _ in range(12):
        cy, cx = rng.uniform(10, n * px - 10, 2)
        r, a = rng.uniform(4, 10), rng.uniform(0.5, 2)
        phase += a * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))
    field = np.pad(np.exp(1j * phase), n // 2, mode="reflect")
    f = np.fft.fftfreq(2 * n, px)
    planes = []
    for z in (-1.0, 0.0, 1.0):
        h = np.exp(2j * np.pi * z * np.sqrt(np.clip(1 / wavelength**2 - f[:, None] ** 2 - f[None] ** 2, 0, None)))
        planes.append(np.abs(np.fft.ifft2(np.fft.fft2(field) * h))[n // 2 : n // 2 + n, n // 2 : n // 2 + n] ** 2)
    data = np.asarray(planes) + np.random.default_rng(1).normal(0, noise, (3, n, n))
    return Stack(data=data.astype(np.float32), z_um=np.array([-1.0, 0, 1]), wavelength_um=wavelength, pixel_um=px), phase


def camera(seed: int, bits: int, planes: list[float], field_px: int = 768, stop: str | None = None,
           phantom: dict = PHANTOM) -> tuple[Stack, np.ndarray]:
    scope = Microscope(field_stop=stop, field_stop_fraction=0.95)
    stack, truth, _ = simulate_field("hela", seed, planes, scope, Camera(bit_depth=bits), field_px, phantom)
    data = tie.brightness_correct(stack.data, "mean" if stop else "both")
    return Stack(data=data, z_um=stack.z_um, wavelength_um=stack.wavelength_um, pixel_um=stack.pixel_um), truth


def row(name: str, stack: Stack, truth: np.ndarray, sweep: bool = True) -> dict:
    method = "auto"
    errors = [rmse(tie.solve(stack, method=method, eps=e), truth) for e in GRID] if sweep else []
    fixed = {f"{e:g}": rmse(tie.solve(stack, method=method, eps=e), truth) for e in (1e-9, 1e-15)}
    out = {"case": name, "auto_eps": tie.regularisation(stack), "auto_rmse": rmse(tie.solve(stack, eps="auto"), truth),
           **{f"rmse_at_{k}": v for k, v in fixed.items()}}
    if sweep:
        out |= {"best_eps": float(GRID[int(np.argmin(errors))]), "best_rmse": min(errors)}
    return out


def main() -> None:
    rows = [row("own writer: 512² noiseless float, cells + tilt, ±1 µm", *tilted()),
            row("same + white noise σ 1 %", *tilted(noise=0.01))]
    for seed in (1, 2):
        rows.append(row(f"virtual microscope HeLa {seed}: 768², 12-bit, −2/0/+2 µm", *camera(seed, 12, [-2, 0, 2])))
        rows.append(row(f"virtual microscope HeLa {seed}: 768², 8-bit, 0/+2 µm", *camera(seed, 8, [0, 2])))
    stack, truth = camera([28, 1], 8, [0, 2.5], 1280, "octagon", {**PHANTOM, "n_cells": (25, 35)})
    whole = tie.solve(stack, eps="auto")
    rows.append(row("virtual microscope HeLa: 1280², 8-bit, 0/+2.5 µm, octagonal field stop", stack, truth,
                    sweep=False))
    crops = []
    for i in range(3):
        for j in range(3):
            window = np.s_[256 * (i + 1) : 256 * (i + 2), 256 * (j + 1) : 256 * (j + 2)]
            crop = Stack(data=stack.data[(slice(None), *window)], z_um=stack.z_um, wavelength_um=stack.wavelength_um,
                         pixel_um=stack.pixel_um)
            label = tie.solve(crop, eps="auto")
            quality = label_quality(crop, label)
            crops.append({"crop": f"{i}{j}", "boundary_rad": quality["boundary_rad"], "poor": quality["poor"],
                          "crop_label_rmse": rmse(label, truth[window]),
                          "whole_field_label_rmse": rmse(whole[window], truth[window])})
    json.dump({"eps": rows, "nine_crops": crops}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
