"""ContransGAN family generators: low-NA intensity contrast (N, 1, H, W) → phase (N, 1, H, W) in rad,
and back (the CycleGAN's second generator), for any H, W.

As the authors built them (DingHao714/The-ContransGAN, `SwinTransformer` and `unetno`):
- `contrans`: a CNN U-Net encoder (conv–BatchNorm–ReLU, max-pool downs, width·2^l channels) feeds
  only the bottleneck at H/2^depth; a Swin branch (4×4 patch embedding, then one stage of regular +
  shifted window blocks per level, 2×2 patch embedding between stages) gives the decoder's skip
  connections: stage s (H/2^(s+2), width·2^s channels), up-sampled ×4 (nearest), joins decoder level
  s; transposed-conv ups, a 1×1 output conv without activation. At width 96, depth 4, window 7,
  head width 32, MLP ×4: 90,204,105 parameters, theirs 90,232,145 (0.03 % apart: they count the
  shifted windows' two fixed masks as parameters, 19,208, and keep the biases below; their
  attention layer that is built and never used is left out) — benchmarks/parity.json.
- `contrans_unet` (config key `cnn`): the U-Net alone (their CycleGAN (U-Net) baseline, `unetno`), the
  same network as DL-SRQPI's `srqpi_unet` at upscale 1.
- `contrans_swin`: Swin only (the paper's "S-Transformer"): the Swin branch as encoder and a
  patch-expanding decoder of Swin stages with skips (Swin-Unet's layout; not in the authors' code).

Swin pieces written here: window partition/reverse, windowed multi-head self-attention with a learned
relative position bias (one table shared by the heads, theirs; or one per head), shifted windows with
the attention mask that keeps the cyclically wrapped regions apart, patch embedding and expanding.

Deliberate deviations: the convs before a BatchNorm carry no bias (theirs do; the norm's shift
replaces it: 8,832 parameters at paper size); the shifted-window masks are buffers, not parameters;
the relative position tables start at N(0, 0.02²) (theirs N(0, 1)). `init="default"` keeps PyTorch's
initialisation instead of theirs (the CPU demo's: see config.yaml).

Every generator pads its input (replicate) to a multiple of its total down-sampling (at least twice
it), each Swin block pads its map to the window size, and the output is cropped back, so any patch
size works. `in_scale` and `out_scale` are fixed data scales (the training domains' spreads): the
network sees x / in_scale and its output is multiplied by out_scale, so a saved generator maps raw
inputs to radians.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from qpi.models.layers import init_weights
from qpi.models.registry import register
from qpi.models.srqpi import UNet

# --- windows ---------------------------------------------------------------------------------------


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of `window` → (B·nW, window², C), windows in row-major order."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)


def window_reverse(windows: torch.Tensor, window: int, h: int, w: int) -> torch.Tensor:
    """Inverse of `window_partition`: (B·nW, window², C) → (B, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(-1, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)


def relative_position_index(window: int) -> torch.Tensor:
    """(window², window²) index into a (2·window − 1)² bias table of every (query, key) offset."""
    ys, xs = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    coords = torch.stack([ys.flatten(), xs.flatten()])  # (2, N)
    rel = coords[:, :, None] - coords[:, None, :] + window - 1  # offsets shifted to 0..2w−2
    return rel[0] * (2 * window - 1) + rel[1]


def shift_mask(h: int, w: int, window: int, shift: int, device=None) -> torch.Tensor:
    """Boolean (nW, window², window²): True where a query may attend to a key after the cyclic shift
    by −`shift`, i.e. both come from the same region of the unshifted map (the three bands per axis
    that the roll makes neighbours are told apart)."""
    region = torch.zeros(h, w, dtype=torch.long, device=device)
    bands = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for ys in bands:
        for xs in bands:
            region[ys, xs] = label
            label += 1
    ids = window_partition(region[None, :, :, None], window)[..., 0]  # (nW, N)
    return ids[:, :, None] == ids[:, None, :]


class WindowAttention(nn.Module):
    """Multi-head self-attention inside each window with a learned relative position bias: one
    (2·window − 1)² table shared by all heads (the authors'), or one per head (`bias_per_head`, Swin's).
    Each head has `head_dim` channels (default dim / heads); the queries, keys and values have no bias
    unless `qkv_bias`."""

    def __init__(self, dim: int, window: int, heads: int, head_dim: int | None = None, qkv_bias: bool = False,
                 bias_per_head: bool = False):
        super().__init__()
        if head_dim is None:
            if dim % heads:
                raise ValueError(f"attention width {dim} is not divisible by {heads} heads")
            head_dim = dim // heads
        self.heads, self.head_dim, self.scale = heads, head_dim, head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * heads * head_dim, bias=qkv_bias)
        self.proj = nn.Linear(heads * head_dim, dim)
        self.bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads if bias_per_head else 1))
        nn.init.trunc_normal_(self.bias_table, std=0.02)
        self.register_buffer("bias_index", relative_position_index(window), persistent=False)

    def weights(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention weights (B·nW, heads, N, N) and values (B·nW, heads, N, head_dim) of windows
        (B·nW, N, C); `mask` (nW, N, N) is True where attention is allowed."""
        bw, n, _ = x.shape
        q, k, v = self.qkv(x).view(bw, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        logits = (q * self.scale) @ k.transpose(-2, -1)
        logits = logits + self.bias_table[self.bias_index].permute(2, 0, 1)[None]
        if mask is not None:
            nw = mask.shape[0]
            logits = logits.view(bw // nw, nw, self.heads, n, n).masked_fill(~mask[None, :, None], float("-inf"))
            logits = logits.view(bw, self.heads, n, n)
        return logits.softmax(dim=-1), v

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        attention, v = self.weights(x, mask)
        return self.proj((attention @ v).transpose(1, 2).reshape(*x.shape[:2], -1))


class SwinBlock(nn.Module):
    """LayerNorm → (shifted) window attention → residual; LayerNorm → MLP → residual, on (B, H, W, C).

    The map is zero-padded to a multiple of the window after the first norm and cropped back, so any
    H, W work; a shifted block rolls the padded map by −shift and masks the wrapped regions apart.
    """

    def __init__(self, dim: int, heads: int, window: int, shift: int = 0, mlp_ratio: float = 4.0,
                 head_dim: int | None = None):
        super().__init__()
        if not 0 <= shift < window:
            raise ValueError(f"window shift must be in 0..{window - 1}, got {shift}")
        self.window, self.shift = window, shift
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = WindowAttention(dim, window, heads, head_dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h, w, _ = x.shape
        win = self.window
        y = F.pad(self.norm1(x), (0, 0, 0, (-w) % win, 0, (-h) % win))
        hp, wp = y.shape[1:3]
        mask = None
        if self.shift:
            y = torch.roll(y, (-self.shift, -self.shift), dims=(1, 2))
            mask = shift_mask(hp, wp, win, self.shift, device=x.device)
        y = window_reverse(self.attention(window_partition(y, win), mask), win, hp, wp)
        if self.shift:
            y = torch.roll(y, (self.shift, self.shift), dims=(1, 2))
        x = x + y[:, :h, :w]
        return x + self.mlp(self.norm2(x))


class SwinStage(nn.Sequential):
    """`blocks` Swin blocks alternating regular and shifted (by half a window) windows."""

    def __init__(self, dim: int, heads: int, window: int, blocks: int = 2, mlp_ratio: float = 4.0,
                 head_dim: int | None = None):
        super().__init__(*(SwinBlock(dim, heads, window, (window // 2) * (i % 2), mlp_ratio, head_dim)
                           for i in range(blocks)))


class PatchEmbed(nn.Module):
    """(B, C, H, W) → (B, ⌈H/k⌉, ⌈W/k⌉, D): each k×k patch flattened and projected linearly (a
    stride-k conv, with bias); the map is zero-padded to a multiple of k first."""

    def __init__(self, in_channels: int, dim: int, patch: int):
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(in_channels, dim, patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = F.pad(x, (0, (-w) % self.patch, 0, (-h) % self.patch))
        return self.proj(x).permute(0, 2, 3, 1)


class PatchExpand(nn.Module):
    """(B, H, W, C) → (B, s·H, s·W, out): a linear map to s²·out channels rearranged into s×s
    sub-pixels, then LayerNorm (Swin-Unet's; s = 2, out = C/2 between stages, s = 4, out = C last)."""

    def __init__(self, dim: int, scale: int = 2, out_dim: int | None = None):
        super().__init__()
        self.scale, self.out_dim = scale, dim // 2 if out_dim is None else out_dim
        self.expand = nn.Linear(dim, scale * scale * self.out_dim, bias=False)
        self.norm = nn.LayerNorm(self.out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, _ = x.shape
        s, c = self.scale, self.out_dim
        x = self.expand(x).view(b, h, w, s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(b, s * h, s * w, c)
        return self.norm(x)


def heads_for(dim: int, head_dim: int) -> int:
    """Attention heads of `head_dim` channels in a `dim`-wide stage (at least one)."""
    return max(1, dim // head_dim)


class SwinBranch(nn.Module):
    """The authors' Swin branch: stage s = 0..depth−1 embeds patches (4×4 into the first, 2×2 between
    stages) to width·2^s channels and runs `blocks` Swin blocks (heads of `head_dim` channels);
    returns every stage's features (B, width·2^s, H/2^(s+2), W/2^(s+2)), channels first."""

    def __init__(self, in_channels: int, width: int, depth: int, window: int, head_dim: int, blocks: int,
                 mlp_ratio: float):
        super().__init__()
        self.dims = [width * 2**s for s in range(depth)]
        self.embeds = nn.ModuleList(PatchEmbed(c_in, d, 4 if s == 0 else 2)
                                    for s, (c_in, d) in enumerate(zip([in_channels, *self.dims], self.dims)))
        self.stages = nn.ModuleList(SwinStage(d, heads_for(d, head_dim), window, blocks, mlp_ratio, head_dim)
                                    for d in self.dims)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for embed, stage in zip(self.embeds, self.stages):
            x = stage(embed(x)).permute(0, 3, 1, 2)
            features.append(x)
        return features


# --- generators ------------------------------------------------------------------------------------


class _Generator(nn.Module):
    """Input scaling, padding to a multiple of the total down-sampling, cropping and output scaling
    around `body`; conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), the rest PyTorch's (theirs)."""

    def setup(self, multiple: int, in_scale: float, out_scale: float, init: str = "normal") -> None:
        if multiple < 2:
            raise ValueError(f"generator depth must be ≥ 1, got a down-sampling of {multiple}")
        if in_scale <= 0 or out_scale <= 0:
            raise ValueError(f"data scales must be positive, got in_scale={in_scale}, out_scale={out_scale}")
        self.multiple, self.in_scale, self.out_scale = multiple, float(in_scale), float(out_scale)
        init_weights(self, init, 0.02, linear=False, zero_bias=False)  # "normal": the authors' weights_init_normal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        # a multiple of the down-sampling, and ≥ 2 pixels at the bottom level (a norm needs > 1)
        hp, wp = (max(-(-n // self.multiple), 2) * self.multiple for n in (h, w))
        x = F.pad(x / self.in_scale, (0, wp - w, 0, hp - h), mode="replicate")
        return self.body(x)[..., :h, :w] * self.out_scale


@register("contrans")
class Contrans(_Generator):
    """ContransGAN's generator: the U-Net's encoder to its bottleneck, the Swin branch's stages
    (up-sampled ×4) as the decoder's skip connections."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 96, depth: int = 4,
                 window: int = 7, head_dim: int = 32, blocks: int = 2, mlp_ratio: float = 4.0,
                 in_scale: float = 1.0, out_scale: float = 1.0, init: str = "normal"):
        super().__init__()
        self.unet = UNet(in_channels, out_channels, upscale=1, width=width, depth=depth)
        self.swin = SwinBranch(in_channels, width, depth, window, head_dim, blocks, mlp_ratio)
        self.setup(2 ** (depth + 1), in_scale, out_scale, init)  # the last Swin stage sits at H/2^(depth+1)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        x_cnn = self.unet.inc(x)
        for down in self.unet.downs:
            x_cnn = down(x_cnn)
        skips = [F.interpolate(f, scale_factor=4, mode="nearest") for f in self.swin(x)]
        for up, skip in zip(self.unet.ups, reversed(skips)):
            x_cnn = up(x_cnn, skip)
        return self.unet.head(x_cnn)


@register("contrans_unet")
class UNetGenerator(_Generator):
    """The U-Net alone (the authors' CycleGAN (U-Net) baseline)."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 96, depth: int = 4,
                 in_scale: float = 1.0, out_scale: float = 1.0, init: str = "normal"):
        super().__init__()
        self.unet = UNet(in_channels, out_channels, upscale=1, width=width, depth=depth)
        self.setup(2**depth, in_scale, out_scale, init)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.unet(x)


@register("contrans_swin")
class SwinGenerator(_Generator):
    """Swin only: the Swin branch as encoder, then per level a ×2 patch expansion, a skip
    concatenation projected back to the level's width and a Swin stage; a last ×4 expansion to full
    size and a linear head."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 96, depth: int = 4,
                 window: int = 7, head_dim: int = 32, blocks: int = 2, mlp_ratio: float = 4.0,
                 in_scale: float = 1.0, out_scale: float = 1.0, init: str = "normal"):
        super().__init__()
        self.encoder = SwinBranch(in_channels, width, depth, window, head_dim, blocks, mlp_ratio)
        dims = self.encoder.dims
        self.expands = nn.ModuleList(PatchExpand(d) for d in dims[1:])
        self.joins = nn.ModuleList(nn.Linear(2 * d, d) for d in dims[:-1])
        self.stages = nn.ModuleList(SwinStage(d, heads_for(d, head_dim), window, blocks, mlp_ratio, head_dim)
                                    for d in dims[:-1])
        self.final = PatchExpand(dims[0], scale=4, out_dim=dims[0])
        self.head = nn.Linear(dims[0], out_channels)
        self.setup(2 ** (depth + 1), in_scale, out_scale, init)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        skips = [f.permute(0, 2, 3, 1) for f in self.encoder(x)]
        y = skips[-1]
        for level in reversed(range(len(self.stages))):
            y = self.stages[level](self.joins[level](torch.cat([self.expands[level](y), skips[level]], dim=-1)))
        return self.head(self.final(y)).permute(0, 3, 1, 2)
