"""Optimisation: the optimiser and learning-rate schedule of a config, and one backward-and-step."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from qpi.training.config import TrainConfig


def make_optimizer(params: Iterable[nn.Parameter], cfg: TrainConfig, discriminator: bool = False) -> torch.optim.Optimizer:
    """Adam over `params` at the config's lr and betas (a discriminator's: `betas_d` when set)."""
    if cfg.optimizer != "adam":
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; available: 'adam'")
    betas = cfg.betas_d if discriminator and cfg.betas_d is not None else cfg.betas
    return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(betas))


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig):
    """The per-epoch learning-rate schedule of `cfg.lr_schedule` (step, cosine, or linear:
    {"name": "linear", "constant_epochs": E}); None for a constant rate."""
    spec = cfg.lr_schedule or {}
    name = spec.get("name")
    if name is None:
        return None
    schedulers = torch.optim.lr_scheduler
    if name == "step":
        return schedulers.StepLR(optimizer, step_size=spec["step_size"], gamma=spec.get("gamma", 0.1))
    if name == "cosine":
        # over the whole run unless told otherwise, so a shorter run (a per-network override) anneals fully
        return schedulers.CosineAnnealingLR(optimizer, T_max=spec.get("epochs", cfg.epochs), eta_min=spec.get("min_lr", 0.0))
    if name == "linear":  # CycleGAN's policy: constant, then a decay that would reach 0 one epoch after the last
        constant, total = int(spec["constant_epochs"]), cfg.epochs
        if not 0 <= constant < total:
            raise ValueError(f"linear lr decay needs 0 ≤ constant_epochs < epochs, got {constant} and {total}")
        return schedulers.LambdaLR(optimizer, lambda epoch: 1.0 - max(0, epoch + 1 - constant) / (total - constant + 1))
    raise ValueError(f"unknown lr_schedule {name!r}; available: 'step', 'cosine', 'linear'")


def backward_step(loss: torch.Tensor, optimizer, scaler: torch.amp.GradScaler | None = None,
                  update: bool = True) -> None:
    """Backpropagate `loss` and step `optimizer`, through `scaler` when given (its step is skipped
    when the scaled gradients overflowed); `update` the scale after the step (once per iteration)."""
    if scaler is None:
        loss.backward()
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    if update:
        scaler.update()
