"""Figures. Each takes tidy tables (and, for example panels, arrays) and returns a Matplotlib figure."""

from __future__ import annotations

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from qpi.core.atomic import atomic_path  # noqa: E402

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


def mcnn_convergence(table: pd.DataFrame):
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


def mcnn_planes(table: pd.DataFrame, examples: dict[str, dict[str, np.ndarray]]):
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


def despeckle_correlation(per_image: pd.DataFrame):
    """Mean SSIM (± std over test images) of intensity and of phase (against the TIE label and the
    exact phase) against the diffuser's correlation length, one line per model."""
    ssim = per_image[per_image["metric"] == "ssim"].assign(
        panel=lambda d: np.where(d["quantity"] == "intensity", "intensity",
                                 "phase vs " + np.where(d["reference"] == "tie", "TIE label", "exact phase")))
    panels = ["intensity", "phase vs TIE label", "phase vs exact phase"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharex=True)
    for ax, panel in zip(axes, panels):
        sns.lineplot(data=ssim[ssim["panel"] == panel], x="correlation_um", y="value", hue="model", style="model",
                     markers=True, dashes=False, errorbar="sd", ax=ax, legend=ax is axes[-1])
        ax.set(xlabel="diffuser correlation length (µm)", ylabel="SSIM (unseen diffusers)", title=panel)
    axes[-1].legend(title="model", fontsize=8)
    fig.tight_layout()
    return fig


def despeckle_examples(speckle: np.ndarray, truth: dict[str, np.ndarray], outputs: dict[str, dict[str, np.ndarray]],
                       correlation_um: float, ssim: dict[tuple[str, str], float], index: int = 0):
    """Rows intensity and phase of test specimen `index`: the speckle input, each model's output and
    the truths (in-focus intensity; TIE label and exact phase), on the truth's colour scale; titles
    give each output's SSIM from the score rows, `ssim[(model, quantity)]` (phase: vs the exact phase)."""
    names = list(outputs)
    fig, axes = plt.subplots(2, len(names) + 3, figsize=(2.2 * (len(names) + 3), 5.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(speckle[index, 0], cmap="gray", interpolation="nearest")
    axes[0, 0].set_title(f"speckle input\nℓ = {correlation_um:g} µm", fontsize=9)
    rows = (("intensity", "intensity", "gray"), ("phase", "exact", "viridis"))
    for r, (quantity, reference, cmap) in enumerate(rows):
        truth_image = truth[reference][index, 0]
        if quantity == "phase":
            truth_image = truth_image - truth_image.mean()
        vmin, vmax = np.nanpercentile(truth_image, [0.5, 99.5])
        for c, name in enumerate(names, start=1):
            image = outputs[name][quantity][index]
            image = image - image.mean() if quantity == "phase" else image
            axes[r, c].imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            axes[r, c].set_title(f"{name} {quantity}\nSSIM {ssim[(name, quantity)]:.3f}", fontsize=9)
        refs = [("truth", truth_image)] if quantity == "intensity" else [
            ("TIE label", truth["tie"][index, 0] - truth["tie"][index, 0].mean()), ("exact", truth_image)]
        for c, (label, image) in enumerate(refs, start=len(names) + 1):
            axes[r, c].imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            axes[r, c].set_title(f"{label} {quantity}", fontsize=9)
    fig.tight_layout()
    return fig


def despeckle_diversity(per_image: pd.DataFrame):
    """Per-image SSIM of intensity and phase (exact), and LPIPS where it was computed, against the
    number of training acquisition sets (equal patch count): boxes per model."""
    panels = [("ssim", "intensity", "intensity"), ("ssim", "phase", "exact")]
    if per_image.loc[per_image["metric"] == "lpips", "value"].notna().any():
        panels += [("lpips", "intensity", "intensity"), ("lpips", "phase", "exact")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.8), squeeze=False)
    for ax, (metric, quantity, reference) in zip(axes[0], panels):
        rows = per_image[(per_image["metric"] == metric) & (per_image["quantity"] == quantity)
                         & (per_image["reference"] == reference)]
        sns.boxplot(data=rows, x="train_sets", y="value", hue="model", ax=ax, fliersize=2)
        target = quantity if quantity == "intensity" else f"{quantity} (vs {reference})"
        ax.set(xlabel="training acquisition sets (equal patch count)", ylabel=f"{metric.upper()} of {target}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes[0]:
        ax.get_legend().remove()  # one legend for the figure, clear of the boxes
    fig.suptitle("Data diversity: more diffusers and lasers at the same number of training images")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.legend(handles, labels, title="model", loc="lower center", ncol=len(labels), frameon=False)
    return fig


def contrans_compare(images: dict[str, np.ndarray], scores: dict[str, float], row: int, per_image: pd.DataFrame):
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


def contrans_cross_na(table: pd.DataFrame, objectives: list[str]):
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


def cross_condition(grids: dict[tuple[str, str, str], pd.DataFrame]):
    """One SSIM heat map per (family, model): rows the training condition, columns the test condition
    (the diagonal is in-distribution, off-diagonal cells measure generalisation)."""
    n = len(grids)
    cols = min(n, 3)
    rows = -(-n // cols)
    # panels sized for the largest grid (DespeckleNet: 9 training × 7 test conditions) so cells stay legible
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


def srqpi_sweep(per_image: pd.DataFrame, axis_label: str):
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


def srqpi_microlens(maps: dict[str, np.ndarray], table: pd.DataFrame, pixel_um: float, pitch_um: float):
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
