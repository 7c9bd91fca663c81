"""Toy data and settings several test files train on (importable: pytest puts tests/ on sys.path)."""

import numpy as np
import torch
import torch.nn.functional as F

from qpi.training.config import TrainConfig


def sr_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """LR intensities (n, 1, 8, 8) and an HR 'phase' (n, 1, 32, 32) computed from them."""
    x = np.random.default_rng(seed).random((n, 1, 8, 8), dtype=np.float32)
    y = F.interpolate(torch.from_numpy(x), scale_factor=4, mode="bicubic", align_corners=False)
    return x, (2 * y - 1).numpy()


def train_config(**kw) -> TrainConfig:
    """Two quick CPU epochs, seed 7, with `kw` overriding."""
    base = {"epochs": 2, "batch_size": 4, "lr": 1e-2, "device": "cpu", "threads": 1, "seed": 7}
    return TrainConfig(**{**base, **kw})
