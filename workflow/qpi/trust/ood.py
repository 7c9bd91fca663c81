"""Out-of-distribution check: how far a new input lies from the inputs a network was trained on.

Training summarises its input tiles (`summarise`, stored in the model card): per channel, each tile's
level (mean), contrast (log of its std) and the shares of its variance at coarse (≤ 1/16 cycle per pixel)
and fine (> 1/4) spatial frequencies, as the median and robust spread over the training tiles, and each
feature's limit: the 99th percentile of the training tiles' own |robust z| (at least `MIN_LIMIT`). A new
input is cut into tiles of the training size; a tile's score is its largest |z| over the features, each
over its limit, and the input's score is the median tile score: above 1, a typical tile of the input is
less like the training inputs than 99 % of them were like each other in some feature. Features are
judged each against its own limit: one heavy-tailed feature must not hide another's departure.
"""

from __future__ import annotations

import numpy as np

FEATURES = ("level", "contrast", "coarse", "fine")
MAX_TILES = 4096  # training tiles summarised (a random subset of larger sets)
MIN_LIMIT = 3.0  # the least |robust z| a feature's limit is (a feature with a narrow training spread)


def features(tiles: np.ndarray) -> np.ndarray:
    """(N, C·4) features of tiles (N, C, h, w): per channel `FEATURES`."""
    t = np.asarray(tiles, np.float64)
    n, c, h, w = t.shape
    centred = t - t.mean(axis=(-2, -1), keepdims=True)
    power = np.abs(np.fft.fft2(centred)) ** 2
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij"))
    total = power.sum(axis=(-2, -1)) + 1e-30
    coarse = (f > 0) & (f <= max(1 / 16, 1 / min(h, w)) + 1e-9)  # a small tile's first ring at least
    out = np.stack([t.mean(axis=(-2, -1)), np.log(centred.std(axis=(-2, -1)) + 1e-6),
                    power[..., coarse].sum(-1) / total, power[..., f > 1 / 4].sum(-1) / total], axis=-1)
    return out.reshape(n, c * len(FEATURES))


def summarise(x: np.ndarray, seed: int = 0) -> dict:
    """The card's summary of training inputs `x` (N, C, h, w)."""
    x = np.asarray(x)
    if len(x) > MAX_TILES:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), MAX_TILES, replace=False))]
    values = features(x)
    median = np.median(values, axis=0)
    scale = 1.4826 * np.median(np.abs(values - median), axis=0) + 1e-3 * np.abs(median) + 1e-6
    limits = np.maximum(np.percentile(np.abs((values - median) / scale), 99, axis=0), MIN_LIMIT)
    names = [f"{name} (channel {c})" if x.shape[1] > 1 else name for c in range(x.shape[1]) for name in FEATURES]
    return {"tile_px": int(x.shape[-1]), "features": names, "median": median.round(6).tolist(),
            "scale": scale.round(6).tolist(), "limits": limits.round(3).tolist(), "tiles": int(len(x))}


def tiles_of(x: np.ndarray, size: int) -> np.ndarray:
    """Non-overlapping tiles (N, C, size, size) covering `x` (C, H, W) (the last ones flush with its edge);
    tiles holding NaN (outside a field stop) are left out."""
    _, h, w = x.shape
    size = min(size, h, w)
    ys = sorted({*range(0, h - size + 1, size), h - size})
    xs = sorted({*range(0, w - size + 1, size), w - size})
    cut = np.stack([x[:, y:y + size, x0:x0 + size] for y in ys for x0 in xs])
    return cut[np.isfinite(cut).all(axis=(1, 2, 3))]


def score(x: np.ndarray, summary: dict) -> tuple[float, list[str]]:
    """An input's (C, H, W) score against a card's `summary` (see the module doc) and the features that
    differ, each as a phrase ("contrast higher than in training (z +5.2)")."""
    tiles = tiles_of(np.asarray(x), summary["tile_px"])
    if not len(tiles):
        return float("nan"), ["no tile of the training size inside the input"]
    z = (features(tiles) - np.asarray(summary["median"])) / np.asarray(summary["scale"])
    limits = np.asarray(summary.get("limits") or [summary["threshold"]] * z.shape[1])  # older cards: one threshold
    value = float(np.median(np.abs(z / limits).max(axis=1)))
    typical = np.median(z, axis=0)
    differ = [f"{name} {'higher' if v > 0 else 'lower'} than in training (z {v:+.1f}, limit {limit:.1f})"
              for name, v, limit in zip(summary["features"], typical, limits) if abs(v) > limit]
    return value, differ
