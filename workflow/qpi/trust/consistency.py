"""Physics consistency: a predicted phase re-imaged through the forward model its family knows (the
microscope of its model card), against the measured input it was predicted from.

A family's `reimage` gives the measured planes and the planes its prediction images to, both relative
to the empty field on the input's grid (`Reimaged`). The residual map is their RMS difference over the
planes; the number is the residual's RMS over the input's own contrast (|I − 1|), inside the aperture and
away from the frame's edge (where the forward model cannot know the specimen beyond the frame):
0 means the phase explains the input, 1 that it explains no more of it than a flat phase would. Camera
noise sets its floor; a phase the network made up, or an input unlike its training, raises it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qpi.optics.imaging import Microscope, image_stack


class Unknown(Exception):
    """The forward model cannot be set up (a value it needs is unknown): one sentence why."""


@dataclass
class Reimaged:
    """What a family's forward model gives for one prediction."""

    measured: np.ndarray  # (Z, h, w) input planes relative to the empty field
    predicted: np.ndarray  # (Z, h, w) the same planes imaged from the prediction
    margin_px: int  # frame border left out: the specimen beyond the frame reaches this far into the planes
    mirrored: np.ndarray | None = None  # the planes imaged from −φ, where the input cannot tell the sign
    note: str = ""  # what the forward model assumed


def optics(spec: dict, what: str) -> Microscope:
    """The microscope a card's optics describe (`spec`: wavelength_um, na, coherence, medium_index),
    imaging on the grid it is given; `Unknown` naming what is missing."""
    missing = [k for k in ("wavelength_um", "na") if not spec.get(k)]
    if missing:
        raise Unknown(f"the model card names no {' or '.join(missing)} for {what} (a network trained on a sample "
                      "sheet's stacks keeps theirs per stack), so its input cannot be re-imaged")
    return Microscope(wavelength_um=float(spec["wavelength_um"]), na=float(spec["na"]),
                      coherence=float(spec.get("coherence") or 0.0),
                      medium_index=float(spec.get("medium_index") or 1.0), magnification=1.0, oversample=1)


def reimage(phase: np.ndarray, amplitude, z_um, scope: Microscope, pixel_um: float) -> np.ndarray:
    """Intensities (Z, H, W) relative to the empty field of a thin specimen A·exp(iφ) at the planes `z_um`;
    NaN (outside a field stop) is dark."""
    outside = ~np.isfinite(phase)
    field = np.asarray(amplitude) * np.exp(1j * np.where(outside, 0.0, phase))
    field = np.where(outside, 0.0, field)
    return image_stack(field, np.asarray(z_um, float), scope, pixel_um=pixel_um)


def blur_margin(z_um, scope: Microscope, pixel_um: float) -> int:
    """Pixels of the frame's border a plane at the largest |z| draws from beyond the frame: the defocus
    blur's radius |z|·tan(asin NA/n), plus two."""
    sine = min(scope.na / scope.medium_index, 0.99)
    reach = max(abs(float(z)) for z in np.atleast_1d(z_um)) * sine / np.sqrt(1 - sine**2)
    return int(np.ceil(reach / pixel_um)) + 2


def residual(planes: Reimaged, inside: np.ndarray | None = None) -> tuple[np.ndarray, float, float | None]:
    """The residual map (h, w), its relative RMS (`module doc`) and that of the mirrored phase (None
    without one)."""
    measured = np.asarray(planes.measured, float)
    region = np.ones(measured.shape[1:], bool) if inside is None else inside.copy()
    m = planes.margin_px
    if 0 < m < min(region.shape) // 4:
        region[:m], region[-m:], region[:, :m], region[:, -m:] = False, False, False, False
    region &= np.isfinite(measured).all(axis=0)
    contrast = np.sqrt(np.mean((measured[:, region] - 1) ** 2)) + 1e-12

    def rms(predicted) -> tuple[np.ndarray, float]:
        diff = measured - predicted
        return np.sqrt(np.mean(diff**2, axis=0)), float(np.sqrt(np.mean(diff[:, region] ** 2)) / contrast)

    residual_map, value = rms(planes.predicted)
    mirrored = None if planes.mirrored is None else rms(planes.mirrored)[1]
    return residual_map.astype(np.float32), value, mirrored


@dataclass
class Check:
    """A prediction's consistency: its residual map (None without a forward model), number and note."""

    residual: np.ndarray | None
    value: float | None
    mirrored: float | None = None
    note: str = ""


def check(family, card: dict, prepared, images: dict) -> Check:
    """The consistency of a family's prediction of `prepared` (`Family.reimage`); without a forward model,
    or without a value it needs (`Unknown`), no number and the reason as the note."""
    if family.reimage is None:
        return Check(None, None, note=family.no_forward_model)
    try:
        planes = family.reimage(card, prepared, images)
    except Unknown as err:
        return Check(None, None, note=str(err))
    return Check(*residual(planes, prepared.aperture), note=planes.note)
