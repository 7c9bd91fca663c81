"""A lab's fields cut into training tiles: which split each tile is in, and the tiles themselves.

Used by every family that trains on tiles of a researcher's whole fields (DespeckleNet, MCNN): the
labels are solved on the whole field first and only then cut, so no label carries a crop's boundary
error. Fields are split whole when there are enough, else each field's tiles by `BLOCK_GRID`² blocks
with a one-tile guard band (as DL-SRQPI's blocks), so no tile next to a test region trains.
"""

from __future__ import annotations

import numpy as np

from qpi.core.seeds import dataset_seed
from qpi.training.patches import NO_SPLIT, SPLITS, block_regions, split_fields

BLOCK_GRID = 3  # blocks per side when a field's tiles are split (too few fields)


def split(fields: list[str], pinned: dict[str, str], split_spec: dict, seed: int, who: str) -> dict:
    """How `fields` are split: {"by": "fields", "fields": {field: split}} when there are enough (`pinned`,
    the sample sheet's split column, keeps its fields), else {"by": "blocks", ...} (each field's tiles by
    blocks), with the reason in "why". `who` names the family in the error for a pinned split that
    cannot hold."""
    fields = sorted(set(fields))
    try:
        return {"by": "fields", "fields": split_fields(fields, split_spec["val"], split_spec["test"], seed, pinned),
                "why": f"{len(fields)} fields: split by field of view"}
    except ValueError as err:
        if pinned:
            raise ValueError(f"{who}: {err}, or clear the sample sheet's split column of its fields to split each "
                             "field into blocks") from None
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


def whole_tiles(image: np.ndarray, tile_px: int) -> np.ndarray:
    """The whole `tile_px` tiles of an image (..., H, W) → (N, ..., T, T), row-major."""
    rows, cols = image.shape[-2] // tile_px, image.shape[-1] // tile_px
    if not rows or not cols:
        return np.zeros((0, *image.shape[:-2], tile_px, tile_px), np.float32)
    return np.stack([image[..., i * tile_px : (i + 1) * tile_px, j * tile_px : (j + 1) * tile_px]
                     for i in range(rows) for j in range(cols)])


def relative(image: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """An intensity (..., H, W) relative to each plane's mean where the label is defined: the empty
    field's level (1), as the simulated inputs and targets are."""
    means = np.mean(image[..., inside], axis=-1, dtype=np.float64)
    return (image / means[..., None, None]).astype(np.float32)


def cut(
    images: dict[str, np.ndarray],
    phases: dict[str, np.ndarray],
    parts: np.ndarray,
    part: str,
    tile_px: int,
) -> dict[str, np.ndarray]:
    """The tiles of one field in split `part`: each of `images` ((..., H, W), as they are) and of `phases`
    ((H, W), rad, each tile's mean removed) as (N, ..., T, T), (N, 1, T, T); only tiles wholly inside
    every phase's defined (finite) region; and each tile's `origin` (N, 2: row, column of its first
    pixel in the field)."""
    inside = np.logical_and.reduce([np.isfinite(v) for v in phases.values()])
    out: dict[str, list] = {**{k: [] for k in (*images, *phases)}, "origin": []}
    for i, j in zip(*np.nonzero(parts == part)):
        window = np.s_[i * tile_px : (i + 1) * tile_px, j * tile_px : (j + 1) * tile_px]
        if not inside[window].all():
            continue
        out["origin"].append((i * tile_px, j * tile_px))
        for key, image in images.items():
            out[key].append(image[(..., *window)])
        for key, phase in phases.items():
            out[key].append((phase[window] - phase[window].mean())[None])
    shapes = {**{k: (0, *v.shape[:-2], tile_px, tile_px) for k, v in images.items()},
              **{k: (0, 1, tile_px, tile_px) for k in phases}, "origin": (0, 2)}
    return {k: np.asarray(v, np.float32) if v else np.zeros(shapes[k], np.float32) for k, v in out.items()}
