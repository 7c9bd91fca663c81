"""Shared building blocks: conv–BN–ReLU stacks and the U-Net down/up steps."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Sequential:
    """A size-preserving convolution, batch norm and ReLU (no conv bias: BN supplies it)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class DoubleConv(nn.Sequential):
    """Two 3×3 conv–BN–ReLU layers: one U-Net level."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(conv_bn_relu(in_channels, out_channels), conv_bn_relu(out_channels, out_channels))


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
