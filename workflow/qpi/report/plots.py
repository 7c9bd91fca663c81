"""Figures of more than one family: the TIE accuracy study, training curves, the budget curves and the
cross-condition heat maps. Each takes tidy tables and returns a Matplotlib figure; each family's own
figures are in its package (`qpi.families.<family>.figures`)."""

from __future__ import annotations

import matplotlib.ticker
import numpy as np
import pandas as pd

from qpi.core.figures import plt, sns


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


def fidelity_budget(table: pd.DataFrame, paper: dict[tuple[str, str], float] | None = None):
    """Test SSIM against training budget (× the demo's epochs), one panel per family: each model's
    mean ± std over seeds (line and band) and every seed (dots); the paper's SSIM as a dotted line
    where it gives one. Rows: qpi.report.budget.BUDGET_COLUMNS."""
    families = list(dict.fromkeys(table["family"]))
    fig, axes = plt.subplots(1, len(families), figsize=(3.6 * len(families), 3.6), squeeze=False)
    for ax, family in zip(axes[0], families):
        rows = table[table["family"] == family]
        sns.lineplot(data=rows, x="multiplier", y="ssim", hue="model", style="model", markers=True, dashes=False,
                     errorbar="sd", ax=ax)
        sns.scatterplot(data=rows, x="multiplier", y="ssim", hue="model", s=12, alpha=0.5, legend=False, ax=ax)
        for model in dict.fromkeys(rows["model"]):
            if (paper or {}).get((family, model)) is not None:
                ax.axhline(paper[(family, model)], ls=":", lw=1, color="0.4")
                ax.annotate(f"paper {model} {paper[(family, model)]:.3f}", (0.02, paper[(family, model)]),
                            xycoords=("axes fraction", "data"), fontsize=7, va="bottom")
        ax.set_xscale("log")
        ax.set_xticks(sorted(rows["multiplier"].unique()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        seeds = rows.groupby(["model", "multiplier"])["seed"].nunique().min()
        ax.set(title=f"{family} ({seeds} seeds)", xlabel="training budget (× the demo's epochs)", ylabel="test SSIM")
        ax.legend(fontsize=8, title=None)
    fig.suptitle("Fidelity against training budget: proposed method and strongest baseline")
    fig.tight_layout()
    return fig


def cross_condition(grids: dict[tuple[str, str, str], pd.DataFrame]):
    """One SSIM heat map per (family, model): rows the training condition, columns the test condition
    (the diagonal is in-distribution, off-diagonal cells measure generalisation)."""
    n = len(grids)
    cols = min(n, 3)
    rows = -(-n // cols)
    # panels sized for the largest grid (the demo's: 9 training × 7 test conditions) so cells stay legible
    most_rows, most_cols = (max(g.shape[i] for g in grids.values()) for i in (0, 1))
    width, height = max(4.6, 2.4 + 0.55 * most_cols), max(3.8, 1.6 + 0.36 * most_rows)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax, ((family, model, metric), grid) in zip(axes.flat, grids.items()):
        sns.heatmap(grid, annot=True, fmt=".2f", annot_kws={"fontsize": 8}, cmap="viridis",
                    vmin=min(0.0, np.nanmin(grid.to_numpy())), vmax=1, ax=ax,
                    cbar_kws={"label": metric.upper().replace("_", " ")})
        ax.set(xlabel="test condition", ylabel="trained on", title=f"{family}: {model}")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.suptitle("Cross-condition generalisation (SSIM, mean over seeds)")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # else the title meets the top row's
    return fig


def trust(families_maps: dict[str, dict], own: dict[str, str]):
    """Per family (a row): |error| beside σ and the consistency residual for one held-out image of its own
    condition and one of another, and a reliability curve: the RMS error of pixels binned by σ."""
    names = list(families_maps)
    fig, axes = plt.subplots(len(names), 7, figsize=(17, 2.5 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        maps = families_maps[name]
        keys = sorted({k.rsplit("/", 1)[0] for k in maps})
        mine = {c.strip() for c in own[name].split(",")}
        picked = [next((k for k in keys if k.split("/")[0] in mine), keys[0]),
                  next((k for k in keys if k.split("/")[0] not in mine), keys[-1])]
        for ax_group, key in zip((row[:3], row[3:6]), picked):
            error, sigma = maps[f"{key}/error"], maps[f"{key}/sigma"]
            top = np.nanpercentile(error, 99) or 1.0
            for ax, (title, image, vmax) in zip(ax_group, [("|error| (rad)", error, top), ("σ (rad)", sigma, top / 2),
                                                          ("consistency residual", maps.get(f"{key}/residual"), None)]):
                ax.set_axis_off()
                if image is None:
                    ax.text(0.5, 0.5, "no forward model", ha="center", va="center", transform=ax.transAxes)
                    continue
                shown = ax.imshow(image, cmap="magma", vmin=0, vmax=vmax)
                fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02)
                ax.set_title(f"{name} {key.split('/')[0]}: {title}", fontsize=8)
        ax = row[6]
        sigma = np.concatenate([maps[k].ravel() for k in maps if k.endswith("/sigma")])
        error = np.concatenate([maps[k].ravel() for k in maps if k.endswith("/error")])
        keep = np.isfinite(sigma) & np.isfinite(error)
        edges = np.unique(np.percentile(sigma[keep], np.linspace(0, 100, 11)))
        which = np.clip(np.digitize(sigma[keep], edges[1:-1]), 0, len(edges) - 2)
        centres = [sigma[keep][which == b].mean() for b in range(len(edges) - 1)]
        rms = [np.sqrt(np.mean(error[keep][which == b] ** 2)) for b in range(len(edges) - 1)]
        ax.plot(centres, rms, "o-", label="RMS error")
        ax.plot(centres, centres, "k:", label="error = σ")
        ax.set(xlabel="σ (rad), deciles", ylabel="RMS |error| (rad)", title=f"{name}: reliability")
        ax.legend(fontsize=7)
    fig.suptitle("Where the trust signs point: error against the exact phase, uncertainty, consistency residual")
    fig.tight_layout()
    return fig
