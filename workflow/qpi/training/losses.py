"""Every training loss, by name: reconstruction losses (`LOSSES`, `loss`) and the two GAN losses.

The config's `loss:` keys name an entry of `LOSSES`; each takes (prediction, target) tensors and
returns a scalar. MCNN's networks return a list of heads in train mode, which `multiscale_l1`
takes (a single tensor is the plain MAE, so the same loss validates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F


def pool_target(target: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """The target (N, C, H, W) average-pooled to `size` (h, w); H/h and W/w must be equal integers."""
    h, w = int(size[0]), int(size[1])
    factor = target.shape[-2] // h
    if factor * h != target.shape[-2] or factor * w != target.shape[-1]:
        raise ValueError(f"cannot pool a {tuple(target.shape[-2:])} target to {(h, w)} by an integer factor")
    return target if factor == 1 else F.avg_pool2d(target, factor)


def multiscale_l1(outputs: torch.Tensor | Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """MCNN: Σ over heads of the MAE against the target pooled to each head's size; one tensor → plain MAE."""
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    return sum(F.l1_loss(out, pool_target(target, out.shape[-2:])) for out in outputs)


def npcc(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IDiffNet: negative Pearson correlation coefficient, averaged over samples and channels (−1 is perfect)."""
    p = pred.flatten(2) - pred.flatten(2).mean(-1, keepdim=True)
    t = target.flatten(2) - target.flatten(2).mean(-1, keepdim=True)
    r = (p * t).sum(-1) / (p.norm(dim=-1) * t.norm(dim=-1) + 1e-8)
    return -r.mean()


def l1_per_channel(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """DespeckleNet's L1: the sum over output channels of each channel's MAE (L1_I + L1_P in the
    authors' code), so α weighs it as theirs does; C × the plain `l1` for C channels."""
    return (pred - target).abs().mean(dim=(0, *range(2, pred.ndim))).sum()


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "l1_per_channel": l1_per_channel,
    "multiscale_l1": multiscale_l1,
    "npcc": npcc,
}


def loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The reconstruction loss `name`, or one error listing the known names."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; available: {', '.join(LOSSES)}")
    return LOSSES[name]


def bce_gan(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """The paired GAN's loss: −log D (real) or −log(1 − D) (fake), averaged over the patch logits."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(real)))


def lsgan(prediction: torch.Tensor, real: bool) -> torch.Tensor:
    """The cycle-GAN's least-squares loss: mean (D − 1)² for real targets, mean D² for fake ones."""
    return F.mse_loss(prediction, torch.full_like(prediction, float(real)))
