"""DL-SRQPI family: a U-Net on the interpolated low-res intensity, and the SRCNN baseline.

Both map a low-resolution intensity (N, C, h, w) to a phase map (N, C', h·upscale, w·upscale) in
radians; the output head is linear so the phase stays quantitative.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from qpi.models.layers import DoubleConv, Down, Up
from qpi.models.registry import register


def interpolate(x: torch.Tensor, upscale: int, mode: str) -> torch.Tensor:
    """Resize (N, C, h, w) by an integer factor; identity when `upscale` is 1."""
    if upscale == 1:
        return x
    corners = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(x, scale_factor=upscale, mode=mode, **corners)


@register("srqpi_unet")
class UNet(nn.Module):
    """DL-SRQPI U-Net: interpolate to the HR grid, `depth` max-pool downs and up-samplings back.

    Level l has width·2^l channels (two 3×3 conv+BN+ReLU); skips join encoder and decoder;
    a 1×1 linear head gives phase (rad). HR height and width must be divisible by 2^depth.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        upscale: int = 4,
        width: int = 16,
        depth: int = 4,
        interpolation: str = "bicubic",
        up_mode: str = "transpose",
    ):
        super().__init__()
        self.upscale, self.depth, self.interpolation = upscale, depth, interpolation
        channels = [width * 2**level for level in range(depth + 1)]
        self.inc = DoubleConv(in_channels, channels[0])
        self.downs = nn.ModuleList(Down(channels[i], channels[i + 1]) for i in range(depth))
        self.ups = nn.ModuleList(
            Up(channels[i + 1], channels[i], channels[i], mode=up_mode) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(channels[0], out_channels, 1)
        self.multiple = 2**depth  # output sides must divide by it (tiled inference reads it)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = interpolate(x, self.upscale, self.interpolation)
        if x.shape[-2] % self.multiple or x.shape[-1] % self.multiple:
            raise ValueError(
                f"U-Net of depth {self.depth} needs output sizes divisible by {self.multiple}, "
                f"got {tuple(x.shape[-2:])}; crop or pad the input patches"
            )
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.head(x)


@register("srcnn")
class SRCNN(nn.Module):
    """SRCNN baseline (Dong et al. 2014): interpolate, then three size-preserving convs (9-1-5), ReLU."""

    def __init__(
        self,
        upscale: int = 4,
        channels: tuple[int, int] = (64, 32),
        kernels: tuple[int, int, int] = (9, 1, 5),
        in_channels: int = 1,
        out_channels: int = 1,
        interpolation: str = "bicubic",
    ):
        super().__init__()
        if len(channels) != 2 or len(kernels) != 3:
            raise ValueError(f"SRCNN has 3 layers: 2 hidden widths and 3 kernels, got {channels}, {kernels}")
        self.upscale, self.interpolation = upscale, interpolation
        widths = [in_channels, *channels, out_channels]
        convs = [nn.Conv2d(widths[i], widths[i + 1], k, padding=k // 2) for i, k in enumerate(kernels)]
        self.body = nn.Sequential(convs[0], nn.ReLU(inplace=True), convs[1], nn.ReLU(inplace=True), convs[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(interpolate(x, self.upscale, self.interpolation))
