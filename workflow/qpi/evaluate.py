"""Full-field tiled inference, timing, and evaluation results on disk."""

from __future__ import annotations

import pickle
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


def tiled_predict(model, lr: np.ndarray, factor: int, tile: int, overlap: int, device="cpu", batch: int = 8):
    """Run `model` over an LR image (h, w) in overlapping tiles; return the blended HR output (h·f, w·f).

    Tiles are `tile` LR pixels wide with `overlap` LR pixels shared; images smaller than a tile
    run in one piece. The output size is always the input size × `factor`.
    """
    import torch

    h, w = lr.shape
    th, tw = min(tile, h), min(tile, w)
    step_y, step_x = max(th - overlap, 1), max(tw - overlap, 1)
    origins = [(y, x) for y in grid(h, th, step_y) for x in grid(w, tw, step_x)]
    weight = np.outer(ramp(th * factor, overlap * factor), ramp(tw * factor, overlap * factor))
    out = np.zeros((h * factor, w * factor))
    norm = np.zeros_like(out)
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(origins), batch):
            chunk = origins[i : i + batch]
            x = np.stack([lr[y : y + th, x0 : x0 + tw] for y, x0 in chunk])[:, None]
            pred = model(torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(device)).float().cpu().numpy()
            for (y, x0), p in zip(chunk, pred[:, 0]):
                sl = (slice(y * factor, (y + th) * factor), slice(x0 * factor, (x0 + tw) * factor))
                out[sl] += p * weight
                norm[sl] += weight
    return (out / norm).astype(np.float32)


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


PREDICT_MODELS = ("srqpi_unet", "srcnn")  # what `qpi predict` applies: one LR intensity → phase × upscale


def predict_file(model_path, input_path, output_path, device="auto", tile=64, overlap=None) -> np.ndarray:
    """`qpi predict`: apply a trained model to one LR intensity TIFF, write the float32 phase TIFF."""
    from . import io
    from .checkpoints import load_model
    from .device import select_device

    dev = select_device(device)
    try:  # on the CPU first: a CUDA error below is not a bad file
        model = load_model(model_path)
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, RuntimeError) as exc:
        raise io.StackError(f"{model_path}: not a deep-qpi model file (torch.load: {type(exc).__name__}); give a "
                            "best.pt that training wrote, e.g. results/srqpi/z2/models/unet_s0/best.pt.") from exc
    channels = (model.config.get("in_channels", 1), model.config.get("out_channels", 1))
    if model.registry_name not in PREDICT_MODELS or channels != (1, 1):
        raise io.StackError(
            f"{model_path}: a {model.registry_name} model with {channels[0]} input and {channels[1]} output "
            f"channels; qpi predict applies DL-SRQPI models ({', '.join(PREDICT_MODELS)}: one LR intensity image "
            "in, its phase out). Other families' inputs and outputs differ (MCNN: several planes; DespeckleNet "
            "and its U-Net: intensity and phase out; ContransGAN: the HR grid), so their models run through the "
            "pipeline's evaluation rules.")
    model = model.to(dev)
    lr, meta = io.read_image(input_path)
    lr = lr / lr.mean()  # networks see mean-normalised intensity, as in training
    factor = int(model.config.get("upscale", 1))
    overlap = tile // 4 if overlap is None else overlap
    phase = tiled_predict(model, lr.astype(np.float32), factor, tile, overlap, device=dev)
    pixel = meta.get("pixel_um")
    io.write_image(output_path, phase, pixel_um=(pixel / factor) if pixel else 1.0, kind="predicted phase (rad)",
                   model=str(model_path))
    return phase
