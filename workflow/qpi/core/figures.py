"""Figures without a screen: Matplotlib's Agg backend, the house theme, and a figure saved atomically
as PNG and a PDF twin. Every figure module takes `plt` and `sns` from here, so the backend and the
theme are set before the first figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from qpi.core.atomic import atomic_path  # noqa: E402

sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)
__all__ = ["plt", "save", "sns"]


def save(fig, path, dpi: int = 150) -> None:
    """PNG and a PDF twin, written atomically."""
    for suffix in (".png", ".pdf"):
        target = str(path).rsplit(".", 1)[0] + suffix
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=suffix[1:])
    plt.close(fig)
