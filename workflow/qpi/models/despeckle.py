"""DespeckleNet family: a speckle image (N, 1, H, W) → intensity and phase (N, 2, H, W).

Channel 0 is the intensity mapped to 2·I − 1 (I relative to the empty field, so a tanh head spans
0 ≤ I ≤ 1), channel 1 the phase in radians (linear head).

- `despecklenet`: the generator as the authors built it (hitsh95/DespeckleNet, `ComplexUnet`):
  a feature extractor of stride-2 4×4 convs (stage 1 ReLU without a norm, the middle stages
  InstanceNorm + ReLU, the last neither), a translate module of real residual blocks and complex
  residual blocks, and two decoders (transposed 4×4 stride-2 convs, InstanceNorm, encoder skips,
  LeakyReLU 0.2), one per output. Reflect padding in the translate module; InstanceNorm without
  affine; xavier-normal init with gain 0.02, zero biases.
- `despeckle_twin`: the same network with each complex convolution replaced by a real-valued one
  of (almost exactly) its parameter count (the paper's real-valued twin).
- `patchgan`: the pix2pix / CycleGAN PatchGAN discriminator (`NLayerDiscriminator`).
- `idiffnet`: IDiffNet's densely connected encoder–decoder (trained with the NPCC loss).
The U-Net baseline is `srqpi_unet` with `upscale=1, out_channels=2`.

Paper scale (512² patches → 16×16×512 translate module): channels (64, 128, 256, 512, 512),
5 residual + 4 complex blocks: 61,502,786 parameters, as the authors' (benchmarks/parity.json).

Deliberate deviations, each an option whose default is the authors': `resize=True` up-samples by
nearest ×2 and a 3×3 conv instead of the transposed conv (no checkerboard; not theirs; +0.03 phase
SSIM at the demo's 128 steps, none at 10× that: benchmarks/despeckle_upsampling.yaml);
`channels` of any length ≥ 2 (theirs has 5 stages; the demo's 64² patches take 3).
"""

from __future__ import annotations

import torch
from torch import nn

from qpi.models.layers import conv, init_weights
from qpi.models.registry import register


def complex_conv(channels: int, hidden: int | None = None, groups: int = 2) -> list[nn.Module]:
    """The authors' complex convolution: a 3×3 conv in `groups` groups (with 2, the first half of
    the channels holds the real, the second the imaginary features, kept apart), GroupNorm(2), a
    1×1 conv that fuses them, InstanceNorm. `groups=1` with a narrower `hidden` width is the twin's
    real-valued counterpart."""
    hidden = channels if hidden is None else hidden
    return [*conv(channels, hidden, groups=groups, norm="group", act="none", bias=True, padding_mode="reflect"),
            *conv(hidden, channels, 1, norm="instance", affine=False, act="none", bias=True)]


def twin_width(channels: int) -> int:
    """The even hidden width h at which a real-valued conv (3×3 C→h, GroupNorm, 1×1 h→C:
    10Ch + 3h + C parameters) comes closest to a complex conv's 5.5C² + 4C."""
    exact = (5.5 * channels**2 + 3 * channels) / (10 * channels + 3)
    return max(2, 2 * round(exact / 2))


class ComplexResidualBlock(nn.Module):
    """h + complex_conv(LeakyReLU(complex_conv(h))) (reflect padding, no activation after the second);
    `complex_valued=False` gives the twin's real-valued block of about the same parameter count."""

    def __init__(self, channels: int, complex_valued: bool = True):
        super().__init__()
        if channels % 2:
            raise ValueError(f"a complex residual block needs an even channel count, got {channels}")
        width, groups = (channels, 2) if complex_valued else (twin_width(channels), 1)
        self.body = nn.Sequential(*complex_conv(channels, width, groups), nn.LeakyReLU(0.2, inplace=True),
                                  *complex_conv(channels, width, groups))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(h) + h


