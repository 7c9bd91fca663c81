"""The TIE's regularisation chosen from the data: the camera noise of each plane sets ε̃.

The Tikhonov-regularised inverse Laplacian L/(L² + ε) is the Wiener filter of a phase whose power per
mode is flat at long periods (A, rad²·µm², a field of cells beyond the cell scale) under white noise
in J = −k·∂I/∂z of variance σ_J² (pixel units): the filter crosses ½ where L² = ε = σ_J²/(A/px²). So

    ε̃ = σ_J² · px² / A,   σ_J = k · px² · σ_I · ‖w‖,

with σ_I the relative noise of a plane (`plane_noise`), w the least-squares slope weights of dI/dz
(1/µm; ‖w‖ = √2/Δz for two planes Δz apart) and px the pixel (µm). A = `CELL_PHASE_POWER` was measured
on the virtual microscope's HeLa fields (40×/0.65, 12- and 8-bit cameras, 2 and 3 planes: errors
within 13 % of the best ε̃'s, benchmarks/tie_regularisation.md). Noiseless data get the floor. A phase
with far more long-period power than cells (a strong tilt, a large lens) wants less ε̃: give --eps.
"""

from __future__ import annotations

import numpy as np

NOISELESS_EPS = 1e-15  # noiseless simulations: response halved only beyond ~35 000 px
MAX_EPS = 1e-6  # response halved at 200 px: beyond this the noise, not ε̃, is the problem to report
CELL_PHASE_POWER = 26.0  # A, rad²·µm²: long-period phase power density of a field of cells


WINDOW_PX = 768  # the noise is read in the central window this wide: 0.6 M samples, 20 ms a plane


def plane_noise(plane: np.ndarray, region: np.ndarray | None = None) -> float:
    """The noise of one plane relative to its mean intensity (σ/Ī), by Immerkær's estimator (1996):
    the mean absolute response to the 3×3 kernel that cancels planes and their first and second
    derivatives, ×√(π/2)/6, in the central `WINDOW_PX` window. Texture near Nyquist adds to it, so it
    errs towards more regularisation. `region` (True inside, e.g. a field stop) limits it to lit pixels."""
    window = tuple(slice(max((n - WINDOW_PX) // 2, 0), max((n - WINDOW_PX) // 2, 0) + WINDOW_PX)
                   for n in np.shape(plane))
    if region is not None and not np.asarray(region, bool)[window].any():  # an off-centre aperture: all of it
        window = (slice(None), slice(None))
    p = np.asarray(plane, dtype=np.float32)[window]
    c = (p[:-2, :-2] - 2 * p[:-2, 1:-1] + p[:-2, 2:]
         - 2 * p[1:-1, :-2] + 4 * p[1:-1, 1:-1] - 2 * p[1:-1, 2:]
         + p[2:, :-2] - 2 * p[2:, 1:-1] + p[2:, 2:])
    inside = np.ones(c.shape, bool) if region is None else np.asarray(region, bool)[window][1:-1, 1:-1]
    if not inside.any():
        return 0.0
    mean = float(p[1:-1, 1:-1][inside].mean(dtype=np.float64))
    if mean <= 0:
        return 0.0
    return float(np.sqrt(np.pi / 2) * np.abs(c[inside]).mean(dtype=np.float64) / 6 / mean)


def noise_eps(
    planes: np.ndarray,
    z_um: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    region: np.ndarray | None = None,
) -> tuple[float, float]:
    """(ε̃, σ_I): the dimensionless regularisation for the TIE of `planes` (Z, Y, X) at `z_um`, and the
    planes' mean relative noise it came from."""
    dz = np.asarray(z_um, dtype=float) - np.mean(z_um)
    weights = dz / np.dot(dz, dz)  # dI/dz = Σ w_i I_i, as `axial_derivative`
    sigmas = np.array([plane_noise(p, region) for p in planes])
    k = 2 * np.pi * medium_index / wavelength_um
    sigma_j = k * pixel_um**2 * np.sqrt(np.sum((weights * sigmas) ** 2))
    eps = sigma_j**2 * pixel_um**2 / CELL_PHASE_POWER
    return float(np.clip(eps, NOISELESS_EPS, MAX_EPS)), float(sigmas.mean())
