"""Field stops: the aperture in the in-focus intensity, the region the light of every plane reaches,
and the flux across the aperture's edge that no phase inside explains."""

from __future__ import annotations

import numpy as np

FIELD_STOP_THRESHOLD = 0.1  # aperture = I0 ≥ 0.1·max I0 (Zhang et al. 2020)


def field_stop(i0: np.ndarray, threshold: float = FIELD_STOP_THRESHOLD, min_dark: float = 0.01) -> np.ndarray | None:
    """The aperture of a field stop in the in-focus intensity (True inside), or None without one.

    Inside is I0 ≥ `threshold`·max I0 (Zhang et al. 2020, `_lit`); the largest bright region is kept and its holes
    (absorbing debris, dark cells) filled. Light in all but `min_dark` of the frame: no field stop.
    """
    bright = _lit(np.asarray(i0), threshold)
    if bright.mean() > 1 - min_dark:
        return None
    from scipy import ndimage  # here: `qpi tie` on a frame without a field stop never needs it

    labels, count = ndimage.label(bright)
    if count > 1:
        bright = labels == 1 + np.argmax(ndimage.sum_labels(bright, labels, range(1, count + 1)))
    inside = ndimage.binary_fill_holes(bright)
    return None if inside.mean() > 1 - min_dark else inside


def _lit(plane: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels at `threshold` of the plane's maximum or more; the maximum is the 99.9th
    percentile, so a few hot pixels do not set it."""
    return plane >= threshold * np.percentile(plane, 99.9)


EDGE_STRIP_PX = 3  # where the light the field stop's edge diffracts out of the aperture is taken from


def _edge_flux(b: np.ndarray, inside: np.ndarray, field_stop: bool) -> np.ndarray:
    """The part of the TIE's right side that no phase inside a closed aperture can explain.

    With no flux across the edge, the right side must sum to zero over each region. What a
    field stop's own edge diffracts out (one-sided differences see it at second order, and it
    is not a phase) is taken from the strip along the edge where it arises; spread over the
    aperture it would bend the whole phase into a bowl (tens of rad on a real field). Without
    a field stop the imbalance is spread evenly (the usual Neumann compatibility condition).
    """
    from scipy import ndimage

    labels, count = ndimage.label(inside)
    index = np.arange(1, count + 1)
    where = inside & ~ndimage.binary_erosion(inside, iterations=EDGE_STRIP_PX) if field_stop else inside
    if not field_stop or not np.all(ndimage.sum_labels(where, labels, index) > 0):
        where = inside
    per_pixel = ndimage.sum_labels(b, labels, index) / ndimage.sum_labels(where, labels, index)
    return np.where(where, per_pixel[labels - 1], 0.0)


def lit_region(planes: np.ndarray, aperture: np.ndarray, threshold: float = 0.03, margin_px: int = 2) -> np.ndarray:
    """Where any plane (Z, Y, X) holds light (≥ `threshold` of its maximum), holes filled, with a
    margin, and the `aperture`: the region the TIE is solved in. Defocused planes spill a field
    stop's light past its edge; only around all of it is the no-flux edge condition exact."""
    from scipy import ndimage

    lit = np.logical_or.reduce([_lit(plane, threshold) for plane in planes])
    return ndimage.binary_fill_holes(ndimage.binary_dilation(lit, iterations=margin_px)) | aperture
