"""The through-focus stack (`Stack`) and its checks: shape, z planes and focus, optics, blank,
saturated or clipped planes; z values as messages name them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qpi.core.errors import StackError

log = logging.getLogger("qpi.io")  # the name its warnings have always carried (log lines show it)


@dataclass
class Stack:
    """A through-focus intensity stack and the optics that recorded it.

    `data` is float32 (Z, Y, X) sorted by z (or the file's dtype as read raw); `pixel_um` is the
    pixel size in the sample plane (camera pixel / magnification).
    """

    data: np.ndarray
    z_um: np.ndarray
    wavelength_um: float
    pixel_um: float
    na: float | None = None
    coherence: float | None = None
    magnification: float | None = None
    medium_index: float = 1.0
    extra: dict = field(default_factory=dict)

    def plane(self, z_um: float) -> np.ndarray:
        """The plane recorded at `z_um` (exact match within 1 nm)."""
        i = np.flatnonzero(np.abs(self.z_um - z_um) < 1e-3)
        if i.size == 0:
            raise KeyError(f"no plane at z = {z_um} µm (planes: {np.asarray(self.z_um).tolist()})")
        return self.data[i[0]]

    def metadata(self) -> dict:
        """JSON-serialisable metadata (everything but the pixels)."""
        return {
            "z_um": [float(z) for z in self.z_um],
            "wavelength_um": float(self.wavelength_um),
            "pixel_um": float(self.pixel_um),
            "na": self.na,
            "coherence": self.coherence,
            "magnification": self.magnification,
            "medium_index": float(self.medium_index),
            **self.extra,
        }


FOCUS_TOL_UM = 1e-3  # a plane within 1 nm of z = 0 is the in-focus plane
SATURATED_FRACTION = 0.5  # an integer plane with more pixels than this at the dtype max is clipped
CLIPPED_FRACTION = 5e-4  # more pixels than this at full scale: warn (TIE phase errors follow)
FULL_SCALE = {2**bits - 1 for bits in range(8, 17)}  # an 8…16-bit ADC's top count

# the metadata a Stack has a field for; other keys go to `extra`
_KNOWN = ("z_um", "wavelength_um", "pixel_um", "na", "coherence", "magnification", "medium_index")
# what a stack cannot do without, and where a user gives it
_REQUIRED = {
    "wavelength_um": ("wavelength", "--wavelength-um (qpi) or the wavelength_um column of config/stacks.tsv"),
    "pixel_um": ("pixel size", "--pixel-um (qpi) or the pixel_um column of config/stacks.tsv (sample-plane µm)"),
    "z_um": ("z positions", "--z-um=Z1,Z2,... (qpi) or the z_um column of config/stacks.tsv (µm, focus at 0)"),
}


def validate_stack(stack: Stack, path: str | Path = "<stack>", require_focus: bool = True) -> None:
    """Raise a `StackError` (naming `path`, the problem and the fix) for the first problem found.

    Saturation can only be judged on integer (raw camera) data; float data skip that check.
    """
    data, z = stack.data, np.asarray(stack.z_um, dtype=float)
    _check_shape(data.shape, "", path)
    if data.dtype.kind not in "uif":  # bilevel (bool) or complex pixels are not intensities
        raise StackError(f"{path}: has {data.dtype} pixels, not intensities; save grey-level 8-bit, 16-bit or "
                         "32-bit float planes.")
    if data.shape[0] < 2:
        raise StackError(f"{path}: has only one plane; the TIE needs the in-focus plane and at least one "
                         "defocused plane, so save them together as one multi-page TIFF or give each plane's file.")
    if z.size != data.shape[0]:
        raise StackError(f"{path}: has {data.shape[0]} planes but {z.size} z positions ({format_z(z)}); "
                         f"give one z per plane in file order with {_REQUIRED['z_um'][1]}.")
    values, counts = np.unique(np.round(z / FOCUS_TOL_UM).astype(np.int64), return_counts=True)
    if (counts > 1).any():
        dup = values[counts > 1][0] * FOCUS_TOL_UM
        raise StackError(f"{path}: z = {dup:g} µm is given for {counts.max()} planes; each plane needs its own "
                         f"z position — correct them with {_REQUIRED['z_um'][1]}.")
    if require_focus and not (np.abs(z) < FOCUS_TOL_UM).any():
        raise StackError(f"{path}: no plane at focus (z = 0) among z = {format_z(z)} µm; the TIE needs the in-focus "
                         "intensity — record it, or give z relative to the focal plane.")
    for key in ("wavelength_um", "pixel_um"):
        value = getattr(stack, key)
        if not (np.isfinite(value) and value > 0):
            raise StackError(f"{path}: {key} must be a positive number of µm, got {value}; "
                             f"give the right value with {_REQUIRED[key][1]}.")
    for key in ("na", "magnification", "medium_index", "coherence"):
        value = getattr(stack, key)
        if value is not None and not (np.isfinite(value) and (value >= 0 if key == "coherence" else value > 0)):
            raise StackError(f"{path}: {key} must be {'non-negative' if key == 'coherence' else 'positive'}, "
                             f"got {value}; correct it with --{key.replace('_', '-')} (qpi), the {key} column of "
                             "config/stacks.tsv, or in the file's metadata.")
    _check_planes(data, z, path)


def _check_shape(shape: tuple[int, ...], axes: str, path: str | Path) -> None:
    # Samples last ('YXS') are a colour camera's interleaved RGB. Samples first ('SYX': what
    # tifffile.imwrite makes of a (3, H, W) array) are separate grey planes, as are the unnamed
    # leading axes tifffile labels Q, I, T or C: any single axis before Y, X counts as z.
    if axes.endswith("S"):
        raise StackError(f"{path}: is stored as an RGB/colour image (shape {shape}, axes {axes}); save the stack "
                         "as grey-level planes, one sample per pixel (Fiji: Image > Type > 16-bit; tifffile: "
                         "photometric='minisblack').")
    if len(shape) == 2:
        raise StackError(f"{path}: is a single 2-D image {shape}, but a through-focus stack is needed; save the "
                         "in-focus and defocused planes together as one multi-page TIFF (Z, Y, X), or give each "
                         "plane's file in z order: qpi tie I0.tif Iz.tif --z-um=0,2.5.")
    if len(shape) != 3:
        raise StackError(f"{path}: has {len(shape)} dimensions {shape}{f' (axes {axes})' if axes else ''}; a stack "
                         "must be 3-D (Z, Y, X) — save one channel and one time point per file.")


def _check_planes(data: np.ndarray, z: np.ndarray, path: str | Path) -> None:
    integer = np.issubdtype(data.dtype, np.integer)
    top = np.iinfo(data.dtype).max if integer else None
    for plane, zi in zip(data, z):
        where = f"plane z = {zi:g} µm"
        if not integer:
            bad = int(np.count_nonzero(~np.isfinite(plane)))
            if bad:
                raise StackError(f"{path}: {where} has {bad} NaN/inf pixels; replace them (e.g. by "
                                 "interpolation) or re-export the stack from the raw camera frames.")
        if not plane.any():
            raise StackError(f"{path}: {where} is all zero (a blank or dropped frame); re-acquire it, or "
                             "remove the plane and its z position.")
        if integer:
            fraction = float(np.mean(plane == top))
            if fraction > SATURATED_FRACTION:
                raise StackError(f"{path}: {where} is saturated ({fraction:.0%} of pixels at {top}); record it "
                                 "again with a shorter exposure or weaker illumination.")
            _warn_clipped(plane, where, path)


def _warn_clipped(plane: np.ndarray, where: str, path: str | Path) -> None:
    """Log a warning when a plane's brightest pixels sit at a camera's full scale (8…16 bits).

    Even a few clipped pixels cost the TIE dearly: the light missing from a bright focus spot is a
    flux the phase must explain (0.26 % clipped pixels in a simulated 8-bit stack: 0.46 rad RMSE
    against 0.09 unclipped), so it is said, not refused."""
    top = int(plane.max())
    if top not in FULL_SCALE:
        return
    fraction = float(np.mean(plane == top))
    if fraction > CLIPPED_FRACTION:
        log.warning("%s: %s has %.2f%% of its pixels at %d (clipped at the camera's full scale); its TIE phase "
                    "will be wrong by tenths of a rad — record it with a shorter exposure.", path, where,
                    100 * fraction, top)


def path_names(paths) -> str:
    """Input files as one message names them."""
    return ", ".join(str(p) for p in paths)


def format_z(z) -> str:
    """z values (µm) for a message: "[-2, 0, 2]", or "none" for an empty list."""
    return "[" + ", ".join(f"{v:g}" for v in z) + "]" if len(z) else "none"
