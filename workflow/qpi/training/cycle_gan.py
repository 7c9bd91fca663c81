"""Cycle-GAN training (ContransGAN): two generators and two PatchGAN discriminators on unpaired domains.

Losses (the paper's Eq. 4–6, LSGAN form): generators
  (D_B(G_AB(a)) − 1)² + (D_A(G_BA(b)) − 1)² + λ·(‖G_BA(G_AB(a)) − a‖₁ + ‖G_AB(G_BA(b)) − b‖₁),
discriminators ½·[(D(real) − 1)² + D(fake)²], the fakes drawn from a pool of earlier generator
outputs (CycleGAN's image pool: the discriminators see a history, which damps oscillation). Adam;
the learning rate stays constant for `constant_epochs`, then falls linearly towards zero.

Both domains are divided by their spread (`domain_scale`) before the networks see them,
so λ weighs two cycle errors of comparable size; the generators carry those scales (`in_scale`,
`out_scale`), so the saved G_AB maps raw intensity contrast to radians.

It runs on the shared run loop (`qpi.training.loop.run_epochs`): seeding, batches and dihedral augmentation
fixed by (seed, epoch), CSV logs, and checkpoints holding every network, optimiser, scheduler,
pool, RNG and the log as written, so a killed run resumes to the same result on CPU. GPU switches:
`amp` (autocast; fp16 with loss scaling), `channels_last` and `pin_memory`; ignored on CPU
(`qpi.training.accel.accel_for`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from qpi import models
from qpi.core.device import autocast
from qpi.training.accel import loss_scaler, setup
from qpi.training.batches import as_tensor, batch_loader
from qpi.training.checkpoints import save_model
from qpi.training.config import TrainConfig
from qpi.training.loop import run_epochs, start_run
from qpi.training.losses import lsgan
from qpi.training.optim import backward_step, make_optimizer, make_scheduler

log = logging.getLogger("qpi.training.cycle_gan")
STEP_FIELDS = ("step", "epoch", "loss_g", "loss_gan", "loss_cycle", "loss_d_a", "loss_d_b", "lr", "seconds")


@dataclasses.dataclass
class CycleConfig(TrainConfig):
    """`TrainConfig` plus the cycle-GAN's settings. `lr_schedule` may also be
    {"name": "linear", "constant_epochs": E}: constant for E epochs, then a linear decay that would reach
    0 one epoch after the last (CycleGAN's "linear" policy: no epoch is wasted at lr 0)."""

    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lambda_cycle: float = 10.0
    pool_size: int = 50
    discriminator: dict = dataclasses.field(default_factory=lambda: {"arch": "patchgan", "in_channels": 1})


def domain_scale(x: np.ndarray) -> float:
    """Spread (std, ≥ 1e-6) of a training domain: the generators' fixed input/output scale."""
    return max(float(np.std(x, dtype=np.float64)), 1e-6)


def check_unpaired(fov_a: np.ndarray, fov_b: np.ndarray) -> None:
    """The two training domains must come from different fields of view."""
    shared = np.intersect1d(fov_a, fov_b)
    if shared.size:
        raise ValueError(f"the training domains share {shared.size} fields of view (e.g. {int(shared[0])}); "
                         "unpaired training needs domains drawn from different fields of view")


def unpaired_plan(n_a: int, n_b: int, batch_size: int, seed: int, epoch: int) -> list[tuple]:
    """Batches (indices A, dihedral op A, indices B, dihedral op B) of one epoch, fixed by (seed, epoch):
    independent shuffles of the two domains (the smaller one repeated), max(n_a, n_b) // batch steps."""
    rng = np.random.default_rng([seed, epoch, 0xC7C1E])
    n = max(n_a, n_b)
    size = min(batch_size, n_a, n_b)
    steps = max(n // size, 1)

    def order(count: int) -> np.ndarray:
        return np.concatenate([rng.permutation(count) for _ in range(-(-steps * size // count))])

    a, b = order(n_a), order(n_b)
    ops = rng.integers(0, 8, size=(steps, 2))
    return [(a[k * size : (k + 1) * size], ops[k, 0], b[k * size : (k + 1) * size], ops[k, 1]) for k in range(steps)]


class ImagePool:
    """Up to `size` earlier fakes; each query image is returned as is, or (half the time, once the
    pool is full) swapped for a stored one, which it replaces. Draws from torch's global RNG, which
    checkpoints capture; `state_dict` makes the pool itself checkpointable."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size <= 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()).item() < 0.5:
                k = int(torch.randint(len(self.images), ()).item())
                out.append(self.images[k].to(image.device))  # a restored pool lives on the CPU
                self.images[k] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"images": torch.stack([image.cpu() for image in self.images]) if self.images else torch.zeros(0)}

    def load_state_dict(self, state: dict) -> None:
        self.images = list(state["images"])


def cycle_loss(g_ab: nn.Module, g_ba: nn.Module, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """‖G_BA(G_AB(a)) − a‖₁ + ‖G_AB(G_BA(b)) − b‖₁ (means over pixels)."""
    return F.l1_loss(g_ba(g_ab(a)), a) + F.l1_loss(g_ab(g_ba(b)), b)


class CycleGAN(nn.Module):
    """The four networks of one run (G_AB is the model that is saved and scored)."""

    def __init__(self, g_ab: nn.Module, g_ba: nn.Module, d_a: nn.Module, d_b: nn.Module):
        super().__init__()
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b

    def generator_loss(self, a, b, sa: float, sb: float, lam: float) -> tuple[torch.Tensor, dict, torch.Tensor,
                                                                                 torch.Tensor]:
        """Adversarial + λ·cycle loss of both generators; the fakes (for the discriminators) too.
        Discriminators see and cycle errors are measured in units of each domain's spread."""
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)
        gan = lsgan(self.d_b(fake_b / sb), True) + lsgan(self.d_a(fake_a / sa), True)
        cycle = F.l1_loss(self.g_ba(fake_b), a) / sa + F.l1_loss(self.g_ab(fake_a), b) / sb
        loss = gan + lam * cycle
        losses = {"loss_g": loss.detach(), "loss_gan": gan.detach(), "loss_cycle": cycle.detach()}
        return loss, losses, fake_a, fake_b


def cycle_step(nets: CycleGAN, opt_g, opt_d, pools: tuple[ImagePool, ImagePool], a, b, sa: float, sb: float,
               lam: float, dtype=None, scaler=None) -> dict[str, torch.Tensor]:
    """One generator update (discriminators frozen) then one discriminator update on pooled fakes;
    the detached batch losses, read without waiting for the device."""
    device = a.device.type
    nets.train()
    for d in (nets.d_a, nets.d_b):
        d.requires_grad_(False)
    opt_g.zero_grad(set_to_none=True)
    with autocast(device, dtype):
        loss_g, losses, fake_a, fake_b = nets.generator_loss(a, b, sa, sb, lam)
    backward_step(loss_g, opt_g, scaler, update=False)
    for d in (nets.d_a, nets.d_b):
        d.requires_grad_(True)
    opt_d.zero_grad(set_to_none=True)
    pool_a, pool_b = pools
    with autocast(device, dtype):
        loss_d_a = 0.5 * (lsgan(nets.d_a(a / sa), True) + lsgan(nets.d_a(pool_a.query(fake_a) / sa), False))
        loss_d_b = 0.5 * (lsgan(nets.d_b(b / sb), True) + lsgan(nets.d_b(pool_b.query(fake_b) / sb), False))
    backward_step(loss_d_a + loss_d_b, opt_d, scaler)
    return {**losses, "loss_d_a": loss_d_a.detach(), "loss_d_b": loss_d_b.detach()}


def train_cycle(
    model_name: str, model_kwargs: dict, domain_a: np.ndarray, domain_b: np.ndarray, fov_a: np.ndarray,
    fov_b: np.ndarray, cfg: CycleConfig, out_dir: str | Path, card: dict | None = None,
) -> dict:
    """Train G_AB: A → B and G_BA: B → A (both `model_name`) on unpaired (N, C, H, W) domains from
    different fields of view; resume from `out_dir/last.pt`. Writes `steps.csv`, `last.pt` and
    `generator.pt` (G_AB of the final step: unpaired training has no paired validation to pick by)."""
    for name, x in (("A", domain_a), ("B", domain_b)):
        if x.ndim != 4 or len(x) == 0:
            raise ValueError(f"domain {name} needs images (N, C, H, W) with N > 0, got {x.shape}")
    check_unpaired(fov_a, fov_b)
    cfg = cfg.fitted(len(unpaired_plan(len(domain_a), len(domain_b), cfg.batch_size, cfg.seed, 0)))
    device, accel = setup(cfg)
    if accel.compile:  # the four networks run through CycleGAN's methods, not one forward to compile
        log.info("compile is not used by the cycle-GAN trainer; training uncompiled")
    sa, sb = domain_scale(domain_a), domain_scale(domain_b)
    ca, cb = domain_a.shape[1], domain_b.shape[1]
    g_ab = models.build(model_name, **{**model_kwargs, "in_channels": ca, "out_channels": cb,
                                       "in_scale": sa, "out_scale": sb})
    g_ba = models.build(model_name, **{**model_kwargs, "in_channels": cb, "out_channels": ca,
                                       "in_scale": sb, "out_scale": sa})
    spec = dict(cfg.discriminator)
    arch = spec.pop("arch")
    d_a, d_b = models.build(arch, **{**spec, "in_channels": ca}), models.build(arch, **{**spec, "in_channels": cb})
    nets = CycleGAN(g_ab, g_ba, d_a, d_b).to(device)
    if accel.channels_last:
        nets = nets.to(memory_format=torch.channels_last)
    opt_g = make_optimizer([*g_ab.parameters(), *g_ba.parameters()], cfg)
    opt_d = make_optimizer([*d_a.parameters(), *d_b.parameters()], cfg, discriminator=True)
    pools = (ImagePool(cfg.pool_size), ImagePool(cfg.pool_size))
    stateful = {"g_ba": g_ba, "d_a": d_a, "d_b": d_b, "optimizer": opt_g, "optimizer_d": opt_d,
                "scheduler": make_scheduler(opt_g, cfg), "scheduler_d": make_scheduler(opt_d, cfg),
                "pool_a": pools[0], "pool_b": pools[1], "scaler": loss_scaler(accel)}
    a_all, b_all = as_tensor(domain_a, device), as_tensor(domain_b, device)
    run = start_run(out_dir, cfg, g_ab, stateful, (domain_a, domain_b), STEP_FIELDS, validated=False, card=card)

    def plan_for(epoch: int) -> list:
        return unpaired_plan(len(domain_a), len(domain_b), cfg.batch_size, cfg.seed, epoch)

    load_a, load_b = (batch_loader((t,), device, cfg.augment, accel) for t in (a_all, b_all))

    def load(item: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        index_a, op_a, index_b, op_b = item  # each domain's own batch and symmetry
        return *load_a((index_a, op_a)), *load_b((index_b, op_b))

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> dict:
        return cycle_step(nets, opt_g, opt_d, pools, *batch, sa, sb, cfg.lambda_cycle, accel.dtype, stateful["scaler"])

    run_epochs(run, len(plan_for(0)), plan_for, load, step)
    save_model(run.out / "generator.pt", g_ab, meta={"step": run.progress["step"], "epoch": run.progress["epoch"],
                                                      "train_config": dataclasses.asdict(cfg), "card": run.card})
    return run.summary(model_name, device)
