"""DespeckleNet on a researcher's files: speckle images of fields whose stacks give the targets.

A speckle row of the sample sheet (kind speckle) is one laser image of a field through a diffuser; the
stack of the same field, recorded without the diffuser under incoherent light, gives the targets as in
the paper: its in-focus intensity (relative to the field's mean) and its phase label (the TIE of the
whole field, or the measured phase the sheet gives). Image and targets are cut into the same tiles
(`field_px`), kept where the label is defined (inside a field stop). The conditions are the diffuser
labels, and `pooled` (every diffuser in one training set) when there are several. Fields are split
whole when there are enough, else each field's tiles by blocks with a one-tile guard band (as
DL-SRQPI's blocks), so no tile of a test region trains.
"""

from __future__ import annotations

import numpy as np

from qpi.core.errors import StackError
from qpi.core.seeds import dataset_seed
from qpi.families.despeckle import POOLED
from qpi.training.patches import NO_SPLIT, SPLITS, block_regions, split_fields

BLOCK_GRID = 3  # blocks per side when a field's tiles are split (too few fields)


def conditions(images: dict[str, dict]) -> dict[str, list[str]]:
    """{condition: its speckle rows' names}: one per diffuser label, and `pooled` with all of them when
    there are several diffusers."""
    out: dict[str, list[str]] = {}
    for name, row in sorted(images.items()):
        if row["kind"] == "speckle":
            out.setdefault(row["diffuser"], []).append(name)
    if len(out) > 1:
        out[POOLED] = sorted(n for names in out.values() for n in names)
    return out


def split(images: dict[str, dict], split_spec: dict, seed: int) -> dict:
    """How the speckle rows' fields are split: {"by": "fields", "fields": {field: split}} when there are
    enough fields (the sheet's split column pins them), else {"by": "blocks", ...} (each field's tiles
    by `BLOCK_GRID`² blocks), with the reason in "why"."""
    rows = [r for r in images.values() if r["kind"] == "speckle"]
    fields = sorted({r["field"] for r in rows})
    pinned = {r["field"]: r["split"] for r in rows if r["split"]}
    try:
        return {"by": "fields", "fields": split_fields(fields, split_spec["val"], split_spec["test"], seed, pinned),
                "why": f"{len(fields)} fields: split by field of view"}
    except ValueError as err:
        if pinned:
            raise ValueError(f"DespeckleNet: {err}, or clear the sample sheet's split column of the speckle rows' "
                             "fields to split each field into blocks") from None
    return {"by": "blocks", "val": split_spec["val"], "test": split_spec["test"], "seed": seed, "grid": BLOCK_GRID,
            "why": f"{len(fields)} field(s), too few to split by field of view, so each field's tiles are split into "
                   f"{BLOCK_GRID}×{BLOCK_GRID} blocks with a one-tile guard band"}


def tile_parts(split: dict, field: str, tiles: tuple[int, int]) -> np.ndarray:
    """The split of each tile of a field (tiles = rows, columns of tiles), '' for none (a guard band)."""
    if split["by"] == "fields":
        return np.full(tiles, split["fields"][field], dtype=object)
    region, _ = block_regions(tiles, split["val"], split["test"], dataset_seed(split["seed"], field),
                              min(split["grid"], *tiles), guard=1)
    names = np.array([*SPLITS, ""], dtype=object)
    return names[np.where(region == NO_SPLIT, len(SPLITS), region)]


def relative(image: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """An intensity relative to its mean where the label is defined (the empty field's level, as the
    simulated targets and speckle images are)."""
    return (image / float(np.mean(image[inside]))).astype(np.float32)


def cut(
    name: str,
    speckle: np.ndarray,
    intensity: np.ndarray,
    labels: dict[str, np.ndarray],
    parts: np.ndarray,
    part: str,
    tile_px: int,
) -> dict[str, np.ndarray]:
    """The tiles of one speckle row in split `part`: speckle, intensity and every phase label (N, 1, T, T),
    each tile wholly inside every label's defined region, phases with their tile's mean removed; and
    each tile's `origin` (N, 2: row, column of its first pixel in the field)."""
    if speckle.shape != intensity.shape:
        raise StackError(f"{name}: a {speckle.shape[0]}×{speckle.shape[1]} speckle image of a field whose stack has "
                         f"{intensity.shape[0]}×{intensity.shape[1]} planes; record both on the same camera grid "
                         "(or register and crop the speckle image to the stack's).")
    inside = np.logical_and.reduce([np.isfinite(v) for v in labels.values()])
    speckle, intensity = relative(speckle, inside), relative(intensity, inside)
    out: dict[str, list] = {"speckle": [], "intensity": [], **{k: [] for k in labels}, "origin": []}
    for i, j in zip(*np.nonzero(parts == part)):
        window = np.s_[i * tile_px : (i + 1) * tile_px, j * tile_px : (j + 1) * tile_px]
        if not inside[window].all():
            continue
        out["speckle"].append(speckle[window][None])
        out["intensity"].append(intensity[window][None])
        out["origin"].append((i * tile_px, j * tile_px))
        for key, label in labels.items():
            out[key].append((label[window] - label[window].mean())[None])
    empty = {"origin": np.zeros((0, 2), np.float32)}
    return {k: np.asarray(v, np.float32) if v else empty.get(k, np.zeros((0, 1, tile_px, tile_px), np.float32))
            for k, v in out.items()}
