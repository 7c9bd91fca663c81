"""Batches: the data as resident tensors, each epoch's batch plan and dihedral augmentation.

A plan depends only on (seed, epoch), so an interrupted run resumes on the very batches it would
have seen.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from qpi.training.accel import Accel
from qpi.training.config import TrainConfig


def as_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A float32 tensor of the whole array, on `device` if it takes < half the free memory.

    Otherwise it stays in host memory and batches travel to the device one by one (see `take`:
    pinning the whole array would not help, since gathering a batch's rows copies them anyway).
    """
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if device.type != "cuda":
        return tensor
    free, _ = torch.cuda.mem_get_info(device)
    return tensor.to(device) if tensor.nbytes < free / 2 else tensor


def check_pairs(x: np.ndarray, y: np.ndarray, name: str) -> None:
    """Inputs (N, C, h, w) and targets (N, C', H, W) with the same N."""
    if x.ndim != 4 or y.ndim != 4 or len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"{name} set needs inputs (N,C,h,w) and targets (N,C,H,W) with equal N > 0, "
            f"got {x.shape} and {y.shape}"
        )


def batches_per_epoch(n: int, batch_size: int) -> int:
    """Full batches per epoch (the ragged tail is dropped; a set smaller than a batch is one batch)."""
    return max(n // batch_size, 1)


def epoch_plan(n: int, batch_size: int, seed: int, epoch: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Sample indices of each batch and a dihedral op (0–7) per batch, fixed by (seed, epoch) only."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n)
    size = min(batch_size, n)
    batches = [order[i * size : (i + 1) * size] for i in range(batches_per_epoch(n, batch_size))]
    return batches, rng.integers(0, 8, size=len(batches))


def pair_plan(n: int, cfg: TrainConfig) -> Callable[[int], list]:
    """`plan_for` of a paired set of `n` samples: (indices, dihedral op) per batch, fixed by (seed, epoch)."""
    return lambda epoch: list(zip(*epoch_plan(n, cfg.batch_size, cfg.seed, epoch)))


def dihedral(x: torch.Tensor, op: int) -> torch.Tensor:
    """Symmetry `op` (0–7) of the square on the last two axes: op%4 quarter turns, flipped if op ≥ 4."""
    x = torch.rot90(x, int(op) % 4, dims=(-2, -1))
    return torch.flip(x, dims=(-1,)) if op >= 4 else x


def take(data: torch.Tensor, index: np.ndarray, device: torch.device, pin: bool = False) -> torch.Tensor:
    """Rows `index` of a resident tensor, moved to `device`; with `pin`, host rows bound for a GPU
    are gathered into pinned memory first, the only source a non-blocking copy is asynchronous from."""
    rows = data[torch.from_numpy(index).to(data.device)]
    if pin and rows.device.type == "cpu" and device.type == "cuda":
        rows = rows.pin_memory()
    return rows.to(device, non_blocking=True)


def batch_loader(tensors: tuple[torch.Tensor, ...], device: torch.device, augment: bool, accel: Accel = Accel()):
    """`load` for `run_epochs`: the rows of an (indices, dihedral op) plan item of each of `tensors`
    (inputs, targets) on `device`, transformed alike; the first, the network's input, in
    channels-last memory when asked."""

    def load(item: tuple[np.ndarray, int]) -> tuple[torch.Tensor, ...]:
        index, op = item
        batch = [take(t, index, device, accel.pin_memory) for t in tensors]
        if augment:
            batch = [dihedral(b, op) for b in batch]
        if accel.channels_last:
            batch[0] = batch[0].contiguous(memory_format=torch.channels_last)
        return tuple(batch)

    return load
