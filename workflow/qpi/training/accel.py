"""Where a run computes: threads, device, seed, and the GPU throughput switches in effect (`Accel`).

`setup` does it all in one call for every trainer. The switches (`amp`, `channels_last`, `compile`,
`pin_memory`) are off by default and ignored on CPU.
"""

from __future__ import annotations

import dataclasses
import logging
import random

import numpy as np
import torch
from torch import nn

from qpi.core.device import autocast_dtype, grad_scaler, select_device, set_threads
from qpi.training.config import TrainConfig

log = logging.getLogger("qpi.training.accel")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclasses.dataclass(frozen=True)
class Accel:
    """The throughput switches in effect on one device (all off on CPU)."""

    dtype: torch.dtype | None = None  # autocast precision; None = float32
    channels_last: bool = False
    compile: bool = False
    pin_memory: bool = False


def accel_for(cfg: TrainConfig, device: torch.device) -> Accel:
    """`cfg`'s switches on `device`. On CPU they are ignored with one log line: CPU autocast and
    compilation are slow for these small convolutions and would change the reproducible CPU results."""
    dtype = autocast_dtype(cfg.amp, device)  # also rejects an unknown `amp` on CPU
    if device.type == "cuda":
        return Accel(dtype, cfg.channels_last, cfg.compile, cfg.pin_memory)
    switches = {k: getattr(cfg, k) for k in ("amp", "channels_last", "compile", "pin_memory")}
    asked = [f"{k}={v}" for k, v in switches.items() if v not in (False, "off")]
    if asked:
        log.info("GPU switches %s ignored on %s", ", ".join(asked), device)
    return Accel()


def setup(cfg: TrainConfig) -> tuple[torch.device, Accel]:
    """Threads, device and switches of a run, then its seed (last: the networks built next draw from it)."""
    set_threads(cfg.threads)
    device = select_device(cfg.device)
    accel = accel_for(cfg, device)
    seed_everything(cfg.seed)
    return device, accel


def loss_scaler(accel: Accel) -> torch.amp.GradScaler | None:
    """The loss scaler of fp16 training; None otherwise (nothing to scale or checkpoint)."""
    scaler = grad_scaler(accel.dtype)
    return scaler if scaler.is_enabled() else None


def accelerated(module: nn.Module | None, accel: Accel) -> nn.Module | None:
    """Put `module` in channels-last memory when asked (in place: an optimiser's parameters stay
    valid) and return the module to train with, compiled when asked; the compiled one shares the
    weights, so the plain `module` validates and is saved."""
    if module is None:
        return None
    if accel.channels_last:
        module.to(memory_format=torch.channels_last)
    return torch.compile(module) if accel.compile else module
