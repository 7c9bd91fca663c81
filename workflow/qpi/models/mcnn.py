"""MCNN family (F. Wang et al.): a multi-scale network whose decoder levels also feed coarse output heads.

As the authors built it (fengwang/MCNN, `phase_retrieval/multidomain_generator.py`):
- the building unit is a stride-1 k×k transposed conv then a k×k conv, both unpadded ("valid": the
  map grows by k − 1 and shrinks back), each followed by a per-channel normalisation and
  LeakyReLU 0.2; a multi-kernel block runs four such units in parallel, k = 3, 5, 7, 9, with a
  quarter of the block's channels each, and concatenates them;
- the encoder is a multi-kernel block per level (width·2^l channels, 2×2 average pooling between
  levels); each decoder step is a 4×4 stride-2 unpadded transposed conv and a 3×3 unpadded conv
  (each normalised, LeakyReLU), then a multi-kernel block, and the encoder feature is *added* (not
  concatenated);
- head k reads the decoder level at scale 1/2^k: a (9 − 2k)×(9 − 2k) transposed conv to 64
  channels (`head_width`, by default the width: theirs is 64), norm, LeakyReLU, and a conv of the
  same size to the outputs.
At width 64, depth 3, 3 heads, two input planes and two outputs: 19,736,518 parameters, as theirs
(benchmarks/parity.json).

Head k predicts the target average-pooled by 2^k (k = 0 is the full-resolution output), and
training sums the MAE of every head against its pooled target, so the deep decoder levels get a
direct signal for the low spatial frequencies. With `heads=1` the same trunk is the single-scale
baseline (config key `trunk`). In train mode the model returns every head's output (full
resolution first); in eval mode only the full-resolution tensor, so
`qpi.training.losses.multiscale_l1(model(x), y)` is the multi-scale loss while training and the plain MAE
while validating.

Inputs (N, C, H, W): C defocused intensities as channels; outputs (N, C', H, W): phase (rad) and,
with C' = 2, amplitude.

Deliberate deviations: the heads are linear (theirs end in a sigmoid on targets min-max scaled to
[0, 1]), so the phase stays quantitative in radians; the per-channel norm is a correct one (their
Keras GroupNormalization with groups = channels reshapes without a transpose and normalises
horizontal stripes instead: not reproduced); PyTorch's default init (theirs he-normal with an L2
penalty of 1e-5).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from qpi.models.layers import conv
from qpi.models.registry import register

NORMS = ("none", "batch", "instance")  # "instance": per channel, affine (the authors' intended group norm)
KERNELS = (3, 5, 7, 9)


def _norm_act(norm: str, slope: float) -> dict:
    return {"norm": norm, "affine": True, "act": "leaky", "slope": slope, "bias": True}


def grow(in_channels: int, channels: int, kernel: int) -> nn.Conv2d:
    """An unpadded stride-1 k×k transposed conv (n → n + k − 1), computed as the conv it equals (the
    same weights flipped, padded by k − 1): the same function and parameters, 3× faster on CPU."""
    return nn.Conv2d(in_channels, channels, kernel, padding=kernel - 1)


def unit(in_channels: int, channels: int, kernel: int, norm: str, slope: float) -> nn.Sequential:
    """The authors' building unit: an unpadded stride-1 k×k transposed conv (n → n + k − 1) and an
    unpadded k×k conv (back to n), each normalised and LeakyReLU'd."""
    return nn.Sequential(*conv(in_channels, channels, layer=grow(in_channels, channels, kernel), **_norm_act(norm, slope)),
                         *conv(channels, channels, kernel, padding=0, **_norm_act(norm, slope)))


