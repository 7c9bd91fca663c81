"""DL-SRQPI's figures. Each takes tidy tables (and, for example panels, arrays) and returns a Matplotlib figure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpi.core.figures import plt, sns


def benchmark(
    per_image: pd.DataFrame, examples: dict[str, np.ndarray], example_ssim: dict[str, float], reference: str
):
    """Top: one held-out field — LR input, references and every method's output on one colour scale
    (SSIM against `reference` in the titles). Bottom: SSIM per method over all held-out fields."""
    names = list(examples)
    fig = plt.figure(figsize=(2.6 * len(names), 7.4))
    grid = fig.add_gridspec(2, len(names), height_ratios=[1.25, 1])
    vmin, vmax = np.nanpercentile(examples[names[1]], [0.5, 99.5])
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


def sweep(per_image: pd.DataFrame, axis_label: str):
    """Left: mean SSIM against the test condition's value, one line per training condition (its own
    value ringed; a dashed black line for a network trained on all). Right: per-image SSIM per test
    value of the adaptive network, or else of the network trained at the largest value."""
    labels = [f"{v:g}" if np.isfinite(v) else "all (adaptive)" for v in per_image["train_value"]]
    rows = per_image.assign(trained_on=labels)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.2, 1]})
    means = rows.groupby(["trained_on", "train_value", "test_value"], dropna=False, sort=False)["ssim"].mean()
    means = means.reset_index()
    for trained_on, line in means.groupby("trained_on", sort=False):
        line = line.sort_values("test_value")
        adaptive = line["train_value"].isna().all()
        drawn = a.plot(line["test_value"], line["ssim"], "k--o" if adaptive else "-o", ms=4, label=trained_on)[0]
        own = line[np.isclose(line["test_value"], line["train_value"])]
        a.plot(own["test_value"], own["ssim"], "o", ms=11, mfc="none", color=drawn.get_color())
    a.set(xlabel=f"test {axis_label}", ylabel="mean SSIM on held-out fields",
          xticks=sorted(means["test_value"].unique()))
    a.legend(title=f"trained on {axis_label}", fontsize=8)
    adaptive = rows[rows["train_value"].isna()]
    boxed = adaptive if len(adaptive) else rows[rows["train_value"] == rows["train_value"].max()]
    boxed = boxed.assign(test=[f"{v:g}" for v in boxed["test_value"]])
    order = [f"{v:g}" for v in sorted(boxed["test_value"].unique())]
    sns.boxplot(data=boxed, x="test", y="ssim", order=order, ax=b, color="tab:blue", fliersize=0)
    sns.stripplot(data=boxed, x="test", y="ssim", order=order, ax=b, color="k", size=3)
    b.set(xlabel=f"test {axis_label}", ylabel="SSIM per held-out field",
          title=f"per field, network trained on {axis_label.split(' (')[0]}: {boxed['trained_on'].iloc[0]}")
    fig.tight_layout()
    return fig


def microlens(maps: dict[str, np.ndarray], table: pd.DataFrame, pixel_um: float, pitch_um: float):
    """Top: LR input, true and DL-SRQPI heights (one scale), the network's height error. Bottom: a
    line profile through the lens apexes nearest the centre, every method against the truth."""
    from qpi.families.srqpi import lens_peaks, profile_row

    truth = maps["truth"]
    methods = [m for m in maps if m not in ("input", "truth")]
    row = profile_row(lens_peaks(truth, pitch_um / pixel_um), truth.shape)
    scores = table.set_index("method")
    fig = plt.figure(figsize=(14, 7.5))
    grid = fig.add_gridspec(2, 4, height_ratios=[1, 0.8])
    extent = [0, truth.shape[1] * pixel_um, truth.shape[0] * pixel_um, 0]
    net = methods[0]
    error = maps[net] - truth
    limit = np.percentile(np.abs(error), 99.5)
    panels = [("input (LR intensity)", maps["input"], "gray", None, None),
              ("true height (µm)", truth, "viridis", truth.min(), truth.max()),
              (f"{net} height (µm)", maps[net], "viridis", truth.min(), truth.max()),
              (f"{net} − truth (µm)\nRMSE {scores.loc[net, 'height_rmse_um']:.3f} µm", error, "RdBu_r", -limit,
               limit)]
    for i, (title, image, cmap, lo, hi) in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        im = ax.imshow(image, cmap=cmap, vmin=lo, vmax=hi, extent=extent, interpolation="nearest")
        if i:
            ax.axhline((row + 0.5) * pixel_um, color="w" if i < 3 else "k", lw=0.8, ls=":")
            fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set(title=title, xlabel="x (µm)")
        ax.title.set_fontsize(9)
        ax.grid(False)
    ax = fig.add_subplot(grid[1, :])
    x = (np.arange(truth.shape[1]) + 0.5) * pixel_um
    ax.plot(x, truth[row], "k", lw=2.5, label="truth")
    for m in methods:
        ax.plot(x, maps[m][row], lw=1.2, label=f"{m}: lens height error {scores.loc[m, 'peak_error_um']:+.3f} µm")
    ax.set(xlabel="x (µm)", ylabel="height (µm)", xlim=(0, x[-1] + pixel_um / 2),
           title=f"line profile through the apexes (true lens height {scores['peak_height_true_um'].iloc[0]:.2f} µm, "
                 f"{int(scores['lenses'].iloc[0])} whole lenses)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
