"""Brightness: per-plane exposure and flat-field correction of a stack before the TIE, and the
background level of a phase image after it."""

from __future__ import annotations

import warnings

import numpy as np

BRIGHTNESS_MODES = ("none", "mean", "flatfield", "both")
BACKGROUND_SAMPLES = 2**20  # pixels the background level of a phase image is estimated from


def remove_background(phase: np.ndarray, bins: int = 256) -> np.ndarray:
    """Phase shifted so the background (the histogram's mode) is 0 rad.

    The mode is the tallest bin of a lightly smoothed histogram over the 0.5–99.5 % range,
    refined as the median of the values within two bins of it; it holds while objects cover
    less than about half of the field. NaN pixels (outside a field stop) are ignored and kept. Fields
    over `BACKGROUND_SAMPLES` pixels are estimated on every k-th row and column (the mode of a million
    values moves by far less than a bin).
    """
    step = max(int(np.ceil(np.sqrt(phase.size / BACKGROUND_SAMPLES))), 1)  # a large field: a regular subsample
    values = phase[::step, ::step]
    values = values[np.isfinite(values)]
    lo, hi = np.percentile(values, [0.5, 99.5])
    if hi <= lo:
        return phase - lo
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    peak = np.argmax(_smooth(counts.astype(float)))
    width = edges[1] - edges[0]
    centre = 0.5 * (edges[peak] + edges[peak + 1])
    near = values[np.abs(values - centre) <= 2 * width]
    return phase - np.median(near)


def _smooth(counts: np.ndarray, radius: int = 4) -> np.ndarray:
    """A Gaussian (σ 1 bin) smoothing of a histogram, mirrored at its ends: scipy's gaussian_filter1d
    without importing scipy.ndimage (a tenth of `qpi tie`'s start-up)."""
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * x**2)
    return np.convolve(np.pad(counts, radius, mode="symmetric"), kernel / kernel.sum(), mode="valid")


def lit_mean(image: np.ndarray) -> float:
    """The level an image is relative to: its mean inside a field stop's aperture (found in the image
    itself), else over the frame; a frame lit over more or less of its area then gives the same level."""
    from qpi.tie.fieldstop import field_stop

    inside = field_stop(image)
    return float(np.mean(image if inside is None else image[inside]))


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
    from scipy.ndimage import gaussian_filter

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


SURFACE_BLOCKS = 16  # blocks per side whose medians the smooth illumination surface is fitted to
SURFACE_DEGREE = 2   # vignetting about a centre plus a tilt: a quadric holds both
SIGNIFICANT = 4.0  # a surface is kept when it varies this much more than one fitted to the blocks' scatter would


def illumination_surface(image: np.ndarray, inside: np.ndarray | None = None, degree: int = SURFACE_DEGREE,
                         blocks: int = SURFACE_BLOCKS) -> np.ndarray:
    """Smooth illumination (Y, X), mean 1 inside, estimated from ONE image (or a plane mean) of a specimen.

    One defocused image gives no through-focus mean to blur (`illumination_profile`), and a blur narrow
    enough to follow vignetting also follows the cells. A low-order polynomial surface fitted to block
    medians does not: a median ignores the objects in a block unless they fill most of it, and a quadric
    cannot bend around a cell. Blocks with more than half their pixels outside `inside` (a field stop's
    aperture, True inside) are left out, and blocks far off the surface (3 robust σ) are dropped once and
    the surface refitted. A surface that varies no more than one fitted to the blocks' scatter alone would
    (`SIGNIFICANT`), or too few blocks to fit, gives no correction (ones). The surface is 1 outside `inside`.
    """
    image = np.asarray(image, dtype=float)
    h, w = image.shape
    inside = np.ones((h, w), bool) if inside is None else inside
    size = max(min(h, w) // blocks, 8)
    ny, nx = h // size, w // size
    cut = (slice(0, ny * size), slice(0, nx * size))

    def by_block(a: np.ndarray) -> np.ndarray:
        return a[cut].reshape(ny, size, nx, size).swapaxes(1, 2).reshape(ny, nx, -1)

    lit = by_block(inside).mean(axis=-1) > 0.5
    with warnings.catch_warnings():  # a block wholly outside the aperture has no median: NaN, left out
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(np.where(by_block(inside), by_block(image), np.nan), axis=-1)
    keep = lit & np.isfinite(medians)
    if keep.sum() < 2 * (degree + 1) * (degree + 2):  # too few blocks to fit a surface to: no correction
        return np.ones((h, w))
    cy, cx = np.meshgrid((np.arange(ny) + 0.5) * size, (np.arange(nx) + 0.5) * size, indexing="ij")
    coefficients = None
    for _ in range(2):
        basis = _monomials(cy[keep], cx[keep], h, w, degree)
        coefficients = np.linalg.lstsq(basis, medians[keep], rcond=None)[0]
        residual = medians - (_monomials(cy, cx, h, w, degree) @ coefficients).reshape(ny, nx)
        spread = 1.4826 * np.median(np.abs(residual[keep])) + 1e-12
        keep = keep & (np.abs(residual) <= 3 * spread)
    fitted = (_monomials(cy[keep], cx[keep], h, w, degree) @ coefficients)
    if np.var(fitted) <= SIGNIFICANT * spread**2 * (len(coefficients) - 1) / keep.sum():
        return np.ones((h, w))  # no more variation than the blocks' own scatter would fit: nothing to correct
    yy, xx = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
    surface = (_monomials(yy.ravel(), xx.ravel(), h, w, degree) @ coefficients).reshape(h, w)
    surface = np.clip(surface, 1e-3 * np.abs(surface[inside]).max(), None)
    return np.where(inside, surface / surface[inside].mean(), 1.0)


def _monomials(y: np.ndarray, x: np.ndarray, h: int, w: int, degree: int) -> np.ndarray:
    """yᵃxᵇ (a + b ≤ degree) of pixel coordinates scaled to [−1, 1], one column each."""
    y, x = 2 * np.ravel(y) / h - 1, 2 * np.ravel(x) / w - 1
    return np.stack([y**a * x**b for a in range(degree + 1) for b in range(degree + 1 - a)], axis=1)
