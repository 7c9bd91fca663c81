"""What every family's model card is made of, and reading `qpi predict`'s input files as a card says.

Lengths in µm, phase in rad. The families' `family.py` modules build their cards and input
preparation from these pieces, so every card says optics, tiling and pixel sizes the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from qpi import io
from qpi.training.evaluate import default_overlap
from qpi.training.tiles import relative

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


ILLUMINATION = ("divided out", "kept")  # what training did with the microscope's smooth illumination


def illumination(config: dict, from_corrected_stacks: bool = True) -> str:
    """What a network's training inputs had of the smooth illumination: simulated inputs are relative to the
    empty field, and a sample sheet's stacks flat-fielded by `correction.mode` flatfield/both lose it;
    otherwise (a sheet's stacks rescaled by their means only, its speckle and low-NA images) it was kept."""
    if config.get("data") != "user":
        return "divided out"
    flat = from_corrected_stacks and config["correction"]["mode"] in ("flatfield", "both")
    return "divided out" if flat else "kept"


@dataclass
class Given:
    """What a `qpi predict` user gave beside the input files: values over the files' metadata."""

    z_um: list[float] | None = None
    pixel_um: float | None = None
    normalise: bool = True  # raw camera counts; False: already relative to the empty field
    flat: Path | None = None  # an empty-field image of the same camera and optics


@dataclass
class Prepared:
    """A network input prepared from the user's files, and what preparing it assumed."""

    x: np.ndarray  # (C, h, w) as the network takes it
    factor: int  # output pixels per input pixel, per axis
    pixel_um: float | None  # the output's pixel size
    aperture: np.ndarray | None = None  # a field stop's aperture on x's grid (True inside), else None
    z_um: list[float] | None = None  # the planes x holds, where known (µm)
    notes: list[str] = field(default_factory=list)  # values assumed or estimated, one phrase each


def relative_intensity(planes: np.ndarray, model_card: dict, given: Given, where: str, stops: bool = True
                       ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Raw planes (Z, H, W) → intensity relative to the empty field as training had it, the field stop's
    aperture (None without one, or with `stops` False: a speckle image's dark grains are no field stop)
    and a note of what was estimated.

    The smooth illumination is divided out when training divided it out (the card's `illumination`):
    by the user's empty-field image (`given.flat`), else by `illumination_surface` fitted to the planes'
    mean inside the aperture; then each plane over its mean inside the aperture (`--normalise mean`), as
    training scaled.
    """
    from qpi.tie.brightness import illumination_surface
    from qpi.tie.fieldstop import field_stop

    planes = np.asarray(planes, dtype=float)
    mean = planes.mean(axis=0)
    aperture = field_stop(mean) if stops else None
    inside = np.ones(mean.shape, bool) if aperture is None else aperture
    notes = [] if aperture is None else [f"a field stop found ({inside.mean():.0%} of the frame lit): NaN outside"]
    trained = model_card["inputs"].get("illumination")
    if trained is None:
        notes.append("illumination: the card does not say whether training divided it out; assumed so (deep-qpi's "
                     "simulated training inputs are relative to the empty field)")
    if given.flat is not None:
        flat = _flat(given.flat, mean.shape, where)
        profile = np.where(inside, flat / flat[inside].mean(), 1.0)
        notes.append(f"illumination divided by the empty field {given.flat}")
    elif not given.normalise or trained == "kept":
        profile = 1.0
        if trained == "kept" and given.normalise:
            notes.append("illumination kept, as in the network's training inputs")
    else:
        profile = illumination_surface(mean, inside)
        lo, hi = np.percentile(profile[inside], [0.5, 99.5])
        found = (f"a smooth surface, {lo:.2f}…{hi:.2f} of its mean, divided out" if hi - lo > 0.005 else
                 "none found beyond the image's own scatter")
        notes.append(f"illumination estimated from the image ({found}); give --flat EMPTY.tif, an empty-field image, "
                     "to divide by the measured one")
    out = planes / profile
    if given.normalise:  # each plane over its mean inside the aperture, as training (`brightness.lit_mean`)
        out = relative(out, inside)
    return out.astype(np.float32), aperture, notes


def _flat(path: Path, shape: tuple[int, int], where: str) -> np.ndarray:
    """An empty-field image on the input's grid, checked."""
    flat, _ = io.read_image(path)
    if flat.shape != tuple(shape) or not np.isfinite(flat).all() or flat.min() <= 0:
        raise io.StackError(f"{path}: an empty-field image of {flat.shape[0]}×{flat.shape[1]} pixels, values "
                            f"{np.nanmin(flat):g}…{np.nanmax(flat):g}, for {where} of {shape[0]}×{shape[1]}; give "
                            "the empty field recorded with the same camera, binning and optics (all pixels > 0).")
    return flat.astype(float)


class Input(NamedTuple):
    image: np.ndarray
    pixel_um: float | None
    z_um: float | None
    notes: list[str]


def read_input(path: Path, model_card: dict, given: Given) -> Input:
    """One 2-D input image, its pixel size and defocus (the command line's, the file's, else the card's,
    which is noted) and the notes of what was assumed; a pixel size or defocus differing from the card's
    is refused."""
    image, meta = io.read_image(path)
    if not np.isfinite(image).all() or min(image.shape) < 8:
        raise io.StackError(f"{path}: a {image.shape[0]}×{image.shape[1]} image with "
                            f"{int((~np.isfinite(image)).sum())} non-finite pixels; give a finite image of at "
                            "least 8×8 pixels.")
    expected = model_card["inputs"].get("pixel_um")
    pixel, notes = given.pixel_um or meta.get("pixel_um"), []
    if not pixel and expected:
        pixel = expected
        notes.append(f"pixel size {expected:g} µm assumed from the model card ({path} carries none; give --pixel-um)")
    check_pixel(str(path), pixel, expected)
    found = given.z_um[0] if given.z_um else meta.get("defocus_um")
    channel = model_card["inputs"].get("channels", [{}])[0]  # a card-less model's implied card names none
    z, more = check_defocus(str(path), found, channel.get("defocus_um"))
    return Input(image, pixel, z, notes + more)


DEFOCUS_TOLERANCE = (0.25, 0.1)  # µm and relative: a plane this near the card's is the plane it was trained at


def check_defocus(where: str, found, expected) -> tuple[float | None, list[str]]:
    """The input's defocus and a note when it is the card's by assumption (None: one of several planes
    the network was trained at); one sentence when it differs beyond `DEFOCUS_TOLERANCE` from every plane
    the network was trained at (`expected`: one z or a list)."""
    if expected is None:
        return (None if found is None else float(found)), []
    planes = sorted({float(z) for z in np.atleast_1d(expected)})
    if found is None:
        assumed = planes[0] if len(planes) == 1 else None
        return assumed, [f"defocus {io.format_z(planes)} µm assumed from the model card (the input carries none; "
                         "give --z-um)"]
    absolute, relative = DEFOCUS_TOLERANCE
    if not any(abs(float(found) - z) <= max(absolute, relative * abs(z)) for z in planes):
        raise io.StackError(f"{where}: recorded at {float(found):+g} µm defocus, but the network was trained at "
                            f"{io.format_z(planes)} µm; record the input at that plane (or give --z-um if the file's "
                            "defocus is wrong).")
    return float(found), []


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
