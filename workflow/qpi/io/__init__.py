"""Raw stack and image I/O (TIFF with ImageJ or OME metadata) and validation with clear errors."""

from __future__ import annotations

import csv
import logging
import json
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tifffile

from qpi.core.atomic import atomic_path
from qpi.core.errors import StackError

log = logging.getLogger(__name__)


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

_KNOWN = ("z_um", "wavelength_um", "pixel_um", "na", "coherence", "magnification", "medium_index")
_SHEET_COLUMNS = ("name", "path", *_KNOWN, "tie_planes_um", "input_um")
_SHEET_LISTS = ("z_um", "tie_planes_um")  # comma-separated numbers in the sheet
_MICRON = {"um", "micron", "microns", "\u00b5m", "\u03bcm"}  # ImageJ writes "micron" or micro sign + m
_LENGTH_UM = {"pm": 1e-6, "\u00c5": 1e-4, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6} | dict.fromkeys(_MICRON, 1.0)
_LABEL_Z = re.compile(r"z\s*=\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(?:um|\u00b5m|\u03bcm)")
_WRITE_DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "float32": np.float32}
# what a stack cannot do without, and where a user gives it
_REQUIRED = {
    "wavelength_um": ("wavelength", "--wavelength-um (qpi) or the wavelength_um column of config/stacks.tsv"),
    "pixel_um": ("pixel size", "--pixel-um (qpi) or the pixel_um column of config/stacks.tsv (sample-plane µm)"),
    "z_um": ("z positions", "--z-um=Z1,Z2,... (qpi) or the z_um column of config/stacks.tsv (µm, focus at 0)"),
}


# ----------------------------------------------------------------------------- stacks


def write_stack(path: str | Path, stack: Stack, dtype: str = "uint16") -> None:
    """Write `stack` as an ImageJ hyperstack (axes ZYX) that tifffile and ImageJ/Fiji read.

    Calibration goes where ImageJ looks (pixels per µm, z spacing in µm, one "z=…um" label per
    plane) and all metadata (`Stack.metadata()`) as JSON in the ImageJ Info field. uint16 data
    must already be camera counts in 0…65535: values are rounded, never rescaled.
    """
    if dtype not in _WRITE_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_WRITE_DTYPES)}, got {dtype!r}")
    z = np.asarray(stack.z_um, dtype=float)
    if stack.data.ndim != 3 or stack.data.shape[0] != z.size:
        raise ValueError(f"data {stack.data.shape} must be (Z, Y, X) with Z = {z.size} z positions")
    data = _cast(stack.data, _WRITE_DTYPES[dtype])
    metadata = {
        "axes": "ZYX",
        "spacing": _z_spacing(z),
        "unit": "um",
        "Labels": [f"z={v:.2f}um" for v in z],
        "Info": json.dumps(stack.metadata(), default=_json_default),
    }
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, data, imagej=True, resolution=_resolution(stack.pixel_um), metadata=metadata)