class ResidualBlock(nn.Module):
    """h + IN(conv3×3(ReLU(conv3×3(h)))): pix2pix's ResNet block with reflect padding and biases."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            *conv(channels, channels, norm="none", act="relu", bias=True, padding_mode="reflect"),
            *conv(channels, channels, norm="instance", affine=False, act="none", bias=True, padding_mode="reflect"),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(h) + h


def down(in_channels: int, out_channels: int, norm: str = "instance", act: str = "relu") -> nn.Sequential:
    """A stride-2 4×4 conv (with bias), its norm and activation: halves the size."""
    return conv(in_channels, out_channels, 4, 2, padding=1, norm=norm, act=act, bias=True, affine=False)


def upsample(in_channels: int, out_channels: int, resize: bool = False, bias: bool = True) -> nn.Module:
    """A conv that doubles the size: a stride-2 4×4 transposed conv, or with `resize` a nearest ×2
    upsampling and a 3×3 conv, whose kernel overlaps evenly everywhere (no checkerboard)."""
    if resize:
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                             nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias))
    return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=bias)


class Decoder(nn.Module):
    """From the translate module back to full size: per stage `upsample` (with bias), InstanceNorm,
    LeakyReLU 0.2 and the encoder skip concatenated; a last `upsample` to one channel and `activation`.
    (The authors apply the LeakyReLU after the concatenation; the skips are ReLU outputs, ≥ 0, on
    which it is the identity, so the two orders compute the same.)"""

    def __init__(self, channels: list[int], activation: nn.Module, resize: bool = False):
        super().__init__()
        widths = list(reversed(channels))  # bottom first
        inputs = [widths[0]] + [2 * w for w in widths[1:-1]]  # each step after the first also sees its skip
        self.ups = nn.ModuleList(
            conv(c_in, c_out, norm="instance", affine=False, act="leaky", layer=upsample(c_in, c_out, resize))
            for c_in, c_out in zip(inputs, widths[1:])
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
        init: str = "xavier",
        init_gain: float = 0.02,
    ):
        super().__init__()
        channels = list(channels)
        if len(channels) < 2:
            raise ValueError(f"DespeckleNet needs at least 2 encoder stages, got channels={channels}")
        last = len(channels) - 1
        stages = [("none", "relu")] + [("instance", "relu")] * (last - 1) + [("none", "none")]
        self.encoder = nn.ModuleList(
            down(c_in, c_out, norm, act)
            for (c_in, c_out), (norm, act) in zip(zip([in_channels, *channels], channels), stages)
        )
        width = channels[-1]
        self.translate = nn.Sequential(*(ResidualBlock(width) for _ in range(residual_blocks)),
                                       *(ComplexResidualBlock(width, complex_valued) for _ in range(complex_blocks)))
        self.intensity = Decoder(channels, nn.Tanh(), resize)
        self.phase = Decoder(channels, nn.Identity(), resize)
        self.multiple = 2 ** len(channels)
        init_weights(self, init, init_gain)

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
    """DespeckleNet with its complex residual blocks replaced by real-valued ones of about equal
    parameter count (within 0.1 % of the complex blocks' at any width ≥ 8)."""

    def __init__(self, in_channels: int = 1, channels: tuple[int, ...] = (10, 20, 40), residual_blocks: int = 2,
                 complex_blocks: int = 2, resize: bool = False, init: str = "xavier", init_gain: float = 0.02):
        super().__init__(in_channels, channels, residual_blocks, complex_blocks, complex_valued=False, resize=resize,
                         init=init, init_gain=init_gain)


@register("patchgan")
class PatchGAN(nn.Module):
    """The pix2pix / CycleGAN PatchGAN (`NLayerDiscriminator`): `layers` stride-2 4×4 convs (the
    first without a norm), one stride-1 conv at width·min(2^layers, 8), then a stride-1 conv to one
    real/fake logit per overlapping patch; LeakyReLU 0.2; normal init N(0, 0.02). `pool` averages the
    patch logits to one score per image (ContransGAN's discriminator).

    DespeckleNet's sees (speckle, intensity, phase): at width 64 and 3 layers it has the authors'
    2,764,737 parameters; ContransGAN's, at width 96, 3 layers, one channel and `pool`, is the
    authors' 1→96→192→384→768→1 discriminator, 6,208,417 parameters."""

    def __init__(self, in_channels: int = 3, width: int = 64, layers: int = 3, norm: str = "instance",
                 pool: bool = False, init: str = "normal", init_gain: float = 0.02):
        super().__init__()
        self.pool = pool
        widths = [width * min(2**i, 8) for i in range(layers + 1)]
        # pix2pix's: an affine batch norm's shift replaces the conv bias; an instance norm has no affine
        norm_keys = {"norm": norm, "act": "leaky", "affine": norm == "batch", "bias": norm != "batch", "padding": 1}
        body = [conv(in_channels, widths[0], 4, 2, padding=1, norm="none", act="leaky", bias=True)]
        body += [conv(widths[i - 1], widths[i], 4, 2, **norm_keys) for i in range(1, layers)]
        body += [conv(widths[layers - 1], widths[layers], 4, 1, **norm_keys)]
        self.body = nn.Sequential(*body, nn.Conv2d(widths[layers], 1, 4, padding=1))
        init_weights(self, init, init_gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.body(x)
        return logits.mean(dim=(2, 3), keepdim=True) if self.pool else logits


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
