"""Brightness: per-plane exposure and flat-field correction of a stack before the TIE, and the
background level of a phase image after it."""

from __future__ import annotations

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