def read_stack(
    path: str | Path | Sequence[str | Path],
    *,
    wavelength_um: float | None = None,
    pixel_um: float | None = None,
    z_um: Sequence[float] | None = None,
    na: float | None = None,
    coherence: float | None = None,
    magnification: float | None = None,
    medium_index: float | None = None,
    raw: bool = False,
    require_focus: bool = True,
    fallback: dict | None = None,
) -> Stack:
    """Read and validate a through-focus stack; planes come back sorted by z (µm).

    `path` is one multi-page TIFF (planes along the first axis, 8/16-bit or float), or a sequence
    of single-plane TIFFs, one per plane, in the order of `z_um`. Keyword arguments override the
    file's metadata (a user's own TIFF may carry none; then the sample sheet or the CLI must give
    wavelength, pixel size and z positions). Data are float32, or the file's dtype with `raw=True`.
    Any problem raises one `StackError` naming the fix. `require_focus=False` accepts stacks
    without an in-focus plane (two-plane TIE inputs). `fallback` gives metadata (e.g. a model card's
    wavelength) used only where neither the file nor the keywords give it.
    """
    paths = _as_paths(path)
    several = len(paths) > 1
    if several:
        where = ", ".join(str(p) for p in paths)
        data, meta = _read_planes(paths)
    else:
        where = paths[0]
        data, meta, axes = _read_tiff(where)
        _check_shape(data.shape, axes, where)
        _resolve_z(meta, data.shape[0], "the file's")
    given = dict(wavelength_um=wavelength_um, pixel_um=pixel_um, z_um=z_um, na=na, coherence=coherence,
                 magnification=magnification, medium_index=medium_index)
    meta.update({k: v for k, v in given.items() if v is not None})
    meta = {**{k: v for k, v in (fallback or {}).items() if v is not None}, **meta}
    found = meta.pop("_z_found", None)
    for key, (noun, how) in _REQUIRED.items():
        if meta.get(key) is None:
            raise StackError(_missing_message(where, noun, how, several, found if key == "z_um" else None))
    extra = {k: v for k, v in meta.items() if k not in _KNOWN and not k.startswith("_")}
    stack = Stack(
        data=data,
        z_um=np.asarray(meta["z_um"], dtype=float).ravel(),
        wavelength_um=float(meta["wavelength_um"]),
        pixel_um=float(meta["pixel_um"]),
        na=_optional_float(meta.get("na")),
        coherence=_optional_float(meta.get("coherence")),
        magnification=_optional_float(meta.get("magnification")),
        medium_index=float(meta.get("medium_index", 1.0)),
        extra=extra,
    )
    validate_stack(stack, where, require_focus)
    order = np.argsort(stack.z_um, kind="stable")
    stack.z_um = stack.z_um[order]
    stack.data = stack.data[order] if raw else stack.data[order].astype(np.float32)
    return stack


def _missing_message(where: str | Path, noun: str, how: str, several: bool, found: str | None) -> str:
    source = "the files' metadata" if several else "the file's metadata"
    if several and noun == "z positions":
        how = "one z per file, in the order given, with " + how
    if found:  # z the file has, but not relative to focus: say what they are rather than guess the focus
        return f"{where}: no z positions relative to focus in {source} ({found}); give z relative to focus with {how}."
    return f"{where}: no {noun} in {source}; give {how}."


def _as_paths(path) -> list[Path]:
    if isinstance(path, (str, Path)):
        return [Path(path)]
    paths = [Path(p) for p in path]
    if not paths:
        raise StackError("no stack file given (an empty list of paths); give one multi-page TIFF, or each plane's "
                         "file in z order.")
    return paths


def _read_planes(paths: list[Path]) -> tuple[np.ndarray, dict]:
    """One 2-D plane per file, stacked in the order given; metadata merged, first file wins."""
    planes, merged, own_z, stage_z = [], {}, [], []
    for p in paths:
        data, meta, axes = _read_tiff(p)
        if axes.endswith("S"):
            _check_shape(data.shape, axes, p)  # the colour-image sentence
        if data.ndim != 2:
            raise StackError(f"{p}: is not a single 2-D plane (shape {data.shape}), but each file of a list of plane "
                             "files must hold one grey-level plane; give a stack file on its own instead.")
        if planes and (data.shape, data.dtype) != (planes[0].shape, planes[0].dtype):
            first = planes[0]
            raise StackError(f"{paths[0]}, {p}: planes differ ({'×'.join(map(str, first.shape))} {first.dtype} vs "
                             f"{'×'.join(map(str, data.shape))} {data.dtype}); save every plane with the same size "
                             "and bit depth (crop or convert them alike).")
        planes.append(data)
        own_z.append(_one_value(meta.pop("z_um", None)))
        stage_z.append(_one_value(meta.pop("_ome_z", None)))
        for key, value in meta.items():
            merged.setdefault(key, value)
    merged.pop("_spacing", None)  # a single plane's z step says nothing
    if all(z is not None for z in own_z):
        merged["z_um"] = own_z
    elif all(z is not None for z in stage_z):
        merged["_ome_z"] = stage_z
    _resolve_z(merged, len(planes), "the files'")
    return np.stack(planes), merged


