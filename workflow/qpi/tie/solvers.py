"""The TIE solvers (FFT, DCT, aperture, iterative), dI/dz, and `solve`, which picks planes, I0 and solver for a stack.

TIE: −k·∂I/∂z = ∇·(I∇φ), k = 2πn/λ (lengths in µm, phase in radians). The solvers use the
Paganin–Nugent form with spectral derivatives:

    J = −k·∂I/∂z,  ψ = ∇⁻²J,  ∇φ = ∇ψ / max(I0, 0.01·max I0),  φ = ∇⁻²(∇·∇φ),

where ∇⁻² is the Tikhonov-regularised inverse Laplacian L/(L² + ε), L(f) = −4π²|f|² (µm⁻²).
`eps` is given dimensionless, ε̃ = ε·px⁴ (ε for frequencies counted in cycles per pixel, so
the same value suits any pixel size); the kernel uses ε = ε̃ / pixel_um⁴ in µm⁻⁴.
ε̃ halves the response at spatial periods of 2π/ε̃^¼ pixels and suppresses longer ones: ε̃ ≈ 1e-9…1e-8
(≈ 1100…630 px) suits 12- and 8-bit cameras, 1e-15 (≈ 35 000 px) leaves noiseless simulations unbiased;
`eps="auto"` chooses it from the planes' noise (`qpi.tie.noise`).
"""

from __future__ import annotations

import logging
import os

import ducc0.fft
import numpy as np

from qpi.core.errors import StackError
from qpi.io.stack import FOCUS_TOL_UM, Stack, format_z
from qpi.optics.propagation import angular_spectrum, frequencies
from qpi.tie.fieldstop import _edge_flux, field_stop, lit_region
from qpi.tie.noise import NOISELESS_EPS, noise_eps

log = logging.getLogger("qpi.tie")  # the name its messages have always carried (log lines show it)

DEFAULT_EPS = NOISELESS_EPS  # a solver called without `eps`
METHODS = ("auto", "fft", "dct", "aperture", "iterative")  # auto: aperture inside a field stop, else dct


def axial_derivative(planes: np.ndarray, z_um: np.ndarray) -> np.ndarray:
    """dI/dz (µm⁻¹) as the least-squares slope over planes (Z, Y, X) at `z_um`.

    For symmetric planes ±Δz it is the central difference (I₊ − I₋)/(2Δz). Float32 planes give a
    float32 derivative, anything else float64.
    """
    dz = np.asarray(z_um, dtype=float) - np.mean(z_um)
    if not np.dot(dz, dz) > 0:
        raise ValueError(f"dI/dz needs planes at two or more distinct z, got {np.asarray(z_um).tolist()}")
    planes = np.asarray(planes)
    dtype = np.float32 if planes.dtype == np.float32 else np.float64
    return np.tensordot((dz / np.dot(dz, dz)).astype(dtype), planes.astype(dtype, copy=False), axes=1)


