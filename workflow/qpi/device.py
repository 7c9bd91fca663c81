"""Compute device and CPU thread choice for training and inference."""

from __future__ import annotations

import logging

import torch

log = logging.getLogger("qpi.device")


class DeviceError(RuntimeError):
    """A requested device is not usable on this machine (user-facing)."""


def select_device(requested: str = "auto") -> torch.device:
    """`"auto"` → CUDA when available, else CPU; an explicit `"cuda[:i]"` must exist."""
    if requested == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        log.info("device auto → %s", device)
        return device
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"device {requested!r} requested but CUDA is not available on this machine; "
            "set the device to 'auto' or 'cpu'"
        )
    log.info("device %s", device)
    return device


def set_threads(n: int | None) -> None:
    """Limit torch's intra-op CPU threads to `n` (the rule's `threads:`); None leaves the default."""
    if n is None:
        return
    if n < 1:
        raise ValueError(f"thread count must be ≥ 1, got {n}")
    torch.set_num_threads(n)