def _one_value(value) -> float | None:
    """A plane file's own z (a number or a one-element list), else None."""
    if value is None:
        return None
    values = np.atleast_1d(np.asarray(value, dtype=float)).ravel()
    return float(values[0]) if values.size == 1 else None


def _resolve_z(meta: dict, planes: int, owner: str) -> None:
    """Use z found in the file only if relative to focus; else note them for the 'no z positions' error.

    OME PositionZ is usually a stage position, and ImageJ spacing or OME PhysicalSizeZ only a step;
    none says which plane is in focus. PositionZ counts as relative only when it includes z = 0
    (and differs per plane); a step never does.
    """
    stage, spacing = meta.pop("_ome_z", None), meta.pop("_spacing", None)
    if meta.get("z_um") is not None:
        return
    if stage is not None and len(stage) == planes:
        z = np.asarray(stage, dtype=float)
        distinct = np.unique(np.round(z / FOCUS_TOL_UM)).size == z.size
        if distinct and (np.abs(z) < FOCUS_TOL_UM).any():
            meta["z_um"] = z.tolist()
        elif distinct:
            meta["_z_found"] = f"{owner} OME planes are at {_fmt_range(z)} µm, stage positions"
        else:
            meta["_z_found"] = f"{owner} OME planes repeat PositionZ values, {format_z(z)} µm"
    elif spacing:
        meta["_z_found"] = f"{owner} {spacing}"


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


# ----------------------------------------------------------------------------- 2-D images


def write_image(
    path: str | Path,
    image: np.ndarray,
    *,
    pixel_um: float | None = None,
    like: Stack | None = None,
    **metadata,
) -> None:
    """Write a 2-D float32 image (phase in rad, amplitude, …) as an ImageJ TIFF with JSON metadata.

    `like` copies a stack's optics (not its z positions) and its pixel size unless `pixel_um`
    is given; keyword arguments add to (and override) that metadata.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (Y, X), got shape {image.shape}")
    info = {k: v for k, v in like.metadata().items() if k != "z_um"} if like is not None else {}
    if pixel_um is None:
        if like is None:
            raise ValueError("write_image needs pixel_um (µm) or like=<Stack>")
        pixel_um = like.pixel_um
    info.update(pixel_um=float(pixel_um), **metadata)
    meta = {"axes": "YX", "unit": "um", "Info": json.dumps(info, default=_json_default)}
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, image.astype(np.float32), imagej=True, resolution=_resolution(pixel_um), metadata=meta)


def write_channels(path: str | Path, images: dict[str, np.ndarray], *, pixel_um: float, **metadata) -> None:
    """Write named 2-D float32 images (intensity, phase, …) as one ImageJ TIFF, one page per image,
    each page labelled with its name (Fiji shows the labels); `read_channels` reads them back."""
    data = np.stack([np.asarray(v, np.float32) for v in images.values()])
    if data.ndim != 3:
        raise ValueError(f"each image must be 2-D (Y, X), got a stack of shape {data.shape}")
    info = json.dumps({"pixel_um": float(pixel_um), "channels": list(images), **metadata}, default=_json_default)
    meta = {"axes": "CYX", "unit": "um", "Labels": list(images), "Info": info}
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, data, imagej=True, resolution=_resolution(pixel_um), metadata=meta)


def read_channels(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The named pages of a TIFF written by `write_channels` ({name: image}) and its metadata."""
    path = Path(path)
    data, meta, _ = _read_tiff(path)
    names = meta.get("channels") or [f"channel{i}" for i in range(len(data))]
    if data.ndim != 3 or len(names) != len(data):
        raise StackError(f"{path}: holds no named channels (shape {data.shape}); give a file `qpi predict` wrote.")
    return {n: d.astype(np.float32) for n, d in zip(names, data)}, meta