def _set_up(
    i0: np.ndarray, lap: np.ndarray, pixel_um: float, wavelength_um: float, medium_index: float, eps: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """What the frame solvers start from: k = 2πn/λ (rad/µm), the regularised inverse L/(L² + ε) of
    their grid's Laplacian `lap` (µm², in `lap`'s precision; the mean mode is 0) and the floored I0."""
    k = 2 * np.pi * medium_index / wavelength_um
    inv_lap = np.divide(lap, lap**2 + lap.dtype.type(eps / pixel_um**4), out=np.zeros_like(lap), where=lap != 0)
    floor = np.maximum(i0, 0.01 * i0.max())  # keeps dark pixels from blowing up ∇φ
    return k, inv_lap, floor


def fft_solver(
    i0: np.ndarray,
    didz: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    eps: float = DEFAULT_EPS,
    workers: int = 1,
) -> np.ndarray:
    """Phase (rad, float64) from the in-focus intensity and dI/dz (µm⁻¹), periodic boundaries."""
    fy, fx = frequencies(i0.shape, pixel_um)
    dy, dx = 2j * np.pi * fy, 2j * np.pi * fx
    k, inv_lap, floor = _set_up(i0, -4 * np.pi**2 * (fx**2 + fy**2), pixel_um, wavelength_um, medium_index, eps)
    psi = _fft2(-k * didz, workers) * inv_lap
    grad_y = _fft2(dy * psi, workers, inverse=True).real / floor
    grad_x = _fft2(dx * psi, workers, inverse=True).real / floor
    divergence = dy * _fft2(grad_y, workers) + dx * _fft2(grad_x, workers)
    return _fft2(divergence * inv_lap, workers, inverse=True).real


def dct_solver(
    i0: np.ndarray,
    didz: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    eps: float = DEFAULT_EPS,
    workers: int = 1,
) -> np.ndarray:
    """As `fft_solver` with mirror (Neumann) boundaries: the FFT solution of the mirror-extended 2N×2N
    image, computed on the N×N grid by real transforms. ψ is a cosine series (DCT-II), its gradient
    along an axis a sine series there (DST-II, wavenumbers shifted by one), and the divergence back a
    cosine series; a quarter of the pixels and real arithmetic, in float32 (phase error ~1e-6 rad)."""
    wavenumbers = [(np.pi * np.arange(n) / (n * pixel_um)).astype(np.float32) for n in i0.shape]  # rad/µm, m = 0…N−1
    lap = -np.add.outer(wavenumbers[0] ** 2, wavenumbers[1] ** 2)
    k, inv_lap, floor = _set_up(i0, lap, pixel_um, wavelength_um, medium_index, eps)
    psi = _dct(np.float32(-k) * np.asarray(didz, np.float32), (0, 1), workers) * inv_lap
    floor = floor.astype(np.float32)
    divergence = np.zeros_like(psi)
    for axis, kw in enumerate(wavenumbers):
        kw = np.expand_dims(kw.astype(np.float32), 1 - axis)
        # d/dx cos(k x) = −k sin(k x): cosine mode m becomes sine mode m, stored at DST index m − 1
        sine = np.roll(-kw * psi, -1, axis=axis)
        gradient = _dct(_dst(sine, (axis,), workers, inverse=True), (1 - axis,), workers, inverse=True) / floor
        # d/dx sin(k x) = k cos(k x): sine mode m (index m − 1) becomes cosine mode m; mode N has no cosine
        cosine = np.roll(_dct(_dst(gradient, (axis,), workers), (1 - axis,), workers), 1, axis=axis) * kw
        divergence += cosine
    return _dct(divergence * inv_lap, (0, 1), workers, inverse=True)


# The transforms, from ducc0 (pocketfft's own package, the code inside scipy.fft): scipy.fft's array-API
# layer costs a `qpi tie` process 0.2–0.4 s of import and first call, as long as the whole solve.
def _threads(workers: int) -> int:
    """Threads for `workers` (-1: every core this process may use)."""
    if workers > 0:
        return workers
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _dct(a: np.ndarray, axes: tuple[int, ...], workers: int, inverse: bool = False) -> np.ndarray:
    """DCT-II along `axes`, unnormalised (scipy.fft.dct's convention), or its exact inverse."""
    return ducc0.fft.dct(a, type=3 if inverse else 2, axes=axes, inorm=2 if inverse else 0, nthreads=_threads(workers))


def _dst(a: np.ndarray, axes: tuple[int, ...], workers: int, inverse: bool = False) -> np.ndarray:
    """DST-II along `axes`, unnormalised (scipy.fft.dst's convention), or its exact inverse."""
    return ducc0.fft.dst(a, type=3 if inverse else 2, axes=axes, inorm=2 if inverse else 0, nthreads=_threads(workers))


def _fft2(a: np.ndarray, workers: int, inverse: bool = False) -> np.ndarray:
    """The 2-D FFT (numpy's convention: the inverse divides by the size) of real or complex `a`."""
    return ducc0.fft.c2c(a, axes=(0, 1), forward=not inverse, inorm=2 if inverse else 0, nthreads=_threads(workers))


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
    field = np.sqrt(np.clip(i0, 0, None)) * np.exp(1j * np.nan_to_num(phase))
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
    mask: np.ndarray | None = None,
    workers: int = 1,
) -> np.ndarray:
    """Phase (rad) from planes (Z, Y, X) at `z_um` (relative to focus) by iterative TIE.

    Each step solves the TIE for a phase increment from the residual dI/dz (measured minus
    re-simulated by the angular spectrum at the same planes), so the finite-difference error
    and the Paganin–Nugent approximation of non-uniform intensity are corrected. Inside a field
    stop (`mask`) the residual counts inside the aperture only and the increments come from
    `aperture_solver` (NaN outside), as in the universal TIE solution (Zhang, Zuo et al. 2020).
    The first step is the base solver's answer; later steps are kept while the residual falls.
    Stops below `tol` × the initial residual, when the residual grows, or at `max_iter`, and
    logs which. `base` picks the inner solver without a mask.
    """
    if mask is not None:
        base = "aperture"
    elif base not in BASE_SOLVERS:
        raise ValueError(f"unknown base solver {base!r} for iterative TIE; choose fft or dct")
    solver, pad_mode = (aperture_solver, "symmetric") if base == "aperture" else BASE_SOLVERS[base]
    inside = np.ones(i0.shape, bool) if mask is None else np.asarray(mask, bool)
    extra = {"mask": mask, "workers": workers} if base == "aperture" else {"workers": workers}
    args = (pixel_um, wavelength_um, medium_index)

    def residual(phase):
        r = measured - simulated_derivative(i0, phase, z_um, *args, pad_mode=pad_mode)
        return np.where(inside, r, 0.0)

    measured = axial_derivative(planes, z_um)
    phase = np.zeros(i0.shape)
    r = residual(phase)
    initial = np.linalg.norm(r)
    best, best_phase = np.inf, phase
    reason, iterations = f"reached max_iter = {max_iter}", 0
    for iterations in range(1, max_iter + 1):
        phase = phase + np.nan_to_num(solver(i0, r, *args, eps=eps, **extra))
        r = residual(phase)
        norm = np.linalg.norm(r)
        if norm >= best:
            reason = f"residual grew at iteration {iterations}; kept iteration {iterations - 1}"
            break
        best, best_phase = norm, phase
        if norm < tol * initial:
            reason = f"converged (residual below {tol:g} of the initial)"
            break
    ratio = best / initial if initial > 0 else 0.0
    log.info("iterative TIE (%s): %s; residual %.2e of initial", base, reason, ratio)
    return np.where(inside, best_phase, np.nan) if mask is not None else best_phase


