"""Paired LR/HR patch datasets: extraction, an edge-content filter, splits by field of view, or by
spatial blocks of each field when there are too few fields to split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from qpi.core.atomic import atomic_path

SPLITS = ("train", "val", "test")
NO_SPLIT = -1  # a region map's pixels in no split: a guard band, or a block mostly outside the field stop


def split_fields(names: list[str], val: float, test: float, seed: int,
                 pinned: dict[str, str] | None = None) -> dict[str, str]:
    """Assign each field of view to one split (never two), reproducibly for a seed.

    Val and test get at least one field each when their fraction is > 0 and there are
    enough fields; train keeps the rest. `pinned` fields ({name: split}, e.g. the sample
    sheet's split column) keep theirs and count towards those numbers; the rest are drawn.
    """
    pinned = {n: s for n, s in (pinned or {}).items() if n in names}
    free = sorted(n for n in names if n not in pinned)
    order = np.random.default_rng(seed).permutation(len(free))
    n_test = max(int(round(test * len(names))), 1 if test > 0 else 0)
    n_val = max(int(round(val * len(names))), 1 if val > 0 else 0)
    n_test, n_val = (max(n - list(pinned.values()).count(part), 0) for n, part in ((n_test, "test"), (n_val, "val")))
    if n_test + n_val > len(free) or (n_test + n_val == len(free) and "train" not in pinned.values()):
        raise ValueError(f"{len(names)} fields of view are too few to split by field into train, val={val} and "
                         f"test={test} (at least {len(pinned) + n_test + n_val + ('train' not in pinned.values())} "
                         "needed, no field in two splits): "
                         "add stacks")
    split = dict(pinned)
    for rank, i in enumerate(order):
        split[free[i]] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    return split


def block_regions(shape: tuple[int, int], val: float, test: float, seed, grid: int = 3, guard: int = 0,
                  valid: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, tuple[str, int, int, int, int]]]:
    """One field split into `grid`×`grid` blocks, each block in one split (as `split_fields` splits
    fields), for labs with too few fields to split by field.

    Blocks with less than half of their pixels `valid` (e.g. outside a field stop) are in no split.
    Each split is then kept `guard` pixels away from the splits it could leak into: pixels of train
    within `guard` of val or test, and of val within `guard` of test, are in none, so a test block
    keeps its whole rectangle. Returns the region map (H, W; the index of its split in `SPLITS`, else
    `NO_SPLIT`) and the blocks in a split, {name: (split, y0, y1, x0, x1)} in pixels of `shape`.
    """
    ys, xs = (np.linspace(0, n, grid + 1).round().astype(int) for n in shape)
    rects = {f"b{i}{j}": (ys[i], ys[i + 1], xs[j], xs[j + 1]) for i in range(grid) for j in range(grid)}
    if valid is not None:
        rects = {k: r for k, r in rects.items() if valid[r[0] : r[1], r[2] : r[3]].mean() >= 0.5}
    parts = split_fields(list(rects), val, test, seed)
    region = np.full(shape, NO_SPLIT, np.int8)
    for name, (y0, y1, x0, x1) in rects.items():
        region[y0:y1, x0:x1] = SPLITS.index(parts[name])
    for protected in ("test", "val"):
        code = SPLITS.index(protected)
        near = ndimage.maximum_filter(region == code, size=2 * guard + 1) if guard else region == code
        region[near & (region >= 0) & (region < code)] = NO_SPLIT
    return region, {k: (parts[k], *r) for k, r in sorted(rects.items())}


def grid(size: int, patch: int, stride: int) -> list[int]:
    """Patch origins covering [0, size) with the given stride; the last patch touches the edge."""
    if patch > size:
        raise ValueError(f"patch {patch} larger than image {size}")
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def extract_pairs(
    lr: np.ndarray, hr: np.ndarray, factor: int, lr_size: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aligned patches: LR (N, lr_size, lr_size), HR (N, lr_size·f, lr_size·f), origins (N, 2) in LR px."""
    if hr.shape != (lr.shape[0] * factor, lr.shape[1] * factor):
        raise ValueError(f"HR shape {hr.shape} is not LR shape {lr.shape} × {factor}")
    hs = lr_size * factor
    origins = np.array([(y, x) for y in grid(lr.shape[0], lr_size, stride) for x in grid(lr.shape[1], lr_size, stride)])
    lr_p = np.stack([lr[y : y + lr_size, x : x + lr_size] for y, x in origins])
    hr_p = np.stack([hr[y * factor : y * factor + hs, x * factor : x * factor + hs] for y, x in origins])
    return lr_p, hr_p, origins


def edge_fraction(patches: np.ndarray, threshold: float) -> np.ndarray:
    """Fraction of pixels of each patch (N, H, W) whose Sobel gradient magnitude exceeds `threshold`."""
    gy = ndimage.sobel(patches, axis=-2, mode="nearest") / 8
    gx = ndimage.sobel(patches, axis=-1, mode="nearest") / 8
    return (np.hypot(gx, gy) > threshold).mean(axis=(-2, -1))


def has_content(hr_patches: np.ndarray, min_edge: float, threshold_rad: float = 0.02) -> np.ndarray:
    """Keep patches with at least `min_edge` of their pixels on phase edges (drops empty background)."""
    return edge_fraction(hr_patches, threshold_rad) >= min_edge


def save_dataset(path: str | Path, arrays: dict[str, np.ndarray], provenance: dict) -> None:
    """Compressed .npz of float32 arrays plus a JSON sidecar `<path>.json` describing how it was made."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **{k: np.asarray(v, np.float32) for k, v in arrays.items()})
    with atomic_path(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(provenance, indent=2, sort_keys=True))


def load_dataset(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def paired_dataset(
    fields: dict[str, tuple[np.ndarray, np.ndarray]],
    split: dict[str, str],
    factor: int,
    lr_size: int,
    stride: int,
    min_edge: float,
) -> tuple[dict[str, np.ndarray], dict]:
    """Patch pairs per split from full fields {name: (lr, hr)} → arrays x_<split>, y_<split> (N,1,h,w).

    A field's `split` is its split's name, or a region map on its LR grid (`block_regions`): then a
    patch belongs to a split only when every one of its pixels does. Empty patches and those reaching
    outside a field stop (NaN labels) are dropped in every split; augmentation is left to the trainer
    (train split only).
    """
    arrays, counts = {}, {}
    for part in SPLITS:
        xs, ys = [], []
        kept = total = 0
        for name in sorted(n for n in fields if _in_split(split[n], part)):
            lr, hr = fields[name]
            hr = hr[: lr.shape[0] * factor, : lr.shape[1] * factor]  # binning cut what did not fill a block
            lr_p, hr_p, origins = extract_pairs(lr, hr, factor, lr_size, stride)
            ours = np.ones(len(origins), bool)
            if not isinstance(split[name], str):  # a region map: patches wholly inside this split's blocks
                code = SPLITS.index(part)
                ours = np.array([(split[name][y : y + lr_size, x : x + lr_size] == code).all() for y, x in origins])
            keep = ours & has_content(hr_p, min_edge) & np.isfinite(hr_p).all(axis=(1, 2))  # NaN: outside a stop
            xs.append(lr_p[keep])
            ys.append(hr_p[keep])
            kept, total = kept + int(keep.sum()), total + int(ours.sum())
        empty_x = np.zeros((0, lr_size, lr_size), np.float32)
        empty_y = np.zeros((0, lr_size * factor, lr_size * factor), np.float32)
        arrays[f"x_{part}"] = np.concatenate(xs or [empty_x])[:, None]
        arrays[f"y_{part}"] = np.concatenate(ys or [empty_y])[:, None]
        counts[part] = {"fields": sorted(n for n in fields if _in_split(split[n], part)), "patches": kept,
                        "dropped": total - kept}
    return arrays, {"splits": counts, "factor": factor, "lr_size": lr_size, "stride": stride, "min_edge": min_edge}


def _in_split(split: str | np.ndarray, part: str) -> bool:
    """Whether a field (its split's name, or its region map) has pixels in split `part`."""
    return split == part if isinstance(split, str) else bool((split == SPLITS.index(part)).any())