def read_image(path: str | Path) -> tuple[np.ndarray, dict]:
    """Read a 2-D image as float32 with its metadata dict (JSON Info, else ImageJ calibration)."""
    path = Path(path)
    data, meta, axes = _read_tiff(path)
    if "S" in axes or data.ndim != 2:
        raise StackError(f"{path}: is not a single grey-level 2-D image (shape {data.shape}, axes {axes}); "
                         "save one plane, one channel, as its own TIFF.")
    return data.astype(np.float32), meta


# ----------------------------------------------------------------------------- TIFF reading


def _read_tiff(path: Path) -> tuple[np.ndarray, dict, str]:
    """Pixels of the first series, metadata found in the file, and the series axes."""
    if path.is_dir():
        raise StackError(f"{path}: is a folder, not a TIFF; give the stack file in it, or its planes' files in "
                         "z order.")
    if not path.is_file():
        raise StackError(f"{path}: file not found; check the path (relative paths start from the "
                         f"working directory {Path.cwd()}).")
    try:
        with tifffile.TiffFile(path) as tif:
            compression = tif.pages[0].compression
            decodable = compression in tifffile.TIFF.DECOMPRESSORS  # tifffile alone lacks LZW, JPEG, ...
            if decodable:
                series = tif.series
                data = series[0].asarray()
                axes = series[0].axes
                ij = tif.imagej_metadata or {}
                ome = tif.ome_metadata if tif.is_ome else None
                meta = _file_metadata(tif.pages[0], ij, ome)
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError, struct.error) as exc:
        raise StackError(f"{path}: is not a readable TIFF (truncated or corrupt: {exc}); re-export it as a "
                         "multi-page TIFF, e.g. with Fiji File > Save As > Tiff.") from None
    if not decodable:
        raise StackError(f"{path}: is {compression.name}-compressed, and reading it needs the imagecodecs "
                         "package: pip install imagecodecs (deep-qpi installs it), or re-export the file "
                         "uncompressed (Fiji File > Save As > Tiff).")
    planes = int(np.prod([n for n, a in zip(data.shape, axes) if a not in "YXS"]))
    promised = ij.get("images")
    if isinstance(promised, int) and promised > planes:
        raise StackError(f"{path}: is truncated ({promised} planes announced, fewer stored); copy or export "
                         "the file again.")
    if len(series) > 1:
        raise StackError(f"{path}: holds {len(series)} separate images (pages of different size or type); save "
                         "one stack of equally sized planes per file.")
    return data, meta, axes


def _file_metadata(page, ij: dict, ome: str | None = None) -> dict:
    """Metadata from JSON in ImageJ Info, else what ImageJ calibration, z labels and OME-XML tell.

    Keys starting with '_' are z hints for `_resolve_z`, not metadata.
    """
    meta = _ome_metadata(ome) if ome else {}
    unit = str(ij.get("unit", "")).strip().lower()
    if unit in _MICRON and "XResolution" in page.tags:
        num, den = page.tags["XResolution"].value
        if num > 0 and den > 0:
            meta["pixel_um"] = den / num
    labels = ij.get("Labels")
    labels = [labels] if isinstance(labels, str) else labels  # one plane: tifffile gives the label itself
    if isinstance(labels, list):
        found = [_LABEL_Z.search(str(label)) for label in labels]
        if found and all(found):
            meta["z_um"] = [float(m.group(1)) for m in found]
    if isinstance(ij.get("spacing"), (int, float)) and "z_um" not in meta:
        step = f"{ij['spacing']:g} {'µm' if unit in _MICRON else unit or '(no unit)'}"
        meta["_spacing"] = f"ImageJ calibration gives only the z step, spacing {step}"
    try:
        info = json.loads(ij.get("Info", ""))
    except (TypeError, ValueError):
        info = None
    if isinstance(info, dict):
        meta.update({k: v for k, v in info.items() if v is not None})
    return meta


