"""What every family's model card is made of, and reading `qpi predict`'s input files as a card says.

Lengths in µm, phase in rad. The families' `family.py` modules build their cards and input
preparation from these pieces, so every card says optics, tiling and pixel sizes the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qpi import io
from qpi.training.evaluate import default_overlap

PIXEL_TOLERANCE = 0.02  # relative pixel-size mismatch accepted between an input file and the card


def optics(scope: dict) -> dict:
    """The microscope keys a card gives, with the pixel size in the sample plane."""
    keys = ("wavelength_um", "na", "magnification", "coherence")
    return {**{k: scope[k] for k in keys if k in scope}, "pixel_um": scope["camera_pixel_um"] / scope["magnification"]}


def tiles(tile_px: int, overlap_px: int | None = None) -> dict:
    """How `qpi predict` tiles a full field: the network's training size on its input grid (the smallest
    tile; `evaluate.tiled_predict` grows tiles where the output ignores the tile) and the blended overlap."""
    return {"tile_px": tile_px, "overlap_px": default_overlap(tile_px) if overlap_px is None else overlap_px}


def phase(pixel_um: float | None, **extra) -> dict:
    """A phase output channel."""
    return {"quantity": "phase", "unit": "rad", "pixel_um": pixel_um, **extra}


def relative(image: np.ndarray, normalise: bool) -> np.ndarray:
    """Each plane over its mean (`--normalise mean`: raw counts → relative to the field), or as given."""
    return image / image.mean(axis=(-2, -1), keepdims=True) if normalise else image


def read_input(path: Path, card: dict, pixel_um: float | None) -> tuple[np.ndarray, float | None]:
    """One 2-D input image and its pixel size (the file's, `pixel_um`, else the card's), checked."""
    image, meta = io.read_image(path)
    if not np.isfinite(image).all() or min(image.shape) < 8:
        raise io.StackError(f"{path}: a {image.shape[0]}×{image.shape[1]} image with "
                            f"{int((~np.isfinite(image)).sum())} non-finite pixels; give a finite image of at "
                            "least 8×8 pixels.")
    expected = card["inputs"].get("pixel_um")
    pixel = pixel_um or meta.get("pixel_um") or expected
    check_pixel(str(path), pixel, expected)
    return image, pixel


def check_pixel(where: str, found: float | None, expected: float | None) -> None:
    """One sentence when an input's pixels differ from those the network was trained on."""
    if found and expected and abs(found / expected - 1) > PIXEL_TOLERANCE:
        raise io.StackError(f"{where}: pixels of {found:g} µm, but the network was trained on {expected:g} µm "
                            f"pixels; resample the image to {expected:g} µm (or give --pixel-um if the file's "
                            "calibration is wrong).")


def named_channels(y: np.ndarray, card: dict) -> dict[str, np.ndarray]:
    """The output channels (C', H, W) by the quantities the card names, checked against each other."""
    names = [c["quantity"] for c in card["outputs"].get("channels", [{"quantity": "phase"}])]
    if len(names) != len(y):
        raise io.StackError(f"the network gives {len(y)} channels where its card names {names}; the model file is "
                            "inconsistent: re-run its training job.")
    return dict(zip(names, y))
