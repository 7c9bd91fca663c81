"""Full-field tiled inference, timing, and evaluation results on disk."""

from __future__ import annotations

import time

import numpy as np

from qpi.training.patches import grid

EDGE_WEIGHT = 1e-3  # a tile's weight next to its edge: not zero, so a field's own edge keeps its one tile


def ramp(size: int, overlap: int) -> np.ndarray:
    """1-D blending weight over `overlap` pixels at both ends: about zero over the first quarter, where a
    tile's zero padding still reaches its output, then rising linearly to 1 (never exactly zero)."""
    weight = np.ones(size)
    overlap = min(overlap, size // 2)
    if overlap > 0:
        dead = overlap // 4
        edge = np.full(overlap, EDGE_WEIGHT)
        edge[dead:] = np.maximum((np.arange(overlap - dead) + 0.5) / (overlap - dead), EDGE_WEIGHT)
        weight[:overlap] = edge
        weight[size - overlap :] = edge[::-1]
    return weight


def predict_batches(model, x: np.ndarray, device="cpu", batch: int = 16) -> np.ndarray:
    """`model`'s outputs for whole inputs `x` (N, C, H, W), in eval mode, `batch` at a time."""
    import torch

    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(x), batch):
            xb = torch.from_numpy(np.ascontiguousarray(x[start : start + batch])).to(device)
            out.append(model(xb).float().cpu().numpy())
    return np.concatenate(out)


def default_overlap(tile: int) -> int:
    """Pixels neighbouring tiles share unless a card says otherwise: a quarter of the tile."""
    return tile // 4


TILE_OUT_PX = 1024  # the largest output tile side a network whose output ignores the tile is run on (memory)


def follows_the_tile(model) -> bool:
    """True when a layer normalises over the image (instance or group norm): the network's output then
    depends on the field it sees, so it is run on fields of its training size."""
    from torch import nn

    return any(isinstance(m, (nn.modules.instancenorm._InstanceNorm, nn.GroupNorm)) for m in model.modules())


def tile_side(side: int, tile: int, overlap: int, largest: int, multiple: int = 1) -> int:
    """The tile for one axis of `side` pixels: the fewest tiles of at most `largest` pixels (at least
    `tile`) that cover it with `overlap` shared, evened out and rounded up to a `multiple` of pixels, so
    hardly a pixel more than the field is computed."""
    largest = max(tile, largest // multiple * multiple)
    if side <= largest:
        return max(tile, -(-side // multiple) * multiple)
    count = -(-(side - overlap) // (largest - overlap))
    even = -(-(side - overlap) // count) + overlap
    return max(tile, min(-(-even // multiple) * multiple, largest))


def tiled_predict(model, image: np.ndarray, factor: int, tile: int, overlap: int, device="cpu", log=None,
                  grow: bool = True, largest_out: int = TILE_OUT_PX) -> np.ndarray:
    """Run `model` over an image (h, w) or channels (C, h, w) in overlapping tiles; return the blended
    output (C', h·f, w·f), or (h·f, w·f) for a 2-D image and a one-channel output.

    `tile` is the network's training size (input pixels) and `overlap` the pixels neighbouring tiles
    share, over which they are blended. A network whose output ignores the field it sees (no instance
    or group norm) runs with `grow` on tiles as large as `largest_out` output pixels allows, sized to
    cover the field evenly; one that follows the tile, or with `grow` False, on tiles of `tile`. A side
    shorter than a tile is mirror-padded to one and the output cropped back. With `log`, progress is
    logged every tenth of the field.
    """
    import torch

    x = np.asarray(image, np.float32)
    x = x[None] if x.ndim == 2 else x
    _, h, w = x.shape
    if grow and not follows_the_tile(model):
        multiple = getattr(model, "multiple", 1)  # output sizes must divide by it
        multiple //= np.gcd(multiple, factor)
        ty, tx = (tile_side(n, tile, overlap, largest_out // factor, multiple) for n in (h, w))
    else:
        ty = tx = tile
    x = np.pad(x, ((0, 0), (0, max(ty - h, 0)), (0, max(tx - w, 0))), mode="symmetric")
    ph, pw = x.shape[1:]
    origins = [(y, x0) for y in grid(ph, ty, max(ty - overlap, 1)) for x0 in grid(pw, tx, max(tx - overlap, 1))]
    fy, fx = ty * factor, tx * factor
    weight = np.outer(ramp(fy, overlap * factor), ramp(fx, overlap * factor)).astype(np.float32)
    batch = max(1, largest_out**2 // (fy * fx))  # as many tiles a batch as one largest tile holds
    out = norm = None
    shown = 0
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(origins), batch):
            chunk = origins[i : i + batch]
            xb = np.stack([x[:, y : y + ty, x0 : x0 + tx] for y, x0 in chunk])
            pred = model(torch.from_numpy(np.ascontiguousarray(xb)).to(device)).float().cpu().numpy()
            if out is None:
                out = np.zeros((pred.shape[1], ph * factor, pw * factor), np.float32)
                norm = np.zeros((ph * factor, pw * factor), np.float32)
            for (y, x0), p in zip(chunk, pred):
                sl = (slice(y * factor, y * factor + fy), slice(x0 * factor, x0 * factor + fx))
                out[(slice(None), *sl)] += p * weight
                norm[sl] += weight
            done = min(i + batch, len(origins))
            if log is not None and len(origins) > batch and (done * 10 // len(origins) > shown or done == len(origins)):
                shown = done * 10 // len(origins)
                log.info("tiles %d/%d (%d%%)", done, len(origins), 100 * done // len(origins))
    out = (out / norm)[:, : h * factor, : w * factor]
    return out[0] if np.ndim(image) == 2 and len(out) == 1 else out


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def save_results(rows: list[dict], predictions: dict, table_path, predictions_path) -> None:
    """Per-image scores as tidy CSV and predictions as compressed .npz, both atomically."""
    import pandas as pd

    from qpi.core.atomic import atomic_path

    with atomic_path(table_path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    with atomic_path(predictions_path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **predictions)
