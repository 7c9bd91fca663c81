"""MCNN's figures. Each takes tidy tables (and, for example panels, arrays) and returns a Matplotlib figure."""

from __future__ import annotations

import matplotlib.ticker
import numpy as np
import pandas as pd

from qpi.core.figures import plt, sns


def convergence(table: pd.DataFrame):
    """Validation MAE and SSIM against optimiser step per model: mean ± std over seeds (band) and
    every seed (thin lines)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, column, label in zip(axes, ("val_mae", "val_ssim"), ("validation MAE (rad)", "validation SSIM")):
        sns.lineplot(data=table, x="step", y=column, hue="model", errorbar="sd", ax=ax)
        sns.lineplot(data=table, x="step", y=column, hue="model", units="seed", estimator=None, lw=0.6,
                     alpha=0.35, legend=False, ax=ax)
        ax.set(xlabel="iteration (optimiser step)", ylabel=label)
    axes[0].set_yscale("log")
    seeds = table.groupby("model")["seed"].nunique().max()
    fig.suptitle(f"MCNN against its one-head trunk (U-Net): validation curves (mean ± std over {seeds} seeds)")
    fig.tight_layout()
    return fig


def planes(table: pd.DataFrame, examples: dict[str, dict[str, np.ndarray]]):
    """Top: one test specimen per test set (rows) — input plane, true phase, and each method's phase
    from each plane count, on the true phase's colour scale. Bottom: phase SSIM, phase MAE and
    amplitude MAE against the number of planes (mean ± std over test specimens); colour = test set,
    solid = network, dashed = TIE."""
    rows, cols = len(examples), max(len(v) for v in examples.values())
    fig = plt.figure(figsize=(max(1.6 * cols, 10), 1.6 * rows + 3.6))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.6 * rows, 3.4])
    axes = top.subplots(rows, cols, squeeze=False)
    for r, (test_set, images) in enumerate(examples.items()):
        names = list(images)
        vmin, vmax = np.nanpercentile(images[names[1]], [0.5, 99.5])
        for ax, name in zip(axes[r], names):
            is_input = name == names[0]
            ax.imshow(images[name], cmap="gray" if is_input else "viridis", vmin=None if is_input else vmin,
                      vmax=None if is_input else vmax, interpolation="nearest")
            if r == 0:
                ax.set_title(name, fontsize=8)
        axes[r][0].set_ylabel(test_set, fontsize=9)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
    panels = [("phase", "ssim", "phase SSIM"), ("phase", "mae", "phase MAE (rad)"),
              ("amplitude", "mae", "amplitude MAE")]
    colours = dict(zip(table["test_set"].unique(), sns.color_palette()))
    for ax, (quantity, metric, label) in zip(bottom.subplots(1, len(panels)), panels):
        sub = table[(table["quantity"] == quantity) & (table["metric"] == metric)]
        for (method, test_set), g in sub.groupby(["method", "test_set"], sort=False):
            g = g.sort_values("planes")
            tie = method == "tie"
            ax.errorbar(g["planes"], g["mean"], yerr=g["std"], color=colours[test_set], marker="s" if tie else "o",
                        ls="--" if tie else "-", capsize=2, label=f"{method}, {test_set}")
        ax.set(xscale="log", xlabel="input planes", ylabel=label)
        ax.set_xticks(sorted(table["planes"].unique()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    bottom.subplots_adjust(wspace=0.35, bottom=0.18)
    return fig
