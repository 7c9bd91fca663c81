"""MCNN family (F. Wang et al.): a U-Net whose decoder levels also feed coarse output heads.

Head k predicts the target average-pooled by 2^k (k = 0 is the full-resolution output), and
training sums the MAE of every head against its pooled target, so the deep decoder levels get a
direct signal for the low spatial frequencies. With `heads=1` the same trunk is the plain U-Net
baseline. In train mode the model returns every head's output (full resolution first); in eval
mode only the full-resolution tensor, so `qpi.losses.multiscale_l1(model(x), y)` is the multi-scale loss
while training and the plain MAE while validating.

Inputs (N, C, H, W): C defocused intensities as channels; outputs (N, C', H, W): phase (rad) and,
with C' = 2, amplitude. Heads are linear 1×1 convolutions, so the phase stays quantitative.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from qpi.models.layers import conv
from qpi.models.registry import register

NORMS = ("none", "batch", "instance")  # the paper reports artefacts from normalisation: off by default


class _Up(nn.Module):
    """2× transposed-conv up-sampling, concatenation with the encoder skip, then two conv blocks."""

    def __init__(self, in_channels: int, out_channels: int, norm: str, slope: float):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        self.conv = nn.Sequential(
            conv(2 * out_channels, out_channels, norm=norm, act="leaky", slope=slope),
            conv(out_channels, out_channels, norm=norm, act="leaky", slope=slope),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(x), skip], dim=1))


@register("mcnn")
class MCNN(nn.Module):
    """U-Net trunk of `depth` stride-2 down-samplings (level l has width·2^l channels, two 3×3 convs,
    LeakyReLU) with `heads` linear output heads on the decoder levels at scales 1, ½, …, 1/2^(heads−1).

    `heads` ranges from 1 (plain U-Net) to depth + 1 (a head on the bottleneck too). H and W must be
    divisible by 2^depth. `input_std` (one value per input channel) divides the inputs.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        width: int = 16,
        depth: int = 3,
        heads: int = 3,
        norm: str = "none",
        slope: float = 0.2,
        input_std: Sequence[float] | None = None,
    ):
        super().__init__()
        if not 1 <= heads <= depth + 1:
            raise ValueError(f"MCNN of depth {depth} takes 1 to {depth + 1} heads, got {heads}")
        if norm not in NORMS:
            raise ValueError(f"unknown normalisation {norm!r}; choose one of {', '.join(NORMS)}")
        if input_std is not None and len(input_std) != in_channels:
            raise ValueError(f"input_std needs one value per input channel ({in_channels}), got {list(input_std)}")
        self.depth = depth
        # Inputs are divided by the training set's std per channel (the paper z-scores its inputs): unit-scale
        # inputs leave the zero-phase plateau sooner. A fixed scale keeps the phase quantitative.
        scale = torch.tensor(input_std if input_std is not None else [1.0] * in_channels, dtype=torch.float32)
        self.register_buffer("input_std", scale.view(1, -1, 1, 1), persistent=False)
        channels = [width * 2**level for level in range(depth + 1)]
        def block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:  # 3×3 conv, norm, LeakyReLU
            return conv(c_in, c_out, 3, stride, norm=norm, act="leaky", slope=slope)

        self.inc = nn.Sequential(block(in_channels, channels[0]), block(channels[0], channels[0]))
        self.downs = nn.ModuleList(
            nn.Sequential(block(channels[i], channels[i + 1], stride=2), block(channels[i + 1], channels[i + 1]))
            for i in range(depth)
        )
        self.ups = nn.ModuleList(_Up(channels[i + 1], channels[i], norm, slope) for i in reversed(range(depth)))
        # heads[k] reads the decoder level at scale 1/2^k, which has channels[k] features.
        self.heads = nn.ModuleList(nn.Conv2d(channels[k], out_channels, 1) for k in range(heads))

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Decoder features at scales 1, ½, …, 1/2^depth (full resolution first)."""
        multiple = 2**self.depth
        if x.shape[-2] % multiple or x.shape[-1] % multiple:
            raise ValueError(
                f"MCNN of depth {self.depth} needs sizes divisible by {multiple}, got {tuple(x.shape[-2:])}; "
                "crop or pad the input"
            )
        skips = [self.inc(x / self.input_std)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        decoded = [skips.pop()]
        for up in self.ups:
            decoded.append(up(decoded[-1], skips.pop()))
        return decoded[::-1]

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every head's output, full resolution first (head k is 2^k times smaller)."""
        return [head(f) for head, f in zip(self.heads, self.features(x))]

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        """All heads (list) in train mode, the full-resolution output (tensor) in eval mode."""
        if self.training:
            return self.forward_all(x)
        return self.heads[0](self.features(x)[0])
