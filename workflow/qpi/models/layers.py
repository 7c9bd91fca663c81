"""The block vocabulary every family's networks are built from (as pytorch-CycleGAN's networks.py):
a norm and an activation factory (`make_norm`, `make_activation`), one convolution block, and the U-Net down/up steps.

`conv(...)` is the one conv block: a convolution (or any given up-sampling `layer`) followed by
its normalisation and activation, in the order asked — conv→norm→act (the default), conv→act→norm
(DespeckleNet's complex blocks) or norm→act→conv (pre-activation: dense blocks). Blocks are flat
`nn.Sequential`s, so two blocks unpacked into one Sequential (`*conv(...), *conv(...)`) keep a
flat, stable state-dict layout.
"""

from __future__ import annotations

import torch
from torch import nn

NORMS = ("none", "batch", "instance", "group")
ACTIVATIONS = ("none", "relu", "leaky", "tanh")
ORDERS = ("conv-norm-act", "conv-act-norm", "norm-act-conv")


def make_norm(kind: str, channels: int, affine: bool = True, groups: int = 2) -> nn.Module | None:
    """A normalisation layer of `kind` over `channels` (None for "none"); instance norm is affine
    only when asked, like the others, so one `affine` flag means the same for every kind."""
    if kind == "none":
        return None
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=affine)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=affine)
    if kind == "group":
        return nn.GroupNorm(groups, channels, affine=affine)
    raise ValueError(f"unknown normalisation {kind!r}; choose one of {', '.join(NORMS)}")


def make_activation(kind: str, slope: float = 0.2) -> nn.Module | None:
    """An activation of `kind` (None for "none"); "leaky" has negative `slope`."""
    if kind == "none":
        return None
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "leaky":
        return nn.LeakyReLU(slope, inplace=True)
    if kind == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {kind!r}; choose one of {', '.join(ACTIVATIONS)}")


def conv(in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1, *, norm: str = "batch",
         act: str = "relu", bias: bool | None = None, padding: int | None = None, groups: int = 1,
         affine: bool = True, slope: float = 0.2, order: str = "conv-norm-act", padding_mode: str = "zeros",
         layer: nn.Module | None = None) -> nn.Sequential:
    """One block: a `kernel`×`kernel` convolution (size-preserving unless `padding` or `stride` say
    otherwise; `padding_mode` "reflect" mirrors the border instead of zero-filling it), or the given
    `layer` in its place, with its norm and activation in `order`.

    `bias` defaults to on only without a norm (a norm after the conv supplies the shift)."""
    if order not in ORDERS:
        raise ValueError(f"unknown block order {order!r}; choose one of {', '.join(ORDERS)}")
    if layer is None:
        bias = (norm == "none") if bias is None else bias
        pad = kernel // 2 if padding is None else padding
        layer = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=pad, groups=groups, bias=bias,
                          padding_mode=padding_mode)
    norm_channels = in_channels if order == "norm-act-conv" else out_channels
    parts = {"conv": layer, "norm": make_norm(norm, norm_channels, affine), "act": make_activation(act, slope)}
    return nn.Sequential(*(parts[name] for name in order.split("-") if parts[name] is not None))


INITS = ("default", "normal", "xavier")


def init_weights(net: nn.Module, kind: str = "normal", gain: float = 0.02, linear: bool = True,
                 zero_bias: bool = True) -> nn.Module:
    """Initialise the conv (and, with `linear`, linear) weights of `net` as pytorch-CycleGAN's
    `init_weights` does: N(0, gain) ("normal", pix2pix/CycleGAN) or xavier-normal with `gain`
    ("xavier"), biases 0 (unless not `zero_bias`: PyTorch's), BatchNorm weights N(1, gain) and
    shifts 0; "default" keeps PyTorch's own initialisation throughout."""
    if kind not in INITS:
        raise ValueError(f"unknown initialisation {kind!r}; choose one of {', '.join(INITS)}")
    if kind == "default":
        return net
    layers = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear) if linear else (nn.Conv2d, nn.ConvTranspose2d)
    for m in net.modules():
        if isinstance(m, layers):
            if kind == "normal":
                nn.init.normal_(m.weight, 0.0, gain)
            else:
                nn.init.xavier_normal_(m.weight, gain=gain)
            if m.bias is not None and zero_bias:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
    return net


class DoubleConv(nn.Sequential):
    """Two 3×3 conv–BN–ReLU blocks: one U-Net level."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(conv(in_channels, out_channels), conv(out_channels, out_channels))


class Down(nn.Sequential):
    """2× max-pool then a DoubleConv: one encoder step."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    """2× up-sampling, concatenation with the encoder skip, then a DoubleConv: one decoder step.

    `mode="transpose"` learns the up-sampling (2×2 stride-2 transposed conv); `mode="bilinear"`
    interpolates then mixes channels with a 3×3 conv, which avoids checkerboard artefacts.
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, mode: str = "transpose"):
        super().__init__()
        if mode == "transpose":
            self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        elif mode == "bilinear":
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, out_channels, 3, padding=1),
            )
        else:
            raise ValueError(f"unknown up-sampling mode {mode!r}; use 'transpose' or 'bilinear'")
        self.conv = DoubleConv(out_channels + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(x), skip], dim=1))
