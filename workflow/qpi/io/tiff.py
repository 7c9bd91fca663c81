"""TIFF stacks, images and named channels with ImageJ or OME metadata: reading (z found in the
file or given), validation through `validate_stack`, and atomic writing."""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile

from qpi.core.atomic import atomic_path
from qpi.core.errors import StackError
from qpi.io.jsonfile import _json_default
from qpi.io.stack import _KNOWN, _REQUIRED, FOCUS_TOL_UM, Stack, _check_shape, format_z, validate_stack

_MICRON = {"um", "micron", "microns", "\u00b5m", "\u03bcm"}  # ImageJ writes "micron" or micro sign + m
_LENGTH_UM = {"pm": 1e-6, "\u00c5": 1e-4, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6} | dict.fromkeys(_MICRON, 1.0)
_LABEL_Z = re.compile(r"z\s*=\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(?:um|\u00b5m|\u03bcm)")
_WRITE_DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "float32": np.float32}


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
    wavelength) used only where neither the file nor the keywords give it; their keys are listed in
    the stack's `extra["assumed"]`.
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
    assumed = {k: v for k, v in (fallback or {}).items() if v is not None and meta.get(k) is None}
    meta = {**assumed, **meta}
    found = meta.pop("_z_found", None)
    for key, (noun, how) in _REQUIRED.items():
        if meta.get(key) is None:
            raise StackError(_missing_message(where, noun, how, several, found if key == "z_um" else None))
    extra = {k: v for k, v in meta.items() if k not in _KNOWN and not k.startswith("_")}
    if assumed:  # the fallback values used: a caller names them as assumptions
        extra["assumed"] = sorted(assumed)
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


def read_single_image(path: str | Path, pixel_um: float | None = None) -> tuple[np.ndarray, float]:
    """One camera image (a speckle or low-NA image of the sample sheet) as float32 and its pixel size in
    the sample plane (µm): `pixel_um` when given (the sheet's), else the file's calibration."""
    image, meta = read_image(path)
    pixel = pixel_um or meta.get("pixel_um")
    if not pixel:
        raise StackError(f"{path}: no pixel size in the file; give it in the sheet's pixel_um column (camera pixel / "
                         "magnification, µm).")
    if not np.isfinite(image).all() or image.min() < 0 or image.max() <= 0:
        raise StackError(f"{path}: is not a camera intensity (values {np.nanmin(image):g}…{np.nanmax(image):g}, "
                         "non-finite or negative pixels); give the raw image as the camera wrote it.")
    return image, float(pixel)


def read_measured_phase(path: str | Path, stack: Stack, tolerance: float = 0.02) -> np.ndarray:
    """A measured phase of a stack's in-focus field (DHM, QLSI, ...: rad, NaN where unmeasured), checked
    to lie on the stack's pixel grid: the same plane shape and, where the file says, the same pixel size."""
    phase, meta = read_image(path)
    ny, nx = stack.data.shape[1:]
    if phase.shape != (ny, nx):
        raise StackError(f"{path}: a {phase.shape[0]}×{phase.shape[1]} phase for a stack of {ny}×{nx} planes; "
                         "register and resample the measured phase onto the stack's camera grid first.")
    pixel = meta.get("pixel_um")
    if pixel and abs(pixel / stack.pixel_um - 1) > tolerance:
        raise StackError(f"{path}: pixels of {pixel:g} µm, the stack's are {stack.pixel_um:g} µm; resample the "
                         "measured phase onto the stack's grid (or fix the file's calibration).")
    finite = np.isfinite(phase)
    if finite.mean() < 0.1 or np.nanmax(np.abs(phase)) > 1e3:
        raise StackError(f"{path}: {finite.mean():.0%} of its pixels are finite, largest |value| "
                         f"{np.nanmax(np.abs(np.where(finite, phase, 0))):g}; give the phase in radians, NaN only "
                         "where nothing was measured.")
    return phase


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


def _fmt_range(z: np.ndarray) -> str:
    """First…last value in file order, for positions too many to list."""
    return f"{z[0]:g}…{z[-1]:g}" if len(z) > 1 else f"{z[0]:g}"


def _optional_float(value) -> float | None:
    return None if value is None else float(value)
