"""ContransGAN family generators: low-NA intensity contrast (N, 1, H, W) → phase (N, 1, H, W) in rad,
and back (the CycleGAN's second generator), for any H, W.

- Swin-Transformer pieces written here: window partition/reverse, windowed multi-head self-attention
  with a learned relative position bias, shifted windows with the attention mask that keeps the
  cyclically wrapped regions apart, patch merging (2× down, 2× channels) and patch expanding.
- `contrans`: CNN encoder–decoder (conv–InstanceNorm–ReLU, U-Net skips) plus a Swin branch (patch
  embedding, then one stage of W-MSA + SW-MSA blocks per encoder level, patch merging between
  stages) whose features join the CNN skips in the decoder. The paper embeds 4×4 patches and
  up-samples that branch 4× before the concatenation; here it embeds 2×2 patches so each Swin stage
  already matches an encoder level (same fusion, no up-sampling).
- `contrans_unet`: the same CNN without the Swin branch (the paper's "CycleGAN (U-Net)").
- `contrans_swin`: Swin only (the paper's "S-Transformer"): the Swin branch as encoder and a
  patch-expanding decoder of Swin stages with skips.

Every generator pads its input (replicate) to a multiple of 2^depth (at least 2^(depth+1)), each Swin block pads its map
to the window size, and the output is cropped back, so any patch size works. `in_scale` and
`out_scale` are fixed data scales (the training domains' spreads): the network sees x / in_scale
and its output is multiplied by out_scale, so a saved generator maps raw inputs to radians.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from qpi.models.layers import conv
from qpi.models.registry import register


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
    """Multi-head self-attention inside each window, with a relative position bias per head."""

    def __init__(self, dim: int, window: int, heads: int):
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by {heads} heads")
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.bias_table, std=0.02)
        self.register_buffer("bias_index", relative_position_index(window), persistent=False)

    def weights(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention weights (B·nW, heads, N, N) and values (B·nW, heads, N, C/heads) of windows (B·nW, N, C);
        `mask` (nW, N, N) is True where attention is allowed."""
        bw, n, c = x.shape
        q, k, v = self.qkv(x).view(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        logits = (q * self.scale) @ k.transpose(-2, -1)
        logits = logits + self.bias_table[self.bias_index].permute(2, 0, 1)[None]
        if mask is not None:
            nw = mask.shape[0]
            logits = logits.view(bw // nw, nw, self.heads, n, n).masked_fill(~mask[None, :, None], float("-inf"))
            logits = logits.view(bw, self.heads, n, n)
        return logits.softmax(dim=-1), v

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        attention, v = self.weights(x, mask)
        return self.proj((attention @ v).transpose(1, 2).reshape(x.shape))


class SwinBlock(nn.Module):
    """LayerNorm → (shifted) window attention → residual; LayerNorm → MLP → residual, on (B, H, W, C).

    The map is zero-padded to a multiple of the window after the first norm and cropped back, so any
    H, W work; a shifted block rolls the padded map by −shift and masks the wrapped regions apart.
    """

    def __init__(self, dim: int, heads: int, window: int, shift: int = 0, mlp_ratio: float = 2.0):
        super().__init__()
        if not 0 <= shift < window:
            raise ValueError(f"window shift must be in 0..{window - 1}, got {shift}")
        self.window, self.shift = window, shift
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = WindowAttention(dim, window, heads)
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

    def __init__(self, dim: int, heads: int, window: int, blocks: int = 2, mlp_ratio: float = 2.0):
        super().__init__(*(SwinBlock(dim, heads, window, (window // 2) * (i % 2), mlp_ratio) for i in range(blocks)))


class PatchMerging(nn.Module):
    """(B, H, W, C) → (B, ⌈H/2⌉, ⌈W/2⌉, 2C): each 2×2 neighbourhood concatenated, normed, projected."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduce = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[1:3]
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        return self.reduce(self.norm(x))


class PatchExpand(nn.Module):
    """(B, H, W, C) → (B, 2H, 2W, C/2): a linear map to 2C channels rearranged into 2×2 sub-pixels."""

    def __init__(self, dim: int):
        super().__init__()
        self.expand = nn.Linear(dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(dim // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        x = self.expand(x).view(b, h, w, 2, 2, c // 2).permute(0, 1, 3, 2, 4, 5).reshape(b, 2 * h, 2 * w, c // 2)
        return self.norm(x)


def heads_for(dim: int, head_dim: int) -> int:
    return max(1, dim // head_dim)


class SwinEncoder(nn.Module):
    """Patch embedding (2×2, stride 2) then `depth` Swin stages with patch merging between them:
    features (B, C, H/2^s, W/2^s) of widths width·2^s for s = 1..depth (channels first)."""

    def __init__(self, in_channels: int, width: int, depth: int, window: int, head_dim: int, blocks: int,
                 mlp_ratio: float):
        super().__init__()
        dims = [width * 2**s for s in range(1, depth + 1)]
        self.embed = nn.Conv2d(in_channels, dims[0], 2, stride=2)
        self.embed_norm = nn.LayerNorm(dims[0])
        self.stages = nn.ModuleList(SwinStage(d, heads_for(d, head_dim), window, blocks, mlp_ratio) for d in dims)
        self.merges = nn.ModuleList(PatchMerging(d) for d in dims[:-1])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.embed_norm(self.embed(x).permute(0, 2, 3, 1))
        features = []
        for s, stage in enumerate(self.stages):
            if s:
                x = self.merges[s - 1](x)
            x = stage(x)
            features.append(x.permute(0, 3, 1, 2))
        return features


# --- CNN pieces ------------------------------------------------------------------------------------


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3×3 conv–InstanceNorm–ReLU layers (instance norm: CycleGAN's choice for small batches)."""
    return nn.Sequential(*conv(in_channels, out_channels, norm="instance", bias=True),
                         *conv(out_channels, out_channels, norm="instance", bias=True))


class CnnEncoder(nn.Module):
    """Features of widths width·2^l at H/2^l for l = 0..depth (2× max-pool between levels)."""

    def __init__(self, in_channels: int, width: int, depth: int):
        super().__init__()
        widths = [width * 2**level for level in range(depth + 1)]
        self.levels = nn.ModuleList(conv_block(c_in, c_out) for c_in, c_out in zip([in_channels, *widths], widths))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for level, block in enumerate(self.levels):
            x = block(F.max_pool2d(x, 2) if level else x)
            features.append(x)
        return features


class CnnDecoder(nn.Module):
    """From the bottom feature up: 2× transposed conv, concatenation with the encoder skip (and with
    `extra[l]` channels of another branch at level l), conv block; a 1×1 head."""

    def __init__(self, width: int, depth: int, out_channels: int, extra: list[int] | None = None):
        super().__init__()
        extra = extra or [0] * (depth + 1)
        widths = [width * 2**level for level in range(depth + 1)]
        self.bottom = nn.Conv2d(widths[depth] + extra[depth], widths[depth], 1) if extra[depth] else nn.Identity()
        self.ups = nn.ModuleList(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2)
                                 for level in range(depth))
        self.blocks = nn.ModuleList(conv_block(2 * widths[level] + extra[level], widths[level])
                                    for level in range(depth))
        self.head = nn.Conv2d(width, out_channels, 1)

    def forward(self, skips: list[torch.Tensor], extra: list[torch.Tensor | None] | None = None) -> torch.Tensor:
        extra = extra or [None] * len(skips)
        join = lambda *parts: torch.cat([p for p in parts if p is not None], dim=1)  # noqa: E731
        x = self.bottom(join(skips[-1], extra[-1]))
        for level in reversed(range(len(self.ups))):
            x = self.blocks[level](join(self.ups[level](x), skips[level], extra[level]))
        return self.head(x)


# --- generators ------------------------------------------------------------------------------------


class _Generator(nn.Module):
    """Input scaling, padding to a multiple of 2^depth, cropping and output scaling around `body`."""

    def setup(self, depth: int, in_scale: float, out_scale: float) -> None:
        if depth < 1:
            raise ValueError(f"generator depth must be ≥ 1, got {depth}")
        if in_scale <= 0 or out_scale <= 0:
            raise ValueError(f"data scales must be positive, got in_scale={in_scale}, out_scale={out_scale}")
        self.multiple, self.in_scale, self.out_scale = 2**depth, float(in_scale), float(out_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        # a multiple of 2^depth, and ≥ 2 pixels at the bottom level (instance norm needs > 1)
        hp, wp = (max(-(-n // self.multiple), 2) * self.multiple for n in (h, w))
        x = F.pad(x / self.in_scale, (0, wp - w, 0, hp - h), mode="replicate")
        return self.body(x)[..., :h, :w] * self.out_scale


@register("contrans")
class Contrans(_Generator):
    """ContransGAN's generator: CNN encoder–decoder with a Swin branch fused into every decoder level."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 8, depth: int = 2,
                 window: int = 4, head_dim: int = 8, blocks: int = 2, mlp_ratio: float = 2.0,
                 in_scale: float = 1.0, out_scale: float = 1.0):
        super().__init__()
        self.setup(depth, in_scale, out_scale)
        self.cnn = CnnEncoder(in_channels, width, depth)
        self.swin = SwinEncoder(in_channels, width, depth, window, head_dim, blocks, mlp_ratio)
        self.decoder = CnnDecoder(width, depth, out_channels, extra=[0] + [width * 2**s for s in range(1, depth + 1)])

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.cnn(x), [None, *self.swin(x)])


@register("contrans_unet")
class UNetGenerator(_Generator):
    """The CNN encoder–decoder of `contrans` alone (CycleGAN with a U-Net generator)."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 8, depth: int = 2,
                 in_scale: float = 1.0, out_scale: float = 1.0):
        super().__init__()
        self.setup(depth, in_scale, out_scale)
        self.cnn = CnnEncoder(in_channels, width, depth)
        self.decoder = CnnDecoder(width, depth, out_channels)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.cnn(x))


@register("contrans_swin")
class SwinGenerator(_Generator):
    """Swin only: the Swin encoder, then per level a patch expansion, a skip concatenation projected
    back to the level's width and a Swin stage; a last expansion to full size and a linear head."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 8, depth: int = 2,
                 window: int = 4, head_dim: int = 8, blocks: int = 2, mlp_ratio: float = 2.0,
                 in_scale: float = 1.0, out_scale: float = 1.0):
        super().__init__()
        self.setup(depth, in_scale, out_scale)
        dims = [width * 2**s for s in range(1, depth + 1)]
        self.encoder = SwinEncoder(in_channels, width, depth, window, head_dim, blocks, mlp_ratio)
        self.expands = nn.ModuleList(PatchExpand(d) for d in dims[1:])
        self.joins = nn.ModuleList(nn.Linear(2 * d, d) for d in dims[:-1])
        self.stages = nn.ModuleList(SwinStage(d, heads_for(d, head_dim), window, blocks, mlp_ratio) for d in dims[:-1])
        self.final = PatchExpand(dims[0])
        self.head = nn.Linear(dims[0] // 2, out_channels)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        skips = [f.permute(0, 2, 3, 1) for f in self.encoder(x)]
        y = skips[-1]
        for level in reversed(range(len(self.stages))):
            y = self.stages[level](self.joins[level](torch.cat([self.expands[level](y), skips[level]], dim=-1)))
        return self.head(self.final(y)).permute(0, 3, 1, 2)
