"""ContransGAN's figures. Each takes tidy tables (and, for example panels, arrays) and returns a Matplotlib figure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpi.core.figures import plt, sns


def compare(images: dict[str, np.ndarray], scores: dict[str, float], row: int, per_image: pd.DataFrame):
    """Top: one test tile — the input, the TIE label, the exact phase and each model's phase (SSIM
    against the label in the titles), phases on the label's colour scale, the profile row marked.
    Bottom: the phase along that row, per-tile SSIM (TIE label) per model, and each seed's mean
    correlation with the label (below 0: that run learnt the inverted phase)."""
    names = list(images)
    width = max(2.1 * len(names), 10)
    fig = plt.figure(figsize=(width, 0.8 * width / len(names) + 3.2))
    top, bottom = fig.subfigures(2, 1, height_ratios=[0.8 * width / len(names) + 0.4, 2.8])
    axes = top.subplots(1, len(names))
    vmin, vmax = np.nanpercentile(images[names[1]], [0.5, 99.5])
    for ax, name in zip(axes, names):
        is_input = name == names[0]
        ax.imshow(images[name], cmap="gray" if is_input else "viridis", vmin=None if is_input else vmin,
                  vmax=None if is_input else vmax, interpolation="nearest")
        ax.axhline(row, color="w" if not is_input else "r", lw=0.8, ls="--")
        ax.set_title(name + (f"\nSSIM {scores[name]:.3f}" if name in scores else ""), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    left, right, signs = bottom.subplots(1, 3, gridspec_kw={"width_ratios": [2, 1, 0.8]})
    for name in names[1:]:
        profile = images[name][row] - images[name].mean()
        style = {"color": "k", "lw": 2} if name == names[1] else {"lw": 1.2, "ls": ":" if name == names[2] else "-"}
        left.plot(profile, label=name, **style)
    left.set(xlabel="pixel along the dashed row", ylabel="phase − mean (rad)")
    left.legend(fontsize=7)
    ssim = per_image[per_image["reference"] == "tie"]
    sns.boxplot(data=ssim, x="model", y="ssim", ax=right, fliersize=2)
    right.set(xlabel="", ylabel="SSIM vs TIE label (test tiles)")
    runs = ssim.groupby(["model", "seed"], sort=False)["pearson"].mean().reset_index()
    sns.stripplot(data=runs, x="model", y="pearson", ax=signs, size=6, jitter=0.15)
    signs.axhline(0, color="k", lw=0.8)
    signs.set(xlabel="", ylabel="r with TIE label (per seed)", ylim=(-1, 1))
    bottom.subplots_adjust(wspace=0.35, bottom=0.2)
    return fig


def cross_na(table: pd.DataFrame, objectives: list[str]):
    """Heat maps of mean SSIM and PSNR (over tiles and seeds): rows the objective the network was
    trained on, columns the objective of the test inputs; one row of panels per specimen."""
    specimens = list(table["specimen"].unique())
    fig, axes = plt.subplots(len(specimens), 2, figsize=(9, 3.6 * len(specimens)), squeeze=False)
    for r, specimen in enumerate(specimens):
        sub = table[table["specimen"] == specimen]
        for ax, metric, fmt in zip(axes[r], ("ssim", "psnr"), (".3f", ".1f")):
            grid = sub.pivot_table(index="train_objective", columns="test_objective", values=metric)  # seeds' mean
            grid = grid.reindex(index=[o for o in objectives if o in grid.index], columns=objectives)
            sns.heatmap(grid, annot=True, fmt=fmt, cmap="viridis", ax=ax, cbar_kws={"label": metric.upper()})
            ax.set(xlabel="test input objective", ylabel="trained on", title=f"{specimen}: {metric.upper()} vs TIE label")
    fig.tight_layout()
    return fig


def psm_heights(heights: pd.DataFrame, true_um: float, summary: dict):
    """Histogram of microsphere heights from the networks' phase (stacked by input objective), with
    the TIE label's and the exact phase's heights as outlines, the true diameter and the median."""
    fig, ax = plt.subplots(figsize=(7, 4))
    nets = heights[heights["source"] == "network"]
    top = max(heights["height_um"].max(), true_um) * 1.1 if len(heights) else 2 * true_um
    bins = np.linspace(0, top, 40)
    if len(nets):
        groups = [(o, g["height_um"]) for o, g in nets.groupby("objective", sort=False)]
        ax.hist([g for _, g in groups], bins=bins, stacked=True, label=[f"network, {o} input" for o, _ in groups])
    for source, colour in (("tie", "k"), ("exact", "tab:red")):
        ref = heights.loc[heights["source"] == source, "height_um"]
        if len(ref):
            ax.hist(ref, bins=bins, histtype="step", color=colour, lw=1.5, label=f"{source} phase ({len(ref)})")
    ax.axvline(true_um, color="tab:red", ls="--", lw=1)
    ax.axvline(summary["median_um"], color="k", ls=":", lw=1)
    ax.set(xlabel="sphere height from peak phase (µm)", ylabel="spheres",
           title=f"network: median {summary['median_um']:.2f} µm, error {100 * summary['relative_error']:.0f} % "
                 f"vs {true_um:g} µm ({summary['count']} spheres)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
