"""How far a TIE label can be trusted without a truth: the spread its boundary condition leaves.

A TIE solved on a frame must assume what happens at the frame's edge. Where the specimen stays inside
the frame, no flux across the edge (mirror boundaries, DCT) and zero phase at the edge (DST) are both
true and give one answer; where the edge cuts through cells (a crop, a confluent field) both are false
and their answers differ by a harmonic function the data inside cannot fix. Their RMS difference is the
label's boundary uncertainty: what the data leave open, an upper bound rather than a measurement of the
DCT label's error (which can be lucky where the edge crosses cells flatly). On the virtual microscope's
768² HeLa fields: 0.08–0.15 rad on the whole fields (true error 0.11), 0.29–0.83 rad on the 256² crops
that cut cells (true error 0.22–0.61), 0.03–0.13 on crops that did not (0.03–0.07); on the smoke test's
128² field, whose edge crosses cells, 0.36 (true error 0.07). Inside a field stop the edge is measured
(the light ends there) and the aperture solver assumes nothing.
"""

from __future__ import annotations

import numpy as np

from qpi.io.stack import Stack
from qpi.tie.noise import plane_noise
from qpi.tie.solvers import (
    _dct,
    _derivative_planes,
    _dst,
    aperture,
    axial_derivative,
    in_focus,
    regularisation,
    resolve_method,
)

POOR_RAD = 0.2  # boundary uncertainty (RMS) beyond λ/30 of optical path: warn (the crops above: 0.29–0.83)


def boundary_spread(
    i0: np.ndarray,
    didz: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    eps: float = 0.0,
    workers: int = 1,
) -> np.ndarray:
    """The phase (rad, mean 0) between the uniform-intensity TIE φ = ∇⁻²(−k·∂I/∂z)/Ī with no flux across
    the frame's edge and the same with zero phase on it; `eps` the solvers' ε̃ on both inverse Laplacians."""
    ny, nx = i0.shape
    k = 2 * np.pi * medium_index / wavelength_um
    rhs = -k * pixel_um**2 * np.asarray(didz, float) / float(np.mean(i0))  # pixel units
    answers = []
    for transform, first in ((_dct, 0), (_dst, 1)):  # cosine modes m = 0…N−1, sine modes m = 1…N
        wavenumbers = [np.pi * np.arange(first, n + first) / n for n in (ny, nx)]
        lap = -np.add.outer(wavenumbers[0] ** 2, wavenumbers[1] ** 2)
        inverse = np.divide(lap, lap**2 + eps, out=np.zeros_like(lap), where=lap != 0)
        answers.append(transform(transform(rhs, (0, 1), workers) * inverse, (0, 1), workers, inverse=True))
    spread = answers[0] - answers[1]
    return spread - spread.mean()


def label_quality(
    stack: Stack,
    phase: np.ndarray,
    method: str = "auto",
    eps: float | str | None = "auto",
    planes: list[float] | None = None,
    mask: np.ndarray | None | str = "detect",
) -> dict:
    """What a TIE label's own data say about it: the ε̃ used, the planes' relative noise, and its
    boundary uncertainty (rad RMS, and as a fraction of the label's 1–99 % range; None inside a field
    stop), `poor` beyond `POOR_RAD`. `phase` is the label `qpi.tie.solve` gave for these arguments;
    `mask` the field stop as `solve` takes it ("detect": found here; `aperture` finds it once for both)."""
    z = np.asarray(stack.z_um, dtype=float)
    chosen = _derivative_planes(z, planes)
    i0 = in_focus(stack, chosen)
    stop = aperture(stack, planes) if isinstance(mask, str) else mask
    eps = regularisation(stack, eps, planes, stop)
    low, high = np.nanpercentile(phase, [1, 99])
    noise = float(np.mean([plane_noise(p, stop) for p in np.asarray(stack.data)[chosen]]))
    out = {"eps": eps, "noise": noise, "label_range_rad": float(high - low)}
    if stop is not None and resolve_method(method, stop) in ("aperture", "iterative"):
        return {**out, "boundary": "field stop", "boundary_rad": None, "boundary_fraction": None, "poor": False}
    spread = boundary_spread(i0, axial_derivative(np.asarray(stack.data)[chosen], z[chosen]), stack.pixel_um,
                             stack.wavelength_um, stack.medium_index, eps)
    rms = float(np.sqrt(np.mean(spread**2)))
    fraction = rms / out["label_range_rad"] if out["label_range_rad"] > 0 else float("inf")
    return {**out, "boundary": "frame edge", "boundary_rad": rms, "boundary_fraction": fraction,
            "poor": rms > POOR_RAD}
