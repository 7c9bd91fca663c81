"""DespeckleNet's figures. Each takes tidy tables (and, for example panels, arrays) and returns a Matplotlib figure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpi.core.figures import plt, sns
from qpi.families.despeckle import phase_truth


def correlation(per_image: pd.DataFrame):
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


def examples(speckle: np.ndarray, truth: dict[str, np.ndarray], outputs: dict[str, dict[str, np.ndarray]],
             diffuser: str, ssim: dict[tuple[str, str], float], index: int = 0):
    """Rows intensity and phase of test specimen `index`: the speckle input (through `diffuser`, its
    description), each model's output and the truths (in-focus intensity; TIE label and the exact or
    measured phase where there is one), on the truth's colour scale; titles give each output's SSIM
    from the score rows, `ssim[(model, quantity)]` (phase: vs the best phase reference)."""
    best = phase_truth(truth)
    names = list(outputs)
    columns = len(names) + 2 + ("tie" in truth and best != "tie")  # input, models, truths (TIE label and best)
    fig, axes = plt.subplots(2, columns, figsize=(2.2 * columns, 5.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(speckle[index, 0], cmap="gray", interpolation="nearest")
    axes[0, 0].set_title(f"speckle input\n{diffuser}", fontsize=9)
    rows = (("intensity", "intensity", "gray"), ("phase", best, "viridis"))
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
            ("TIE label", truth["tie"][index, 0] - truth["tie"][index, 0].mean())] * ("tie" in truth and best != "tie") \
            + [("TIE label" if best == "tie" else best, truth_image)]
        for c, (label, image) in enumerate(refs, start=len(names) + 1):
            axes[r, c].imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            axes[r, c].set_title(f"{label} {quantity}", fontsize=9)
    fig.tight_layout()
    return fig


def diversity(per_image: pd.DataFrame):
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
