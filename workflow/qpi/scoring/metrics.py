"""Image-quality metrics for predicted phase/intensity against ground truth (2-D arrays).

Every range-dependent metric uses R = max − min of the ground truth of that image, so numbers are
comparable across images and papers (Wang et al. SSIM settings). Phases are compared after
removing their piston (mean), which no single-image method can recover. A constant ground truth
has R = 0: SSIM, PSNR and NRMSE are then undefined and returned as NaN.

Torch is imported only inside LPIPS, so numpy-only callers stay light.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from skimage.metrics import structural_similarity

ALEXNET_TRUNK = "alexnet-owt-7be5be79.pth"  # torchvision's ImageNet AlexNet, LPIPS's trunk


def remove_piston(x: np.ndarray) -> np.ndarray:
    """`x` minus its mean (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean()


def _image(x: np.ndarray) -> np.ndarray:
    """A float64 2-D image; leading singleton axes (N=1, C=1) are dropped."""
    x = np.asarray(x, dtype=np.float64)
    while x.ndim > 2 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2:
        raise ValueError(f"metrics compare 2-D images, got shape {x.shape}")
    return x


def _pair(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, truth = _image(pred), _image(truth)
    if pred.shape != truth.shape:
        raise ValueError(f"prediction {pred.shape} and truth {truth.shape} differ in shape")
    return pred, truth


def inside(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both images cropped to what can be scored: the truth's shape cut to the prediction's (binning
    drops the rows and columns that do not fill a block), then, where either holds NaN (outside a
    field stop), the largest rectangle that holds none (a block cut diagonally by the stop keeps the
    half it has, not a box shrunk evenly about its centre)."""
    pred, truth = _image(pred), _image(truth)
    if all(0 <= t - p < 32 for t, p in zip(truth.shape, pred.shape)):
        truth = truth[: pred.shape[0], : pred.shape[1]]
    pred, truth = _pair(pred, truth)
    finite = np.isfinite(pred) & np.isfinite(truth)
    if finite.all() or not finite.any():
        return pred, truth
    box = largest_rectangle(finite)
    return pred[box], truth[box]


def largest_rectangle(mask: np.ndarray, sweep_px: int = 256) -> tuple[slice, slice]:
    """The axis-aligned rectangle of largest area with every pixel of `mask` True (a row-by-row sweep
    of column heights with a stack). A mask over `sweep_px` a side is swept on blocks of k×k pixels
    that are all True, so the sweep stays O(sweep_px²) and the rectangle is at most k−1 pixels a side
    short of the best."""
    k = max(1, -(-max(mask.shape) // sweep_px))
    if k > 1:
        h, w = (-(-n // k) * k for n in mask.shape)
        padded = np.zeros((h, w), bool)
        padded[: mask.shape[0], : mask.shape[1]] = mask
        rows, cols = largest_rectangle(padded.reshape(h // k, k, w // k, k).all(axis=(1, 3)), sweep_px)
        return np.s_[rows.start * k : rows.stop * k, cols.start * k : cols.stop * k]
    height, width = mask.shape
    heights = np.zeros(width, int)
    best = (0, 0, 0, 0, 0)  # area, top, bottom, left, right
    for row in range(height):
        heights = np.where(mask[row], heights + 1, 0)
        stack: list[tuple[int, int]] = []  # (first column, height), heights increasing
        for col, h in enumerate([*heights.tolist(), 0]):
            start = col
            while stack and stack[-1][1] >= h:
                start, top_height = stack.pop()
                if top_height * (col - start) > best[0]:
                    best = (top_height * (col - start), row - top_height + 1, row + 1, start, col)
            stack.append((start, h))
    return np.s_[best[1] : best[2], best[3] : best[4]]


def data_range(truth: np.ndarray) -> float:
    """R = max − min of the ground truth."""
    return float(np.max(truth) - np.min(truth))


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity, Gaussian 11×11 window (σ 1.5), population covariances, R from truth."""
    pred, truth = _pair(pred, truth)
    r = data_range(truth)
    if r == 0:
        return math.nan
    return float(
        structural_similarity(
            pred, truth, data_range=r, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio 10·log10(R²/MSE) in dB; inf for a perfect prediction."""
    pred, truth = _pair(pred, truth)
    r, mse = data_range(truth), float(np.mean((pred - truth) ** 2))
    if r == 0:
        return math.nan
    return math.inf if mse == 0 else 10 * math.log10(r * r / mse)


def nrmse(pred: np.ndarray, truth: np.ndarray) -> float:
    """Root-mean-square error divided by R (dimensionless)."""
    pred, truth = _pair(pred, truth)
    r = data_range(truth)
    return math.nan if r == 0 else float(np.sqrt(np.mean((pred - truth) ** 2)) / r)


def mae(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error, in the images' unit (rad for phase)."""
    pred, truth = _pair(pred, truth)
    return float(np.mean(np.abs(pred - truth)))


def pearson(pred: np.ndarray, truth: np.ndarray) -> float:
    """Pearson correlation of the pixels (piston- and scale-blind): −1 for an inverted image."""
    pred, truth = _pair(pred, truth)
    p, t = pred - pred.mean(), truth - truth.mean()
    norm = float(np.sqrt(np.sum(p * p) * np.sum(t * t)))
    return math.nan if norm == 0 else float(np.sum(p * t) / norm)


def score(pred: np.ndarray, truth: np.ndarray, phase: bool = True) -> dict[str, float]:
    """SSIM, PSNR (dB), NRMSE, MAE, Pearson r and the range R used; pistons removed first when `phase`."""
    pred, truth = _pair(pred, truth)
    if phase:
        pred, truth = remove_piston(pred), remove_piston(truth)
    return {
        "ssim": ssim(pred, truth),
        "psnr": psnr(pred, truth),
        "nrmse": nrmse(pred, truth),
        "mae": mae(pred, truth),
        "pearson": pearson(pred, truth),
        "data_range": data_range(truth),
    }


def alexnet_trunk_path() -> Path:
    """Where torchvision keeps the AlexNet trunk that LPIPS needs (torch hub cache)."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_TRUNK


def lpips_available() -> tuple[bool, str]:
    """Whether LPIPS can run without a download, and a note saying why (not)."""
    path = alexnet_trunk_path()
    if not path.is_file():
        return False, f"LPIPS missing: AlexNet trunk weights not in torch hub cache ({path})"
    try:
        import lpips  # noqa: F401
    except ImportError:
        return False, "LPIPS missing: the lpips package is not installed"
    return True, f"LPIPS (AlexNet, v0.1) with trunk weights from {path}"


class Lpips:
    """LPIPS distance (AlexNet trunk, v0.1 linear heads); NaN with a note when the trunk is missing.

    Never downloads and never runs on random trunk weights: the trunk is read only from the
    torch hub cache file. Images are repeated to 3 channels and mapped to [−1, 1] by the truth's
    range (the prediction with the same map, unclipped).
    """

    def __init__(self, device: str = "cpu"):
        self.available, self.note = lpips_available()
        self.device = device
        self.net = _load_lpips(alexnet_trunk_path(), device) if self.available else None

    def __call__(self, pred: np.ndarray, truth: np.ndarray, phase: bool = True) -> float:
        """LPIPS distance of one image pair (0 = identical); NaN if unavailable or R = 0."""
        pred, truth = _pair(pred, truth)
        if phase:
            pred, truth = remove_piston(pred), remove_piston(truth)
        r = data_range(truth)
        if self.net is None or r == 0:
            return math.nan
        import torch

        lo = truth.min()
        pair = [torch.as_tensor(2 * (x - lo) / r - 1, dtype=torch.float32) for x in (pred, truth)]
        pair = [x.expand(1, 3, *x.shape).to(self.device) for x in pair]
        with torch.no_grad():
            return float(self.net(*pair).item())


def _load_lpips(trunk_path: Path, device: str):
    """lpips.LPIPS built with a random trunk (no download), then the cached AlexNet trunk loaded."""
    import warnings

    import lpips
    import torch

    with warnings.catch_warnings():  # torchvision's "pretrained=False is deprecated"
        warnings.simplefilter("ignore")
        net = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False)
    features = torch.load(trunk_path, map_location="cpu", weights_only=True)
    features = {k.removeprefix("features."): v for k, v in features.items() if k.startswith("features.")}
    # lpips splits torchvision's `features` into slices that keep the layer indices: slice2.3 = features.3
    trunk = {key: features[key.split(".", 1)[1]] for key in net.net.state_dict()}
    net.net.load_state_dict(trunk, strict=True)
    return net.to(device).eval()