def _ome_metadata(xml: str) -> dict:
    """Pixel size and per-plane PositionZ (as '_ome_z', µm) of the first OME image.

    Channel Excitation/EmissionWavelength describe fluorescence filters, not a bright-field
    illumination wavelength, so they are not read.
    """
    try:
        pixels = ET.fromstring(xml).find("{*}Image/{*}Pixels")
    except ET.ParseError:
        return {}
    if pixels is None:
        return {}
    meta = {}
    size = _ome_um(pixels.get("PhysicalSizeX"), pixels.get("PhysicalSizeXUnit"))
    if size is not None and size > 0:
        meta["pixel_um"] = size
    try:  # file (IFD) order; in a single-axis stack only one of T, C, Z varies
        planes = sorted(pixels.findall("{*}Plane"), key=lambda e: [int(e.get(a, 0)) for a in ("TheT", "TheC", "TheZ")])
    except ValueError:
        return meta
    z = [_ome_um(e.get("PositionZ"), e.get("PositionZUnit")) for e in planes]
    if z and None not in z:
        meta["_ome_z"] = z
    step = _ome_um(pixels.get("PhysicalSizeZ"), pixels.get("PhysicalSizeZUnit"))
    if step is not None:
        meta["_spacing"] = f"OME metadata gives only the z step, PhysicalSizeZ {step:g} µm"
    return meta


def _ome_um(value: str | None, unit: str | None) -> float | None:
    """An OME length in µm (µm when no unit is given); None if absent or in a unit of no length."""
    factor = _LENGTH_UM.get((unit or "µm").strip())
    try:
        return None if value is None or factor is None else float(value) * factor
    except ValueError:
        return None


# ----------------------------------------------------------------------------- JSON and sample sheet