class MultiKernel(nn.Module):
    """Four units in parallel (k = 3, 5, 7, 9), a quarter of `channels` each, concatenated."""

    def __init__(self, in_channels: int, channels: int, norm: str, slope: float, kernels: Sequence[int] = KERNELS):
        super().__init__()
        if channels % len(kernels):
            raise ValueError(f"a multi-kernel block of {len(kernels)} kernels needs channels divisible by "
                             f"{len(kernels)}, got {channels}")
        self.units = nn.ModuleList(unit(in_channels, channels // len(kernels), k, norm, slope) for k in kernels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([u(x) for u in self.units], dim=1)


class _Up(nn.Module):
    """2× up-sampling (unpadded 4×4 stride-2 transposed conv, n → 2n + 2, and an unpadded 3×3 conv,
    → 2n), a multi-kernel block, plus the encoder feature."""

    def __init__(self, in_channels: int, out_channels: int, norm: str, slope: float):
        super().__init__()
        double = nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2)
        self.up = nn.Sequential(*conv(in_channels, out_channels, layer=double, **_norm_act(norm, slope)),
                                *conv(out_channels, out_channels, 3, padding=0, **_norm_act(norm, slope)))
        self.block = MultiKernel(out_channels, out_channels, norm, slope)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return skip + self.block(self.up(x))


def head(in_channels: int, out_channels: int, kernel: int, norm: str, slope: float, width: int = 64) -> nn.Sequential:
    """An output head: an unpadded k×k transposed conv to `width` channels (norm, LeakyReLU) and an
    unpadded k×k conv to the outputs, linear."""
    return nn.Sequential(*conv(in_channels, width, layer=grow(in_channels, width, kernel), **_norm_act(norm, slope)),
                         nn.Conv2d(width, out_channels, kernel))


@register("mcnn")
class MCNN(nn.Module):
    """Multi-kernel encoder–decoder of `depth` 2× average-pooling steps (level l has width·2^l
    channels) with `heads` output heads on the decoder levels at scales 1, ½, …, 1/2^(heads−1).

    `heads` ranges from 1 (single scale) to depth + 1 (a head on the bottleneck too). H and W must be
    divisible by 2^depth. `input_std` (one value per input channel) divides the inputs.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        width: int = 64,
        depth: int = 3,
        heads: int = 3,
        norm: str = "instance",
        slope: float = 0.2,
        head_width: int | None = None,
        input_std: Sequence[float] | None = None,
    ):
        super().__init__()
        if not 1 <= heads <= depth + 1:
            raise ValueError(f"MCNN of depth {depth} takes 1 to {depth + 1} heads, got {heads}")
        if norm not in NORMS:
            raise ValueError(f"unknown normalisation {norm!r}; choose one of {', '.join(NORMS)}")
        if input_std is not None and len(input_std) != in_channels:
            raise ValueError(f"input_std needs one value per input channel ({in_channels}), got {list(input_std)}")
        self.depth, self.multiple = depth, 2**depth  # sides must divide by `multiple` (tiled inference reads it)
        # Inputs are divided by the training set's std per channel (the paper z-scores its inputs): unit-scale
        # inputs leave the zero-phase plateau sooner. A fixed scale keeps the phase quantitative.
        scale = torch.tensor(input_std if input_std is not None else [1.0] * in_channels, dtype=torch.float32)
        self.register_buffer("input_std", scale.view(1, -1, 1, 1), persistent=False)
        channels = [width * 2**level for level in range(depth + 1)]
        self.encoder = nn.ModuleList(MultiKernel(c_in, c, norm, slope)
                                     for c_in, c in zip([in_channels, *channels], channels))
        self.ups = nn.ModuleList(_Up(channels[i + 1], channels[i], norm, slope) for i in reversed(range(depth)))
        # heads[k] reads the decoder level at scale 1/2^k, which has channels[k] features.
        head_width = width if head_width is None else head_width  # theirs: 64, their width
        self.heads = nn.ModuleList(head(channels[k], out_channels, max(3, 9 - 2 * k), norm, slope, head_width)
                                   for k in range(heads))

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Decoder features at scales 1, ½, …, 1/2^depth (full resolution first)."""
        if x.shape[-2] % self.multiple or x.shape[-1] % self.multiple:
            raise ValueError(
                f"MCNN of depth {self.depth} needs sizes divisible by {self.multiple}, got {tuple(x.shape[-2:])}; "
                "crop or pad the input"
            )
        x = x / self.input_std
        skips = []
        for level, block in enumerate(self.encoder):
            x = block(F.avg_pool2d(x, 2) if level else x)
            skips.append(x)
        decoded = [skips.pop()]
        for up in self.ups:
            decoded.append(up(decoded[-1], skips.pop()))
        return decoded[::-1]

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every head's output, full resolution first (head k is 2^k times smaller)."""
        return [h(f) for h, f in zip(self.heads, self.features(x))]

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        """All heads (list) in train mode, the full-resolution output (tensor) in eval mode."""
        if self.training:
            return self.forward_all(x)
        return self.heads[0](self.features(x)[0])
