"""Transport-of-intensity phase retrieval and the brightness correction that precedes it.

TIE: −k·∂I/∂z = ∇·(I∇φ), k = 2πn/λ (lengths in µm, phase in radians). The solvers use the
Paganin–Nugent form with spectral derivatives:

    J = −k·∂I/∂z,  ψ = ∇⁻²J,  ∇φ = ∇ψ / max(I0, 0.01·max I0),  φ = ∇⁻²(∇·∇φ),

where ∇⁻² is the Tikhonov-regularised inverse Laplacian L/(L² + ε), L(f) = −4π²|f|² (µm⁻²).
`eps` is given dimensionless, ε̃ = ε·px⁴ (ε for frequencies counted in cycles per pixel, so
the same value suits any pixel size); the kernel uses ε = ε̃ / pixel_um⁴ in µm⁻⁴.
ε̃ halves the response at spatial periods of 2π/ε̃^¼ pixels and suppresses longer ones: ε̃ ≈ 1e-9…5e-9
(≈ 1100…750 px) suits noisy data; the default 1e-15 (≈ 35 000 px) leaves noiseless simulations unbiased.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import fft
from scipy.ndimage import gaussian_filter, gaussian_filter1d

from .io import Stack, StackError
from .optics.propagation import angular_spectrum, frequencies

log = logging.getLogger(__name__)

DEFAULT_EPS = 1e-15
METHODS = ("fft", "dct", "iterative")
BRIGHTNESS_MODES = ("none", "mean", "flatfield", "both")


def axial_derivative(planes: np.ndarray, z_um: np.ndarray) -> np.ndarray:
    """dI/dz (µm⁻¹) as the least-squares slope over planes (Z, Y, X) at `z_um`.

    For symmetric planes ±Δz it is the central difference (I₊ − I₋)/(2Δz).
    """
    dz = np.asarray(z_um, dtype=float) - np.mean(z_um)
    if not np.dot(dz, dz) > 0:
        raise ValueError(f"dI/dz needs planes at two or more distinct z, got {np.asarray(z_um).tolist()}")
    return np.tensordot(dz / np.dot(dz, dz), np.asarray(planes, dtype=float), axes=1)


def _inverse_laplacian(shape: tuple[int, int], pixel_um: float, eps: float) -> np.ndarray:
    """Regularised inverse Laplacian L/(L² + ε) on an FFT grid (µm²); the mean mode is 0."""
    fy, fx = frequencies(shape, pixel_um)
    lap = -4 * np.pi**2 * (fx**2 + fy**2)
    return np.divide(lap, lap**2 + eps / pixel_um**4, out=np.zeros_like(lap), where=lap != 0)


def fft_solver(
    i0: np.ndarray,
    didz: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    eps: float = DEFAULT_EPS,
) -> np.ndarray:
    """Phase (rad, float64) from the in-focus intensity and dI/dz (µm⁻¹), periodic boundaries."""
    k = 2 * np.pi * medium_index / wavelength_um
    fy, fx = frequencies(i0.shape, pixel_um)
    dy, dx = 2j * np.pi * fy, 2j * np.pi * fx
    inv_lap = _inverse_laplacian(i0.shape, pixel_um, eps)
    psi = fft.fft2(-k * didz) * inv_lap
    floor = np.maximum(i0, 0.01 * i0.max())  # keeps dark pixels from blowing up ∇φ
    grad_y = fft.ifft2(dy * psi).real / floor
    grad_x = fft.ifft2(dx * psi).real / floor
    divergence = dy * fft.fft2(grad_y) + dx * fft.fft2(grad_x)
    return fft.ifft2(divergence * inv_lap).real


def dct_solver(
    i0: np.ndarray,
    didz: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    eps: float = DEFAULT_EPS,
) -> np.ndarray:
    """As `fft_solver` on the mirror-extended 2N×2N image (Neumann boundaries), cropped back."""
    ny, nx = i0.shape
    i0, didz = (np.pad(a, ((0, ny), (0, nx)), mode="symmetric") for a in (i0, didz))
    return fft_solver(i0, didz, pixel_um, wavelength_um, medium_index, eps)[:ny, :nx]


BASE_SOLVERS = {"fft": (fft_solver, "wrap"), "dct": (dct_solver, "symmetric")}


def simulated_derivative(
    i0: np.ndarray,
    phase: np.ndarray,
    z_um: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    pad_mode: str = "symmetric",
) -> np.ndarray:
    """dI/dz (µm⁻¹) that the field √I0·exp(iφ) would give, estimated at the planes `z_um`."""
    field = np.sqrt(np.clip(i0, 0, None)) * np.exp(1j * phase)
    planes = [
        np.abs(angular_spectrum(field, z, wavelength_um, pixel_um, medium_index, pad_mode=pad_mode)) ** 2
        for z in z_um
    ]
    return axial_derivative(np.stack(planes), z_um)


def iterative_solver(
    i0: np.ndarray,
    planes: np.ndarray,
    z_um: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    eps: float = DEFAULT_EPS,
    max_iter: int = 30,
    tol: float = 1e-3,
    base: str = "dct",
) -> np.ndarray:
    """Phase (rad) from planes (Z, Y, X) at `z_um` (relative to focus) by iterative TIE.

    Each step solves the TIE for a phase increment from the residual dI/dz (measured minus
    re-simulated by the angular spectrum at the same planes), so the finite-difference error
    and the Paganin–Nugent approximation of non-uniform intensity are corrected. Stops when the
    residual is below `tol` × the initial one or grows; returns the best phase. `base` picks the
    inner solver; the re-simulation pads the field with the boundary that solver assumes.
    """
    if base not in BASE_SOLVERS:
        raise ValueError(f"unknown base solver {base!r} for iterative TIE; choose fft or dct")
    solver, pad_mode = BASE_SOLVERS[base]
    args = (pixel_um, wavelength_um, medium_index)
    measured = axial_derivative(planes, z_um)
    phase = np.zeros(i0.shape)
    residual = measured - simulated_derivative(i0, phase, z_um, *args, pad_mode=pad_mode)
    initial = best = np.linalg.norm(residual)
    best_phase, iterations = phase, 0
    for iterations in range(1, max_iter + 1):
        phase = phase + solver(i0, residual, *args, eps=eps)
        residual = measured - simulated_derivative(i0, phase, z_um, *args, pad_mode=pad_mode)
        norm = np.linalg.norm(residual)
        if norm >= best:
            break
        best, best_phase = norm, phase
        if norm < tol * initial:
            break
    ratio = best / initial if initial > 0 else 0.0
    log.info("iterative TIE (%s): %d iterations, residual %.2e of initial", base, iterations, ratio)
    return best_phase


def _derivative_planes(z: np.ndarray, planes: list[float] | None) -> list[int]:
    """Indices of the planes for dI/dz: those in `planes` (µm), else all pairs ±z about focus."""
    listed = [float(v) for v in z]
    if planes is None:
        chosen = [i for i, v in enumerate(z) if abs(v) >= 1e-3 and np.any(np.abs(z + v) < 1e-3)]
    else:
        chosen = [i for p in planes for i in np.flatnonzero(np.abs(z - p) < 1e-3)[:1]]
        if len(chosen) != len(planes):
            raise StackError(
                f"TIE planes {list(planes)} µm are not all in the stack (z = {listed} µm); pick from those."
            )
    if np.unique(z[chosen]).size < 2:
        raise StackError(
            f"TIE needs planes at two distinct z for dI/dz, but found {[listed[i] for i in chosen]} µm "
            f"in a stack with z = {listed}; record planes symmetric about focus or pass `planes`."
        )
    return chosen


def solve(
    stack: Stack,
    method: str = "fft",
    eps: float | None = None,
    planes: list[float] | None = None,
    **kw,
) -> np.ndarray:
    """Phase (rad, float32 (Y, X), mean removed) of a through-focus stack by the TIE.

    I0 is the plane at z = 0 (or the mean of symmetric planes when there is none); dI/dz comes from the planes symmetric about it (all of them by
    default) or from the z values in `planes` (µm). `eps` is the dimensionless ε̃ (None: the
    default); extra keywords go to the solver (e.g. `max_iter`, `base` for "iterative").
    """
    if method not in METHODS:
        raise ValueError(f"unknown TIE method {method!r}; choose one of {', '.join(METHODS)}")
    z = np.asarray(stack.z_um, dtype=float)
    focus = np.flatnonzero(np.abs(z) < 1e-3)
    chosen = _derivative_planes(z, planes)
    data = np.asarray(stack.data, dtype=float)
    if focus.size:
        i0 = data[focus[0]]
    elif np.allclose(np.sort(z[chosen]), -np.sort(z[chosen])[::-1]):
        i0 = data[chosen].mean(axis=0)  # two-plane TIE: I0 ≈ mean of the symmetric planes
    else:
        raise StackError(
            f"TIE needs an in-focus plane at z = 0 µm or planes symmetric about it, but the stack has "
            f"z = {[float(v) for v in z]} µm; label the focus plane z = 0."
        )
    args = (stack.pixel_um, stack.wavelength_um, stack.medium_index)
    eps = DEFAULT_EPS if eps is None else eps
    if method == "iterative":
        phase = iterative_solver(i0, data[chosen], z[chosen], *args, eps=eps, **kw)
    else:
        solver = fft_solver if method == "fft" else dct_solver
        phase = solver(i0, axial_derivative(data[chosen], z[chosen]), *args, eps=eps, **kw)
    return (phase - phase.mean()).astype(np.float32)


def remove_background(phase: np.ndarray, bins: int = 256) -> np.ndarray:
    """Phase shifted so the background (the histogram's mode) is 0 rad.

    The mode is the tallest bin of a lightly smoothed histogram over the 0.5–99.5 % range,
    refined as the median of the values within two bins of it; it holds while objects cover
    less than about half of the field.
    """
    lo, hi = np.percentile(phase, [0.5, 99.5])
    if hi <= lo:
        return phase - lo
    counts, edges = np.histogram(phase, bins=bins, range=(lo, hi))
    peak = np.argmax(gaussian_filter1d(counts.astype(float), 1.0))
    width = edges[1] - edges[0]
    centre = 0.5 * (edges[peak] + edges[peak + 1])
    near = phase[np.abs(phase - centre) <= 2 * width]
    return phase - np.median(near)


def illumination_profile(data: np.ndarray, sigma_px: float | None = None) -> np.ndarray:
    """Smooth illumination (Y, X), mean 1, from the mean over the planes of a stack (Z, Y, X).

    Averaging through focus leaves little of a phase object, and a heavy Gaussian blur
    (default σ = 1/8 of the larger side) removes what is left. Odd reflection at the edges
    (linear extrapolation) keeps a sloped profile unbiased up to the border.
    """
    mean = np.asarray(data, dtype=float).mean(axis=0)
    sigma = max(mean.shape) / 8 if sigma_px is None else sigma_px
    margin = max(1, int(np.ceil(3 * sigma)))
    padded = np.pad(mean, margin, mode="reflect", reflect_type="odd")
    profile = gaussian_filter(padded, sigma, mode="nearest")[margin:-margin, margin:-margin]
    return profile / profile.mean()


def brightness_correct(
    data: np.ndarray, mode: str = "mean", flatfield_sigma_px: float | None = None
) -> np.ndarray:
    """Stack (Z, Y, X) with illumination and exposure differences removed (float32).

    "mean": DL-SRQPI's C = R·S̄/R̄, each plane rescaled so its mean is the mean over all planes
    (removes per-plane exposure gains); "flatfield": each plane divided by
    `illumination_profile`; "both": flat-field, then mean; "none": unchanged.
    """
    if mode not in BRIGHTNESS_MODES:
        choices = ", ".join(BRIGHTNESS_MODES)
        raise ValueError(f"unknown brightness correction {mode!r}; choose one of {choices}")
    out = np.asarray(data, dtype=float)
    if mode in ("flatfield", "both"):
        out = out / illumination_profile(out, flatfield_sigma_px)
    if mode in ("mean", "both"):
        means = out.mean(axis=(1, 2))
        out = out * (means.mean() / means)[:, None, None]
    return out.astype(np.float32)
