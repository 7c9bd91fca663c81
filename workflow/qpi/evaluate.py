"""Full-field tiled inference, timing, and evaluation results on disk."""

from __future__ import annotations

import time

import numpy as np

from .patches import grid


def ramp(size: int, overlap: int) -> np.ndarray:
    """1-D blending weight rising over `overlap` pixels at both ends (never exactly zero)."""
    weight = np.ones(size)
    overlap = min(overlap, size // 2)
    if overlap > 0:
        edge = (np.arange(overlap) + 0.5) / overlap
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


def tiled_predict(model, image: np.ndarray, factor: int, tile: int, overlap: int, device="cpu", batch: int = 8,
                  log=None) -> np.ndarray:
    """Run `model` over an image (h, w) or channels (C, h, w) in overlapping tiles; return the blended
    output (C', h·f, w·f), or (h·f, w·f) for a 2-D image and a one-channel output.

    Tiles are `tile` input pixels wide with `overlap` pixels shared, so the network always sees its
    training size; a side shorter than a tile is mirror-padded to one and the output cropped back.
    With `log`, progress is logged every tenth of the field.
    """
    import torch

    x = np.asarray(image, np.float32)
    x = x[None] if x.ndim == 2 else x
    _, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, max(tile - h, 0)), (0, max(tile - w, 0))), mode="symmetric")
    ph, pw = x.shape[1:]
    step = max(tile - overlap, 1)
    origins = [(y, x0) for y in grid(ph, tile, step) for x0 in grid(pw, tile, step)]
    ft = tile * factor
    weight = np.outer(ramp(ft, overlap * factor), ramp(ft, overlap * factor))
    out = norm = None
    shown = 0
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(origins), batch):
            chunk = origins[i : i + batch]
            xb = np.stack([x[:, y : y + tile, x0 : x0 + tile] for y, x0 in chunk])
            pred = model(torch.from_numpy(np.ascontiguousarray(xb)).to(device)).float().cpu().numpy()
            if out is None:
                out = np.zeros((pred.shape[1], ph * factor, pw * factor))
                norm = np.zeros((ph * factor, pw * factor))
            for (y, x0), p in zip(chunk, pred):
                sl = (slice(y * factor, y * factor + ft), slice(x0 * factor, x0 * factor + ft))
                out[(slice(None), *sl)] += p * weight
                norm[sl] += weight
            done = min(i + batch, len(origins))
            if log is not None and len(origins) > batch and (done * 10 // len(origins) > shown or done == len(origins)):
                shown = done * 10 // len(origins)
                log.info("tiles %d/%d (%d%%)", done, len(origins), 100 * done // len(origins))
    out = (out / norm)[:, : h * factor, : w * factor].astype(np.float32)
    return out[0] if np.ndim(image) == 2 and len(out) == 1 else out


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def save_results(rows: list[dict], predictions: dict, table_path, predictions_path) -> None:
    """Per-image scores as tidy CSV and predictions as compressed .npz, both atomically."""
    import pandas as pd

    from .atomic import atomic_path

    with atomic_path(table_path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    with atomic_path(predictions_path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **predictions)
