"""Pixel binning and the DL-SRQPI degradation (defocused plane → noisy, aliased low-res input)."""

from __future__ import annotations

import numpy as np


def bin_pixels(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor×factor blocks of the last two axes (edges that do not fill a block are cut)."""
    if factor == 1:
        return np.asarray(image, dtype=np.float64)
    *lead, h, w = image.shape
    h, w = h - h % factor, w - w % factor
    blocks = image[..., :h, :w].reshape(*lead, h // factor, factor, w // factor, factor)
    return blocks.mean(axis=(-3, -1))


def degrade(intensity: np.ndarray, factor: int, noise_sigma: float, rng: np.random.Generator,
            level: float | None = None) -> np.ndarray:
    """Low-resolution input: normalise to mean 1 (or to `level`: the mean inside a field stop), add Gaussian
    noise (σ on that scale), bin by `factor`."""
    normalised = intensity / (level or intensity.mean())
    noisy = normalised + noise_sigma * rng.standard_normal(normalised.shape)
    return bin_pixels(noisy, factor).astype(np.float32)


def upsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Cubic-spline interpolation of a 2-D image onto a grid `factor`× finer (pixel centres aligned)."""
    from scipy import ndimage

    h, w = image.shape
    # output pixel centres in input pixel coordinates: (i + 0.5)/f − 0.5
    y = (np.arange(h * factor) + 0.5) / factor - 0.5
    x = (np.arange(w * factor) + 0.5) / factor - 0.5
    yy, xx = np.meshgrid(y, x, indexing="ij")
    outside = ~np.isfinite(image)
    if outside.any():  # NaN outside a field stop: a spline through it would be NaN everywhere, so
        # extend the edge values outwards (nearest valid pixel) and put the NaN back afterwards
        nearest = ndimage.distance_transform_edt(outside, return_distances=False, return_indices=True)
        filled = ndimage.map_coordinates(image[tuple(nearest)], [yy, xx], order=3, mode="nearest")
        return np.where(np.repeat(np.repeat(outside, factor, 0), factor, 1), np.nan, filled).astype(np.float32)
    return ndimage.map_coordinates(image, [yy, xx], order=3, mode="nearest").astype(np.float32)