INTENSITY_FLOOR = 0.1  # of max I0: the conductance floor in the spill past a stop (0.01: 3× the iterations, same phase)


def aperture_solver(
    i0: np.ndarray,
    didz: np.ndarray,
    pixel_um: float,
    wavelength_um: float,
    medium_index: float = 1.0,
    eps: float = DEFAULT_EPS,
    mask: np.ndarray | None = None,
    max_iter: int = 300,
    tol: float = 1e-4,
    workers: int = 1,
) -> np.ndarray:
    """Phase (rad) inside an aperture of any shape (`mask`, True inside; None: the whole frame), NaN outside.

    Solves the TIE ∇·(I0∇φ) = −k·∂I/∂z as it stands (no Paganin–Nugent split, so non-uniform
    intensity is exact) with no flux across the aperture's edge, where the light ends: 5-point
    differences whose conductance between two pixels is their mean I0, none across the edge. The
    solver is conjugate gradients preconditioned by the uniform-intensity TIE (a DCT Poisson solve,
    exact where I0 is uniform) — the Krylov form of the universal TIE solution's loop (Zhang, Zuo
    et al. 2020), which re-solves the uniform-intensity TIE on the residual of the forward model.
    `eps` is the FFT solvers' ε̃, applied as a screening term √ε̃·Ī/px² that halves the response at
    the same long periods. Stops when the residual falls below `tol` of the initial (converged), at
    `max_iter`, or after it has not improved for 10 iterations; logs which, returns the best iterate.
    `workers`: threads of the DCTs (-1: every core, as `qpi tie`; a pipeline job has one).
    """
    inside = np.ones(i0.shape, bool) if mask is None else np.asarray(mask, bool)
    if inside.shape != i0.shape or not inside.any():
        raise ValueError(f"the aperture mask {inside.shape} must match I0 {i0.shape} and hold pixels")
    rows, cols = (np.flatnonzero(inside.any(axis=a)) for a in (1, 0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # work on the aperture's bounding box
    sub = inside[box]
    # floored (as the FFT solvers floor I0): a dark pixel the defocused planes light must still conduct
    intensity = np.where(sub, np.maximum(i0[box], INTENSITY_FLOOR * i0[box][sub].max()), 0.0)
    cx = 0.5 * (intensity[:, 1:] + intensity[:, :-1]) * (sub[:, 1:] & sub[:, :-1])
    cy = 0.5 * (intensity[1:] + intensity[:-1]) * (sub[1:] & sub[:-1])
    mean_i = float(intensity[sub].mean())
    screen = np.sqrt(eps) * mean_i * sub  # in pixel units, as the whole system
    k = 2 * np.pi * medium_index / wavelength_um
    b = np.where(sub, k * pixel_um**2 * didz[box], 0.0)
    b -= _edge_flux(b, sub, mask is not None)

    ny, nx = sub.shape
    eig = (2 - 2 * np.cos(np.pi * np.arange(ny) / ny))[:, None] + (2 - 2 * np.cos(np.pi * np.arange(nx) / nx))
    denom = mean_i * (eig + np.sqrt(eps))
    inverse = np.divide(1.0, denom, out=np.zeros_like(denom), where=denom > 0).astype(np.float32)

    def precondition(r):  # float32 transforms: twice as fast, and a preconditioner need not be exact
        c = _dct(r.astype(np.float32), (0, 1), workers) * inverse
        return np.where(sub, _dct(c, (0, 1), workers, inverse=True), 0.0)

    def operator(phi):  # −∇·(I0∇φ) + screening, pixel units
        gx, gy = cx * np.diff(phi, axis=1), cy * np.diff(phi, axis=0)
        out = screen * phi
        out[:, :-1] -= gx
        out[:, 1:] += gx
        out[:-1] -= gy
        out[1:] += gy
        return out

    x = np.zeros_like(b)
    r = b.copy()
    z = precondition(r)
    p, rz = z.copy(), float(np.vdot(r, z))
    initial = best = float(np.linalg.norm(b))
    best_x, stale, it = x, 0, 0
    reason = f"reached max_iter = {max_iter}" if initial > 0 else "no signal (dI/dz is zero inside the aperture)"
    for it in range(1, (max_iter if initial > 0 else 0) + 1):
        ap = operator(p)
        alpha = rz / float(np.vdot(p, ap))
        x = x + alpha * p
        r -= alpha * ap
        norm = float(np.linalg.norm(r))
        if norm < best:
            best, best_x, stale = norm, x, 0
        else:
            stale += 1
        if norm <= tol * initial:
            reason = f"converged (residual below {tol:g} of the initial)"
            break
        if stale >= 10:
            reason = "residual stopped falling for 10 iterations"
            break
        z = precondition(r)
        rz_new = float(np.vdot(r, z))
        p = z + (rz_new / rz) * p
        rz = rz_new
    log.info("aperture TIE: %d iterations, %s; residual %.1e of initial; aperture %.0f%% of the frame",
             it, reason, best / initial if initial else 0.0, 100 * inside.mean())
    phase = np.full(i0.shape, np.nan)
    phase[box] = np.where(sub, best_x, np.nan)
    return phase


def _derivative_planes(z: np.ndarray, planes: list[float] | None) -> list[int]:
    """Indices of the planes for dI/dz: those at the z values in `planes` (µm), else every plane."""
    listed = format_z(z)
    if planes is None:
        chosen = list(range(z.size))
    else:
        chosen = [i for p in planes for i in np.flatnonzero(np.abs(z - p) < FOCUS_TOL_UM)[:1]]
        if len(chosen) != len(planes):
            missing = [float(p) for p in planes if not np.any(np.abs(z - p) < FOCUS_TOL_UM)]
            raise StackError(
                f"TIE planes {format_z(planes)} µm: {format_z(missing)} not in the stack (z = {listed} µm); "
                "choose from those with --planes (qpi tie) or the tie_planes_um column of the sample sheet."
            )
    if np.unique(np.round(z[chosen], 3)).size < 2:
        found = format_z(z[chosen]) if chosen else "none"
        raise StackError(
            f"TIE needs planes at two or more distinct z for dI/dz, but the planes chosen are {found} µm "
            f"(the stack has z = {listed} µm); choose at least two with --planes (qpi tie) or the "
            "tie_planes_um column of the sample sheet."
        )
    return chosen


def in_focus(stack: Stack, chosen: list[int]) -> np.ndarray:
    """I0: the plane at z = 0, else the mean of symmetric planes (two-plane TIE about focus)."""
    z = np.asarray(stack.z_um, dtype=float)
    focus = np.flatnonzero(np.abs(z) < FOCUS_TOL_UM)
    data = np.asarray(stack.data)
    if focus.size:
        return data[focus[0]].astype(float)
    if np.allclose(np.sort(z[chosen]), -np.sort(z[chosen])[::-1]):
        return data[chosen].mean(axis=0, dtype=float)
    raise StackError(
        f"TIE needs an in-focus plane at z = 0 µm or planes symmetric about it, but the stack has "
        f"z = {format_z(z)} µm; label the focus plane z = 0."
    )


def describe(phase: np.ndarray, method: str) -> tuple[str, dict]:
    """The solver a phase from `solve(method=...)` came from and the metadata its TIFF carries:
    where it is NaN (outside a field stop) and how much of the frame the aperture holds."""
    inside = np.isfinite(phase)
    if inside.all():
        return resolve_method(method, None), {}
    note = {"outside_aperture": f"NaN outside the field stop (aperture {inside.mean():.1%} of the frame)",
            "aperture_fraction": round(float(inside.mean()), 4)}
    return resolve_method(method, inside), note


def resolve_method(method: str, field_stop: np.ndarray | None) -> str:
    """The solver `auto` stands for: the aperture solver inside a field stop, else DCT."""
    if method != "auto":
        return method
    return "aperture" if field_stop is not None else "dct"


def regularisation(
    stack: Stack,
    eps: float | str | None = "auto",
    planes: list[float] | None = None,
    mask: np.ndarray | None | str = "detect",
) -> float:
    """The ε̃ `solve` uses with these arguments: a number as given, None the noiseless floor, "auto" the
    one the noise of the TIE's planes asks for (`qpi.tie.noise`; inside the field stop if there is one)."""
    chosen = _derivative_planes(np.asarray(stack.z_um, dtype=float), planes)
    if isinstance(mask, str) and eps == "auto":
        mask = aperture(stack, planes)
    return _eps(stack, chosen, mask, eps)


def aperture(stack: Stack, planes: list[float] | None = None) -> np.ndarray | None:
    """The field stop `solve(mask="detect")` finds in the in-focus intensity of these planes, or None:
    found once, it can be given to `regularisation`, `solve` and `quality.label_quality` alike."""
    return field_stop(in_focus(stack, _derivative_planes(np.asarray(stack.z_um, dtype=float), planes)))


def _eps(stack: Stack, chosen: list[int], mask: np.ndarray | None, eps: float | str | None) -> float:
    if eps is None:
        return DEFAULT_EPS
    if eps != "auto":
        return float(eps)
    z = np.asarray(stack.z_um, dtype=float)[chosen]
    value, sigma = noise_eps(np.asarray(stack.data)[chosen], z, stack.pixel_um, stack.wavelength_um,
                             stack.medium_index, region=mask)
    log.info("TIE regularisation ε̃ = %.1e from the planes' noise (%.2f%% of the mean intensity per pixel)",
             value, 100 * sigma)
    return value


def solve(
    stack: Stack,
    method: str = "auto",
    eps: float | str | None = None,
    planes: list[float] | None = None,
    mask: np.ndarray | None | str = "detect",
    workers: int = 1,
    **kw,
) -> np.ndarray:
    """Phase (rad, float32 (Y, X), mean removed) of a through-focus stack by the TIE.

    I0 is the plane at z = 0 (or the mean of symmetric planes when there is none); dI/dz is the
    least-squares slope over every plane, or over the planes at the z values in `planes` (µm):
    the forward or backward difference for two planes, the central one for a symmetric pair.
    `mask` is the field stop (True inside): "detect" finds it in I0 (`field_stop`), None means
    the whole frame. Inside a field stop the aperture-aware solvers write NaN outside it; the
    frame-filling FFT/DCT solvers do not know it and fill the frame. `method` "auto" picks
    `aperture` when there is a field stop, else `dct`. `eps` is the dimensionless ε̃, "auto" (from
    the planes' noise: `regularisation`) or None (the noiseless floor); `workers` the solvers' FFT
    threads; extra keywords go to the solver (e.g. `max_iter`, `base`).
    """
    if method not in METHODS:
        raise ValueError(f"unknown TIE method {method!r}; choose one of {', '.join(METHODS)}")
    z = np.asarray(stack.z_um, dtype=float)
    chosen = _derivative_planes(z, planes)
    i0 = in_focus(stack, chosen)
    if isinstance(mask, str):
        mask = field_stop(i0)
    eps = _eps(stack, chosen, mask, eps)
    method = resolve_method(method, mask)
    # the DCT solver runs in float32; the others refine or iterate in float64
    data = np.asarray(stack.data[chosen], dtype=np.float32 if method == "dct" else float)
    args = (stack.pixel_um, stack.wavelength_um, stack.medium_index)
    in_aperture = mask is not None and method in ("aperture", "iterative")
    if in_aperture:
        # all the light is in the frame: equal energy in every plane (lamp flicker, exposure aside),
        # and no flux across the edge of the region any plane lights (the stop's spill included)
        data = data * (i0.sum() / data.sum(axis=(1, 2)))[:, None, None]
        kw["mask"] = lit_region(data, mask)
    if method == "iterative":
        phase = iterative_solver(i0, data, z[chosen], *args, eps=eps, workers=workers, **kw)
    elif method == "aperture":
        phase = aperture_solver(i0, axial_derivative(data, z[chosen]), *args, eps=eps, workers=workers, **kw)
    else:
        phase = BASE_SOLVERS[method][0](i0, axial_derivative(data, z[chosen]), *args, eps=eps, workers=workers, **kw)
    if in_aperture:
        phase = np.where(mask, phase, np.nan)
    return (phase - np.nanmean(phase)).astype(np.float32)
