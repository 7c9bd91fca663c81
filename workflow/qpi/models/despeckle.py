"""DespeckleNet family: a speckle image (N, 1, H, W) → intensity and phase (N, 2, H, W).

Channel 0 is the intensity mapped to 2·I − 1 (I relative to the empty field, so a tanh head spans
0 ≤ I ≤ 1), channel 1 the phase in radians (linear head).

- `despecklenet`: feature extractor of stride-2 4×4 conv blocks; a translate module of residual
  blocks and modified complex residual blocks; two decoders (transposed 4×4 stride-2 convs with
  encoder skips; `resize=True`: nearest ×2 and 3×3 convs instead, against checkerboard
  artefacts), one per output. `complex_blocks=False` gives the real-valued twin
  (`despeckle_twin`), whose plain residual blocks have exactly the complex blocks' parameters.
- `patchgan`: the conditional PatchGAN discriminator on (speckle, intensity, phase).
- `idiffnet`: IDiffNet's densely connected encoder–decoder (trained with the NPCC loss).
The U-Net baseline is `srqpi_unet` with `upscale=1, out_channels=2`.

Paper scale (512² patches → 16×16×512 translate module): channels (64, 128, 256, 512, 512),
5 residual + 4 complex blocks; the twin needs a translate width divisible by 20 (e.g. 520).
"""

from __future__ import annotations

import torch
from torch import nn

from qpi.models.layers import conv
from qpi.models.registry import register


