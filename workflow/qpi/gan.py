"""Paired-GAN training (DespeckleNet): alternating discriminator and generator updates.

Generator loss: −log D(x, G(x)) + α·L1(G(x), y); discriminator loss: the mean of −log D(x, y) and
−log(1 − D(x, G(x))) over its patch logits (conditional PatchGAN). With `adversarial=False` the
same loop trains a plain network on its reconstruction loss alone (the family's baselines: L1 for
the U-Net, the negative Pearson correlation for IDiffNet), so every model of the family shares
batches, augmentation, logs and checkpoints.

It reuses the supervised loop's helpers (`qpi.train`): batches and dihedral augmentation fixed by
(seed, epoch), CSV logs, checkpoints holding both networks and optimisers, RNGs and logs, so an
interrupted run resumes to the same result on CPU. It runs in float32 (the GPU throughput
switches of `TrainConfig` are not used here).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from qpi import models
from qpi.device import select_device, set_threads
from qpi.models.despeckle import npcc
from qpi.train import (
    TrainConfig, as_tensor, batches_per_epoch, check_pairs, data_digest, dihedral, epoch_plan, load_checkpoint,
    make_optimizer, make_scheduler, new_progress, open_run_logs, progress_bar, record_validation, resumable,
    save_checkpoint, seed_everything, take, validate,
)

log = logging.getLogger("qpi.gan")

RECONSTRUCTION = {"l1": F.l1_loss, "npcc": npcc}
STEP_FIELDS = ("step", "epoch", "loss", "loss_d", "loss_adv", "loss_recon", "lr", "seconds")


@dataclasses.dataclass
class PairedConfig(TrainConfig):
    """`TrainConfig` plus the GAN's settings; `loss` names the reconstruction loss ("l1" | "npcc").

    The paper weighs L1 by α = 0.3–0.4 against the adversarial term (pix2pix's public code: 100).
    """

    loss: str = "l1"
    alpha: float = 0.35
    adversarial: bool = True
    discriminator: dict = dataclasses.field(default_factory=lambda: {"arch": "patchgan"})


def reconstruction(name: str):
    if name not in RECONSTRUCTION:
        raise ValueError(f"unknown reconstruction loss {name!r}; available: {', '.join(RECONSTRUCTION)}")
    return RECONSTRUCTION[name]


def adversarial_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """−log D (real) or −log(1 − D) (fake), averaged over the patch logits."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(real)))


def gan_step(
    generator: nn.Module, discriminator: nn.Module | None, opt_g, opt_d, x: torch.Tensor, y: torch.Tensor,
    alpha: float, recon,
) -> dict[str, float]:
    """One discriminator then one generator update on a batch (only the generator's, on its
    reconstruction loss, when `discriminator` is None); the batch losses."""
    fake = generator(x)
    losses = {"loss_d": math.nan, "loss_adv": math.nan}
    if discriminator is not None:
        opt_d.zero_grad(set_to_none=True)
        loss_d = 0.5 * (adversarial_loss(discriminator(torch.cat([x, y], 1)), True)
                        + adversarial_loss(discriminator(torch.cat([x, fake.detach()], 1)), False))
        loss_d.backward()
        opt_d.step()
        losses["loss_d"] = loss_d.item()
    opt_g.zero_grad(set_to_none=True)
    loss_recon = recon(fake, y)
    loss = loss_recon
    if discriminator is not None:
        loss_adv = adversarial_loss(discriminator(torch.cat([x, fake], 1)), True)
        loss = loss_adv + alpha * loss_recon
        losses["loss_adv"] = loss_adv.item()
    loss.backward()
    opt_g.step()
    return {"loss": loss.item(), "loss_recon": loss_recon.item(), **losses}


def train_paired(
    model_name: str,
    model_kwargs: dict,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: PairedConfig,
    out_dir: str | Path,
) -> dict:
    """Train generator `model_name` on (input, target) pairs, adversarially when `cfg.adversarial`;
    resume from `out_dir/last.pt`. Writes `steps.csv`, `epochs.csv` (validation on the
    reconstruction loss and SSIM), `last.pt` and `best.pt` (lowest validation loss) under `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for partial in out.glob(".*.pt.*"):  # temporary files of writes a kill cut short
        partial.unlink()
    check_pairs(*train, "training")
    check_pairs(*val, "validation")
    set_threads(cfg.threads)
    device = select_device(cfg.device)
    seed_everything(cfg.seed)
    generator = models.build(model_name, **model_kwargs).to(device)
    opt_g = make_optimizer(generator.parameters(), cfg)
    discriminator = opt_d = None
    if cfg.adversarial:
        spec = dict(cfg.discriminator)
        discriminator = models.build(spec.pop("arch"), **spec).to(device)
        opt_d = make_optimizer(discriminator.parameters(), cfg)
    stateful = {"optimizer": opt_g, "scheduler": make_scheduler(opt_g, cfg), "discriminator": discriminator,
                "optimizer_d": opt_d, "scheduler_d": make_scheduler(opt_d, cfg) if opt_d else None}
    recon = reconstruction(cfg.loss)
    x, y = (as_tensor(a, device) for a in train)
    vx, vy = (as_tensor(a, device) for a in val)

    digest = data_digest(*train, *val)
    resumed = resumable(out / "last.pt", generator, digest)
    progress = load_checkpoint(out / "last.pt", generator, stateful, cfg) if resumed else new_progress(digest)
    if resumed:
        log.info("resuming %s at epoch %d, step %d", out / "last.pt", progress["epoch"], progress["step"])
    steps_log, epochs_log = open_run_logs(out, progress["step"] if resumed else None, step_fields=STEP_FIELDS)

    def checkpoint() -> None:
        steps_log.flush()
        epochs_log.flush()
        save_checkpoint(out / "last.pt", generator, stateful, progress, cfg,
                        (steps_log.path, epochs_log.path, out / "best.pt"))

    def validation() -> None:
        scores = validate(generator, vx, vy, recon, cfg.batch_size, device)
        record_validation(scores, progress, epochs_log, generator, out / "best.pt", cfg)

    per_epoch = batches_per_epoch(len(x), cfg.batch_size)
    total = per_epoch * cfg.epochs if cfg.max_steps is None else min(per_epoch * cfg.epochs, cfg.max_steps)
    started = time.perf_counter()
    bar = progress_bar(total, progress["step"], log)
    for epoch in range(progress["epoch"], cfg.epochs):
        done = progress["step"] - epoch * per_epoch  # a run stopped by max_steps may end mid-epoch
        plan = list(zip(*epoch_plan(len(x), cfg.batch_size, cfg.seed, epoch)))
        for index, op in plan[done : done + total - progress["step"]]:
            tic = time.perf_counter()
            xb, yb = take(x, index, device), take(y, index, device)
            if cfg.augment:
                xb, yb = dihedral(xb, op), dihedral(yb, op)
            generator.train()
            if discriminator is not None:
                discriminator.train()
            losses = gan_step(generator, discriminator, opt_g, opt_d, xb, yb, cfg.alpha, recon)
            progress["step"] += 1
            steps_log.write(step=progress["step"], epoch=epoch + 1, lr=opt_g.param_groups[0]["lr"],
                            seconds=time.perf_counter() - tic, **losses)
            bar.update()
            if cfg.val_every_steps and progress["step"] % cfg.val_every_steps == 0:
                validation()
        if progress["step"] < (epoch + 1) * per_epoch:
            break  # stopped by max_steps
        progress["epoch"] = epoch + 1
        for name in ("scheduler", "scheduler_d"):
            if stateful[name] is not None:
                stateful[name].step()
        if progress["epoch"] % cfg.val_every == 0 and progress["validated_step"] != progress["step"]:
            validation()
        if progress["epoch"] % cfg.checkpoint_every == 0:
            checkpoint()
    bar.close()
    if progress["validated_step"] != progress["step"]:
        validation()
    checkpoint()
    steps_log.close()
    epochs_log.close()
    return {"model": model_name, "device": str(device), "epochs": progress["epoch"], "steps": progress["step"],
            "resumed": resumed, "seconds": time.perf_counter() - started, "best": progress["best"]}
