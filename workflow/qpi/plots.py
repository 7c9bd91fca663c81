"""Figures. Each takes tidy tables (and, for example panels, arrays) and returns a Matplotlib figure."""

from __future__ import annotations

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .atomic import atomic_path  # noqa: E402

sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def save(fig, path, dpi: int = 150) -> None:
    """PNG and a PDF twin, written atomically."""
    for suffix in (".png", ".pdf"):
        target = str(path).rsplit(".", 1)[0] + suffix
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=suffix[1:])
    plt.close(fig)


def tie_validation(table: pd.DataFrame):
    """RMSE of each TIE solver against Δz, one panel per noise level: the noise–resolution trade-off."""
    sweep = table[table["source"] == "sweep"]
    noises = sorted(sweep["noise"].unique())
    fig, axes = plt.subplots(1, len(noises), figsize=(4 * len(noises), 3.6), sharey=True, squeeze=False)
    for ax, noise in zip(axes[0], noises):
        sns.lineplot(data=sweep[sweep["noise"] == noise], x="dz_um", y="rmse_rad", hue="solver", style="solver",
                     markers=True, dashes=False, errorbar=("pi", 100), ax=ax)
        ax.set(xscale="log", yscale="log", xlabel="Δz (µm)", ylabel="RMSE vs exact phase (rad)",
               title=f"noise σ = {noise:g}")
        ax.set_xticks(sorted(sweep["dz_um"].unique()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        if ax is not axes[0][0]:
            ax.get_legend().remove()
    pipeline = table[table["source"] == "pipeline"]
    if len(pipeline):
        ax = axes[0][0]
        ax.axhline(pipeline["rmse_rad"].mean(), color="k", ls=":", lw=1)
        ax.annotate("pipeline labels (camera noise)", (0.02, pipeline["rmse_rad"].mean()),
                    xycoords=("axes fraction", "data"), va="bottom", fontsize=8)
    fig.suptitle("TIE ground truth: too small Δz amplifies noise, too large blurs")
    fig.tight_layout()
    return fig


def srqpi_benchmark(
    per_image: pd.DataFrame, examples: dict[str, np.ndarray], example_ssim: dict[str, float], reference: str
):
    """Top: one held-out field — LR input, references and every method's output on one colour scale
    (SSIM against `reference` in the titles). Bottom: SSIM per method over all held-out fields."""
    names = list(examples)
    fig = plt.figure(figsize=(2.6 * len(names), 7.4))
    grid = fig.add_gridspec(2, len(names), height_ratios=[1.25, 1])
    vmin, vmax = np.percentile(examples[names[1]], [0.5, 99.5])
    top = []
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[0, i])
        top.append(ax)
        is_input = name.startswith("input")
        im = ax.imshow(examples[name], cmap="gray" if is_input else "viridis",
                       vmin=None if is_input else vmin, vmax=None if is_input else vmax, interpolation="nearest")
        score = example_ssim.get(name)
        ax.set_title(name if score is None else f"{name}\nSSIM {score:.3f}", fontsize=9)
        ax.axis("off")
    fig.colorbar(im, ax=top, shrink=0.8, pad=0.01, label="phase (rad)")
    ax = fig.add_subplot(grid[1, :])
    order = per_image[per_image["reference"] == reference].groupby("method")["ssim"].mean().sort_values().index
    sns.boxplot(data=per_image, x="method", y="ssim", hue="reference", order=order, ax=ax, fliersize=2)
    sns.stripplot(data=per_image, x="method", y="ssim", hue="reference", order=order, dodge=True, ax=ax,
                  size=3, color="k", legend=False)
    ax.set(xlabel="", ylabel="SSIM on held-out fields of view")
    ax.legend(title="reference phase", loc="lower right")
    return fig


def training_curves(steps: pd.DataFrame, epochs: pd.DataFrame):
    """Training loss per step (log scale) and validation SSIM per epoch, one line per network."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    smooth = steps.assign(loss=steps.groupby("network")["loss"].transform(lambda s: s.rolling(20, 1).mean()))
    sns.lineplot(data=smooth, x="step", y="loss", hue="network", ax=a)
    a.set(yscale="log", ylabel="training loss (MSE, rad²; running mean)", xlabel="step")
    sns.lineplot(data=epochs, x="epoch", y="val_ssim", hue="network", marker="o", ax=b)
    b.set(ylabel="validation SSIM (patches)", xlabel="epoch")
    fig.tight_layout()
    return fig
