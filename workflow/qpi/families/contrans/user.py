"""ContransGAN on a researcher's files, as the paper's experiment: low-NA bright-field images (the
sheet's `lowres` rows, one condition per `objective` label) are domain A, the high-NA stacks' phase
labels (each stack's whole-field TIE, binned to the HR grid, or its measured phase) domain B.

Training is truly unpaired: each training field gives one domain only (a field with a low-NA image
and a stack gives one or the other, alternately), so no field of view is in both. Test fields hold
both: the low-NA image is registered onto its stack's grid (scale from the pixel sizes, position by
normalised cross-correlation with the stack's planes, sub-pixel shift by phase correlation), cropped
to the stack's field and cut into the same tiles as the label, and the residual shift is logged.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from qpi.core.errors import StackError
from qpi.optics.binning import bin_pixels
from qpi.training.patches import split_fields

SPECIMEN = "user"  # the specimen wildcard of a lab's fields
DOMAINS = ("a", "b")  # a training field's domain: its low-NA image (A) or its stack's label (B)
MIN_CORRELATION = 0.3  # a registration whose peak is lower is no match: one sentence, not a silent misfit
# A tile whose intensity std is within 30 % of the camera's noise holds nothing else: the std of a
# noise-only tile of n pixels scatters by 1/√(2n) (9 % at 8² pixels, 3.5 % at 20²). Measured on 10×/0.25
# frames of cells: empty tiles 0.92–1.13× the noise, tiles with cells 1.4–4.3×.
EMPTY_TILE_NOISE = 1.3


def objectives(images: dict[str, dict]) -> dict[str, list[str]]:
    """{objective label: its low-NA rows' names}."""
    out: dict[str, list[str]] = {}
    for name, row in sorted(images.items()):
        if row["kind"] == "lowres":
            out.setdefault(row["objective"], []).append(name)
    return out


def split(images: dict[str, dict], stack_fields: dict[str, dict], test: float, seed: int) -> dict[str, str]:
    """Each field's part: "test" (fields with a low-NA image and a stack; the sheet's split column pins
    them), else its training domain "a" (low-NA image) or "b" (stack label); a training field with both
    gives one, alternately in name order, so the domains never share a field. One sentence (ValueError)
    when there is no test field or a domain stays empty."""
    lowres = {r["field"] for r in images.values() if r["kind"] == "lowres"}
    both = sorted(lowres & set(stack_fields))
    pinned = {f: r["split"] for f, r in stack_fields.items() if f in both and r["split"]}
    pinned = {f: "test" if s == "test" else "train" for f, s in pinned.items()}
    if not both:
        raise ValueError("ContransGAN: no field has both a low-NA image and a stack, so nothing can be tested; "
                         "give some low-NA rows the field of a stack, or leave contrans out of `families`")
    if len(both) == 1:
        parts = {both[0]: "test"}
    else:
        try:
            parts = split_fields(both, 0.0, test, seed, pinned)
        except ValueError as err:
            raise ValueError(f"ContransGAN: {err}") from None
    training = sorted(f for f, part in parts.items() if part != "test")
    out = {f: "test" for f, part in parts.items() if part == "test"}
    out.update({f: DOMAINS[i % 2] for i, f in enumerate(training)})
    out.update({f: "a" for f in lowres - set(both)})
    out.update({f: "b" for f in set(stack_fields) - set(both)})
    for domain, what in (("a", "a low-NA image"), ("b", "a stack")):
        if domain not in out.values():
            raise ValueError(f"ContransGAN: no training field gives {what} (domain {domain.upper()}); unpaired "
                             "training needs fields of each kind beside the test fields: record more fields, or "
                             "leave contrans out of `families`")
    return dict(sorted(out.items()))


def holds_specimen(tiles: np.ndarray, noise: float) -> np.ndarray:
    """Which low-NA tiles (N, ..., T, T) show more than camera noise of σ `noise` (relative intensity):
    domain A's counterpart of domain B's phase-span test, for images without a phase."""
    return tiles.reshape(len(tiles), -1).std(axis=1) > EMPTY_TILE_NOISE * noise


def register(lowres: np.ndarray, factor: int, references: np.ndarray, name: str, field: str) -> tuple[np.ndarray, dict]:
    """A low-NA image (h, w) registered onto the grid of its field's stack planes `references` (Z, H, W;
    H and W multiples of `factor`, the stack pixels per low-NA pixel): the low-NA image shifted
    (sub-pixel) and cropped to the stack's field, (H/factor, W/factor) low-NA pixels; and what was found:
    `offset_px` (the field's first stack pixel in the low-NA frame, in stack pixels), `plane` (the best
    matching plane's index), `correlation` (its normalised peak) and `residual_px` (the shift left).

    The planes are binned onto the low-NA grid and located by normalised cross-correlation (the plane
    that matches best: a low-NA image is often a little defocused), then refined by phase correlation."""
    from skimage.feature import match_template
    from skimage.registration import phase_cross_correlation

    image = np.asarray(lowres, float)
    coarse = [bin_pixels(np.asarray(plane, float), factor) for plane in references]
    height, width = coarse[0].shape
    if image.shape[0] < height or image.shape[1] < width:
        raise StackError(f"{name}: its low-NA frame covers {image.shape[0]}×{image.shape[1]} pixels, less than "
                         f"the field {field}'s stack ({height}×{width} of them); record the low-NA image over the "
                         "whole field of its stack.")
    best = None
    for index, plane in enumerate(coarse):
        match = match_template(image - image.mean(), plane - plane.mean())
        y, x = np.unravel_index(int(np.argmax(match)), match.shape)
        if best is None or match[y, x] > best[0]:
            best = (float(match[y, x]), index, int(y), int(x))
    correlation, index, y, x = best
    if correlation < MIN_CORRELATION:
        raise StackError(f"{name}: no part of the low-NA image matches the stack of its field {field} (best "
                         f"correlation {correlation:.2f}, at least {MIN_CORRELATION} needed); check that both rows "
                         "show the same field (the sheet's field column) and their pixel sizes.")
    reference = coarse[index]
    shift, _, _ = phase_cross_correlation(reference, image[y : y + height, x : x + width], upsample_factor=20)
    start = np.clip(np.array([y, x], float) - shift, 0, np.subtract(image.shape, (height, width)))
    whole = np.floor(start).astype(int)
    moved = ndimage.shift(image, -(start - whole), order=3, mode="nearest")  # the fraction of a pixel, then whole ones
    crop = moved[whole[0] : whole[0] + height, whole[1] : whole[1] + width]
    residual, _, _ = phase_cross_correlation(reference, crop, upsample_factor=20)
    info = {"offset_px": (start * factor).round(2).tolist(), "plane": index, "correlation": round(correlation, 3),
            "residual_px": (np.asarray(residual) * factor).round(2).tolist()}
    return crop.astype(np.float32), info
