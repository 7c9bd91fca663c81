"""Paired-GAN training (DespeckleNet): alternating discriminator and generator updates.

Generator loss: −log D(x, G(x)) + α·L1(G(x), y); discriminator loss: the mean of −log D(x, y) and
−log(1 − D(x, G(x))) over its patch logits (conditional PatchGAN). With `adversarial=False` the
same loop trains a plain network on its reconstruction loss alone (the family's baselines: L1 for
the U-Net, the negative Pearson correlation for IDiffNet), so every model of the family shares
batches, augmentation, logs and checkpoints.

It runs on the shared run loop (`qpi.training.loop.run_epochs`, through `qpi.training.supervised.fit_pairs`):
batches and dihedral augmentation fixed by (seed, epoch), CSV logs, checkpoints holding both networks
and optimisers, RNGs and logs, so an interrupted run resumes to the same result on CPU. GPU switches
(`amp`, `channels_last`, `compile`, `pin_memory`) as in the supervised loop; ignored on CPU
(`qpi.training.accel.accel_for`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from qpi import models
from qpi.core.device import autocast
from qpi.training import losses
from qpi.training.accel import accelerated, loss_scaler, setup
from qpi.training.batches import as_tensor, batches_per_epoch, check_pairs
from qpi.training.config import TrainConfig
from qpi.training.loop import start_run
from qpi.training.optim import backward_step, make_optimizer, make_scheduler
from qpi.training.supervised import fit_pairs

log = logging.getLogger("qpi.training.paired_gan")

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


def gan_step(
    generator: nn.Module, discriminator: nn.Module | None, opt_g, opt_d, x: torch.Tensor, y: torch.Tensor,
    alpha: float, recon, dtype: torch.dtype | None = None, scaler: torch.amp.GradScaler | None = None,
) -> dict[str, torch.Tensor | float]:
    """One discriminator then one generator update on a batch (only the generator's, on its
    reconstruction loss, when `discriminator` is None), in autocast `dtype` with the losses scaled by
    `scaler` (fp16); the detached batch losses, read without waiting for the device."""
    device = x.device.type
    generator.train()
    with autocast(device, dtype):
        fake = generator(x)
    adversarial = {"loss_d": math.nan, "loss_adv": math.nan}
    if discriminator is not None:
        discriminator.train()
        opt_d.zero_grad(set_to_none=True)
        with autocast(device, dtype):
            loss_d = 0.5 * (losses.bce_gan(discriminator(torch.cat([x, y], 1)), True)
                            + losses.bce_gan(discriminator(torch.cat([x, fake.detach()], 1)), False))
        backward_step(loss_d, opt_d, scaler, update=False)
        adversarial["loss_d"] = loss_d.detach()
    opt_g.zero_grad(set_to_none=True)
    loss_recon = recon(fake.float(), y)  # outside autocast: NPCC's sums need float32
    loss = loss_recon
    if discriminator is not None:
        with autocast(device, dtype):
            loss_adv = losses.bce_gan(discriminator(torch.cat([x, fake], 1)), True)
        loss = loss_adv + alpha * loss_recon
        adversarial["loss_adv"] = loss_adv.detach()
    backward_step(loss, opt_g, scaler)
    return {"loss": loss.detach(), "loss_recon": loss_recon.detach(), **adversarial}


def train_paired(
    model_name: str, model_kwargs: dict, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
    cfg: PairedConfig, out_dir: str | Path, card: dict | None = None,
) -> dict:
    """Train generator `model_name` on (input, target) pairs, adversarially when `cfg.adversarial`;
    resume from `out_dir/last.pt`. Writes `steps.csv`, `epochs.csv` (validation on the
    reconstruction loss and SSIM), `last.pt` and `best.pt` (lowest validation loss) under `out_dir`."""
    check_pairs(*train, "training")
    check_pairs(*val, "validation")
    cfg = cfg.fitted(batches_per_epoch(len(train[0]), cfg.batch_size))
    device, accel = setup(cfg)
    generator = models.build(model_name, **model_kwargs).to(device)
    opt_g = make_optimizer(generator.parameters(), cfg)
    discriminator = opt_d = None
    if cfg.adversarial:
        spec = dict(cfg.discriminator)
        discriminator = models.build(spec.pop("arch"), **spec).to(device)
        opt_d = make_optimizer(discriminator.parameters(), cfg, discriminator=True)
    # compiled copies train; the plain modules validate and are saved (they share the weights)
    g_net, d_net = accelerated(generator, accel), accelerated(discriminator, accel)
    stateful = {"optimizer": opt_g, "scheduler": make_scheduler(opt_g, cfg), "discriminator": discriminator,
                "optimizer_d": opt_d, "scheduler_d": make_scheduler(opt_d, cfg) if opt_d else None,
                "scaler": loss_scaler(accel)}
    recon = losses.loss(cfg.loss)
    x, y = (as_tensor(a, device) for a in train)
    vx, vy = (as_tensor(a, device) for a in val)
    run = start_run(out_dir, cfg, generator, stateful, (*train, *val), STEP_FIELDS, card=card)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> dict:
        return gan_step(g_net, d_net, opt_g, opt_d, *batch, cfg.alpha, recon, accel.dtype, stateful["scaler"])

    fit_pairs(run, (x, y), (vx, vy), recon, device, accel, step)
    return run.summary(model_name, device)