def write_json(path: str | Path, obj) -> None:
    """Write `obj` as indented JSON atomically (numpy scalars and arrays become numbers and lists)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n")


def read_json(path: str | Path):
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def read_sample_sheet(path: str | Path) -> list[dict]:
    """Rows of a tab-separated sample sheet (config/stacks.tsv) as dicts of `read_stack` arguments.

    Columns: name, path, and optionally wavelength_um, pixel_um, z_um (comma-separated),
    na, coherence, magnification, medium_index, tie_planes_um (comma-separated: the planes this
    stack's TIE uses) and input_um (the defocused plane DL-SRQPI's network sees). A path cell
    listing several files (comma-separated, in z order) becomes a list. Empty cells become None
    ("take it from the TIFF"), as do missing trailing cells. Blank lines and lines starting with
    '#' are ignored. Listed files must exist (relative to the working directory).
    """
    path = Path(path)
    if not path.is_file():
        raise StackError(f"{path}: sample sheet not found; create it (a header line is enough) or fix the path.")
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        return []
    reader = csv.DictReader(lines, delimiter="\t")
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("name", "path") if c not in header]
    unknown = [c for c in header if c not in _SHEET_COLUMNS]
    if missing or unknown:
        problem = f"missing column(s) {missing}" if missing else f"unknown column(s) {unknown}"
        raise StackError(f"{path}: {problem}; the tab-separated header may use only {list(_SHEET_COLUMNS)} "
                         "and must include name and path.")
    rows, seen = [], set()
    for n, raw in enumerate(reader, start=2):
        if None in raw:  # more cells than columns; fewer is fine (editors drop trailing tabs)
            raise StackError(f"{path}: line {n} has more tab-separated cells than the header has columns; "
                             "separate cells with single tabs and leave optional cells empty.")
        cells = {k.strip(): (v or "").strip() for k, v in raw.items()}
        row = {c: _sheet_value(c, cells.get(c, ""), path, n) for c in _SHEET_COLUMNS}
        if not row["name"] or not re.fullmatch(r"[A-Za-z0-9_.-]+", row["name"]) or row["name"] in seen:
            raise StackError(f"{path}: line {n} name {row['name']!r} is empty, repeated or has characters other "
                             "than letters, digits, '_', '-', '.'; give each stack a unique simple name.")
        _check_sheet_row(row, path, n)
        seen.add(row["name"])
        rows.append(row)
    return rows


def sheet_overrides(row: dict) -> dict:
    """The `read_stack` keyword overrides a sample-sheet row gives (its non-empty metadata cells)."""
    return {k: row[k] for k in _KNOWN if row.get(k) is not None}


def _check_sheet_row(row: dict, sheet: Path, line: int) -> None:
    """What can be checked before any TIFF is read: the files exist and the z lists agree."""
    where = f"{sheet}: line {line} ({row['name']})"
    files = row["path"] if isinstance(row["path"], list) else [row["path"]]
    if not all(files):
        raise StackError(f"{where} has {'no path' if files == [''] else 'an empty file name in its path list'}; "
                         "give the TIFF stack's path, or each plane's file comma-separated in z order.")
    for f in files:
        if not Path(f).is_file():
            cwd = "" if Path(f).is_absolute() else f" (relative paths start from the working directory {Path.cwd()})"
            raise StackError(f"{where}: file {f} not found{cwd}; fix its path in the path column.")
    z, planes = row["z_um"], row["tie_planes_um"]
    if len(files) > 1 and z is not None and len(z) != len(files):
        raise StackError(f"{where}: {len(files)} files but {len(z)} z positions ({format_z(z)} µm); give one z per "
                         "file, in the same order, in the z_um column.")
    if z is not None and planes is not None:
        absent = [p for p in planes if not np.any(np.abs(np.asarray(z) - p) < FOCUS_TOL_UM)]
        if absent:
            raise StackError(f"{where}: tie_planes_um {format_z(absent)} µm not among z_um {format_z(z)} µm; choose "
                             "the TIE planes from the stack's z positions.")


def _sheet_value(column: str, text: str, path: Path, line: int):
    if column == "name":
        return text
    if column == "path":  # several files, one plane each, in z order
        return [f.strip() for f in text.split(",")] if "," in text else text
    if not text:
        return None
    try:
        if column in _SHEET_LISTS:
            return [float(v) for v in text.split(",")]
        return float(text)
    except ValueError:
        raise StackError(f"{path}: line {line}, column {column}: {text!r} is not "
                         f"{'a comma-separated list of numbers' if column in _SHEET_LISTS else 'a number'}; "
                         "write plain numbers in µm (or leave the cell empty to use the TIFF's metadata).") from None


# ----------------------------------------------------------------------------- small helpers


def _cast(data: np.ndarray, dtype) -> np.ndarray:
    if dtype is np.float32:
        return np.asarray(data, dtype=np.float32)
    rounded = np.rint(data)
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    if not np.isfinite(rounded).all() or rounded.min() < lo or rounded.max() > hi:
        raise ValueError(f"data range {np.nanmin(data)}..{np.nanmax(data)} does not fit {np.dtype(dtype).name}; "
                         "quantise to camera counts first")
    return rounded.astype(dtype)


def _resolution(pixel_um: float) -> tuple[float, float]:
    """ImageJ resolution: pixels per µm in x and y."""
    return (1.0 / float(pixel_um), 1.0 / float(pixel_um))


def _z_spacing(z: np.ndarray) -> float:
    """One z step for ImageJ (median gap between sorted planes, µm); the exact z are in Info."""
    gaps = np.diff(np.sort(z))
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 1.0


def path_names(paths) -> str:
    """Input files as one message names them."""
    return ", ".join(str(p) for p in paths)


def format_z(z) -> str:
    """z values (µm) for a message: "[-2, 0, 2]", or "none" for an empty list."""
    return "[" + ", ".join(f"{v:g}" for v in z) + "]" if len(z) else "none"


def _fmt_range(z: np.ndarray) -> str:
    """First…last value in file order, for positions too many to list."""
    return f"{z[0]:g}…{z[-1]:g}" if len(z) > 1 else f"{z[0]:g}"


def _optional_float(value) -> float | None:
    return None if value is None else float(value)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
