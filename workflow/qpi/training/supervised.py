"""Supervised training on (input, target) pairs: its step, its validation, and `train_supervised`.

`fit_pairs` and `validator` serve the paired GAN too (`qpi.training.paired_gan`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from qpi import models
from qpi.core.device import autocast
from qpi.scoring.scores import score_image
from qpi.training import losses
from qpi.training.accel import Accel, accelerated, loss_scaler, setup
from qpi.training.batches import as_tensor, batch_loader, batches_per_epoch, check_pairs, pair_plan, take
from qpi.training.checkpoints import save_model
from qpi.training.config import TrainConfig
from qpi.training.loop import Run, run_epochs, start_run
from qpi.training.optim import backward_step, make_optimizer, make_scheduler

log = logging.getLogger("qpi.training.supervised")


def queue_step(
    model: nn.Module, optimizer, loss_fn, x: torch.Tensor, y: torch.Tensor,
    dtype: torch.dtype | None = None, scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """One optimiser step on a batch in training mode, in autocast `dtype` (None: float32) with the
    loss scaled by `scaler` (fp16); returns the detached loss without waiting for the device."""
    model.train()  # every step: a validation between steps leaves the model in eval mode
    optimizer.zero_grad(set_to_none=True)
    with autocast(x.device.type, dtype):
        loss = loss_fn(model(x), y)
    backward_step(loss, optimizer, scaler)
    return loss.detach()


def train_step(model: nn.Module, optimizer, loss_fn, x: torch.Tensor, y: torch.Tensor) -> float:
    """One float32 optimiser step on a batch; returns the batch loss."""
    return queue_step(model, optimizer, loss_fn, x, y).item()


@torch.no_grad()
def validate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, batch_size: int, device) -> dict:
    """Mean loss, and mean SSIM/PSNR over samples and channels (pistons removed), in eval mode."""
    model.eval()
    total, ssims, psnrs = 0.0, [], []
    for start in range(0, len(x), batch_size):
        index = np.arange(start, min(start + batch_size, len(x)))
        xb, yb = take(x, index, device), take(y, index, device)
        pred = model(xb)
        total += loss_fn(pred, yb).item() * len(index)
        for p, t in zip(_images(pred), _images(yb)):
            s = score_image(p, t, phase=True)
            ssims.append(s["ssim"])
            psnrs.append(s["psnr"])
    return {"val_loss": total / len(x), "val_ssim": float(np.mean(ssims)), "val_psnr": float(np.mean(psnrs))}


def _images(batch: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) tensor → (N·C, H, W) numpy images."""
    return batch.cpu().numpy().reshape(-1, *batch.shape[-2:])


def validator(run: Run, x: torch.Tensor, y: torch.Tensor, loss_fn, device: torch.device) -> Callable[[], None]:
    """The run's validation: score `run.model` on (x, y), log it, and save the model to `best.pt`
    when its validation loss is the lowest yet."""

    def validation() -> None:
        scores = validate(run.model, x, y, loss_fn, run.cfg.batch_size, device)
        progress = run.progress
        run.epochs_log.write(epoch=progress["epoch"], step=progress["step"], **scores)
        progress["validated_step"] = progress["step"]
        log.info("epoch %d step %d: %s", progress["epoch"], progress["step"],
                 " ".join(f"{k} {v:.4g}" for k, v in scores.items()))
        if scores["val_loss"] < progress["best"]["val_loss"]:
            progress["best"] = {**scores, "epoch": progress["epoch"], "step": progress["step"]}
            save_model(run.out / "best.pt", run.model,
                       meta={**progress["best"], "train_config": dataclasses.asdict(run.cfg), "card": run.card})

    return validation


def fit_pairs(run: Run, train: tuple[torch.Tensor, torch.Tensor], val: tuple[torch.Tensor, torch.Tensor], loss_fn,
              device: torch.device, accel: Accel, step: Callable[..., dict]) -> None:
    """`run_epochs` on a paired set: `step` on batches of `train` planned by (seed, epoch), validation
    on `val` by `loss_fn`."""
    (x, y), (vx, vy), cfg = train, val, run.cfg
    run_epochs(run, batches_per_epoch(len(x), cfg.batch_size), pair_plan(len(x), cfg),
               batch_loader((x, y), device, cfg.augment, accel), step, validator(run, vx, vy, loss_fn, device))


def train_supervised(
    model_name: str,
    model_kwargs: dict,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: TrainConfig,
    out_dir: str | Path,
    card: dict | None = None,
    init_state: dict | None = None,
) -> dict:
    """Train `model_name` on (input, target) pairs; resume from `out_dir/last.pt` if present.
    `card` (qpi.report.cards.for_run) is saved, completed, with the model. `init_state` (a state
    dict of the same network) fine-tunes: a fresh run starts from it instead of random weights.

    Writes `steps.csv`, `epochs.csv`, `last.pt` (every `checkpoint_every` epochs and at the end)
    and `best.pt` (lowest validation loss) under `out_dir`; returns a summary of the run.
    """
    check_pairs(*train, "training")
    check_pairs(*val, "validation")
    cfg = cfg.fitted(batches_per_epoch(len(train[0]), cfg.batch_size))
    device, accel = setup(cfg)
    model = models.build(model_name, **model_kwargs)
    if init_state is not None:
        model.load_state_dict(init_state)
    model = model.to(device)
    net = accelerated(model, accel)  # trains; `model` validates and is saved
    optimizer = make_optimizer(model.parameters(), cfg)
    stateful = {"optimizer": optimizer, "scheduler": make_scheduler(optimizer, cfg), "scaler": loss_scaler(accel)}
    loss_fn = losses.loss(cfg.loss)
    x, y = (as_tensor(a, device) for a in train)
    vx, vy = (as_tensor(a, device) for a in val)
    run = start_run(out_dir, cfg, model, stateful, (*train, *val), card=card)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> dict:
        return {"loss": queue_step(net, optimizer, loss_fn, *batch, accel.dtype, stateful["scaler"])}

    fit_pairs(run, (x, y), (vx, vy), loss_fn, device, accel, step)
    return run.summary(model_name, device)