class ComplexResidualBlock(nn.Module):
    """CRB(h) = LeakyReLU(conv1×1(norm(LeakyReLU(conv3×3_groups=2(h))))) + h.

    The first half of the channels holds real, the second imaginary features; the grouped 3×3
    conv keeps them apart and the 1×1 conv fuses them. The norm is not affine (the 1×1 conv
    supplies scale and shift) and the 3×3 conv has no bias, which lets the twin match exactly.
    """

    def __init__(self, channels: int):
        super().__init__()
        if channels % 2:
            raise ValueError(f"a complex residual block needs an even channel count, got {channels}")
        self.body = nn.Sequential(
            *conv(channels, channels, groups=2, bias=False, affine=False, act="leaky", order="conv-act-norm"),
            *conv(channels, channels, 1, act="leaky", norm="none"),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(h) + h


class PlainResidualBlock(nn.Module):
    """The twin's real-valued block: the same layers with an ungrouped 3×3 conv narrowed to
    11/20 of the channels, so that 10·C·m + C = 5.5·C² + C parameters equal a complex block's."""

    def __init__(self, channels: int):
        super().__init__()
        if (11 * channels) % 20:
            raise ValueError(f"the real-valued twin needs a translate width divisible by 20, got {channels}")
        hidden = 11 * channels // 20
        self.body = nn.Sequential(
            *conv(channels, hidden, bias=False, affine=False, act="leaky", order="conv-act-norm"),
            *conv(hidden, channels, 1, act="leaky", norm="none"),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(h) + h


class ResidualBlock(nn.Module):
    """Two 3×3 conv–BN layers (LeakyReLU between) and an identity skip."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(*conv(channels, channels, act="leaky"), *conv(channels, channels, act="none"))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(h) + h


def down(in_channels: int, out_channels: int, norm: bool = True) -> nn.Sequential:
    """A stride-2 4×4 conv, batch norm and LeakyReLU: halves the size."""
    return conv(in_channels, out_channels, 4, 2, padding=1, norm="batch" if norm else "none", act="leaky")


def upsample(in_channels: int, out_channels: int, resize: bool = False, bias: bool = True) -> nn.Module:
    """A conv that doubles the size: a stride-2 4×4 transposed conv, or with `resize` a nearest ×2
    upsampling and a 3×3 conv, whose kernel overlaps evenly everywhere (no checkerboard)."""
    if resize:
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                             nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias))
    return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=bias)


def up(in_channels: int, out_channels: int, resize: bool = False) -> nn.Sequential:
    """`upsample`, batch norm and ReLU: doubles the size."""
    return conv(in_channels, out_channels, layer=upsample(in_channels, out_channels, resize, bias=False))


class Decoder(nn.Module):
    """Ups from the translate module back to full size (transposed or, with `resize`, resize convs),
    joining each encoder skip."""

    def __init__(self, channels: list[int], activation: nn.Module, resize: bool = False):
        super().__init__()
        widths = list(reversed(channels))  # bottom first
        self.ups = nn.ModuleList(
            up(widths[i] * (1 if i == 0 else 2), widths[i + 1], resize) for i in range(len(widths) - 1)
        )
        self.head = nn.Sequential(upsample(widths[-1] * 2, 1, resize), activation)

    def forward(self, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for step, skip in zip(self.ups, reversed(skips[:-1])):
            x = torch.cat([step(x), skip], dim=1)
        return self.head(x)


@register("despecklenet")
class DespeckleNet(nn.Module):
    """DespeckleNet generator; sizes must be divisible by 2^len(channels)."""

    def __init__(
        self,
        in_channels: int = 1,
        channels: tuple[int, ...] = (10, 20, 40),
        residual_blocks: int = 2,
        complex_blocks: int = 2,
        complex_valued: bool = True,
        resize: bool = False,
    ):
        super().__init__()
        channels = list(channels)
        self.encoder = nn.ModuleList(
            down(c_in, c_out, norm=i > 0) for i, (c_in, c_out) in enumerate(zip([in_channels, *channels], channels))
        )
        width = channels[-1]
        block = ComplexResidualBlock if complex_valued else PlainResidualBlock
        self.translate = nn.Sequential(*(ResidualBlock(width) for _ in range(residual_blocks)),
                                       *(block(width) for _ in range(complex_blocks)))
        self.intensity = Decoder(channels, nn.Tanh(), resize)
        self.phase = Decoder(channels, nn.Identity(), resize)
        self.multiple = 2 ** len(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] % self.multiple or x.shape[-1] % self.multiple:
            raise ValueError(f"DespeckleNet needs sizes divisible by {self.multiple}, got {tuple(x.shape[-2:])}")
        skips = []
        for step in self.encoder:
            x = step(x)
            skips.append(x)
        x = self.translate(x)
        return torch.cat([self.intensity(x, skips), self.phase(x, skips)], dim=1)


@register("despeckle_twin")
class RealValuedTwin(DespeckleNet):
    """DespeckleNet with its complex residual blocks replaced by plain ones of equal parameter count."""

    def __init__(
        self,
        in_channels: int = 1,
        channels: tuple[int, ...] = (10, 20, 40),
        residual_blocks: int = 2,
        complex_blocks: int = 2,
        resize: bool = False,
    ):
        super().__init__(in_channels, channels, residual_blocks, complex_blocks, complex_valued=False, resize=resize)


@register("patchgan")
class PatchGAN(nn.Module):
    """Conditional PatchGAN: (speckle, intensity, phase) → one real/fake logit per overlapping patch."""

    def __init__(self, in_channels: int = 3, width: int = 16, layers: int = 3):
        super().__init__()
        widths = [width * 2 ** min(i, 3) for i in range(layers)]
        body = [down(c_in, c_out, norm=i > 0) for i, (c_in, c_out) in enumerate(zip([in_channels, *widths], widths))]
        self.body = nn.Sequential(*body, nn.Conv2d(widths[-1], 1, 4, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class DenseBlock(nn.Module):
    """`layers` BN–ReLU–3×3 conv layers, each seeing every earlier output (growth `growth` channels each)."""

    def __init__(self, in_channels: int, growth: int, layers: int):
        super().__init__()
        self.layers = nn.ModuleList(
            conv(in_channels + i * growth, growth, bias=True, order="norm-act-conv")
            for i in range(layers)
        )
        self.out_channels = in_channels + layers * growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


@register("idiffnet")
class IDiffNet(nn.Module):
    """IDiffNet (Li, Deng, Lee & Barbastathis 2018): dense blocks down (1×1 conv + 2× average pool
    transitions) and up (transposed conv transitions), encoder skips concatenated, linear head."""

    def __init__(self, in_channels: int = 1, out_channels: int = 2, width: int = 8, growth: int = 4,
                 layers: int = 2, depth: int = 3):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.down_blocks, self.transitions, widths = nn.ModuleList(), nn.ModuleList(), []
        c = width
        for _ in range(depth):
            block = DenseBlock(c, growth, layers)
            self.down_blocks.append(block)
            widths.append(block.out_channels)
            c = block.out_channels
            self.transitions.append(nn.Sequential(nn.Conv2d(c, c, 1), nn.AvgPool2d(2)))
        self.bottom = DenseBlock(c, growth, layers)
        c = self.bottom.out_channels
        self.ups, self.up_blocks = nn.ModuleList(), nn.ModuleList()
        for skip in reversed(widths):
            self.ups.append(nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1))
            block = DenseBlock(c // 2 + skip, growth, layers)
            self.up_blocks.append(block)
            c = block.out_channels
        self.head = nn.Conv2d(c, out_channels, 1)
        self.multiple = 2**depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] % self.multiple or x.shape[-1] % self.multiple:
            raise ValueError(f"IDiffNet needs sizes divisible by {self.multiple}, got {tuple(x.shape[-2:])}")
        x, skips = self.stem(x), []
        for block, transition in zip(self.down_blocks, self.transitions):
            x = block(x)
            skips.append(x)
            x = transition(x)
        x = self.bottom(x)
        for step, block in zip(self.ups, self.up_blocks):
            x = block(torch.cat([step(x), skips.pop()], dim=1))
        return self.head(x)
