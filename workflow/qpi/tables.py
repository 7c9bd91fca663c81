"""Tidy result tables: aggregation (mean ± std) and CSV + Markdown output."""

from __future__ import annotations

import pandas as pd

from .atomic import atomic_path

METRICS = ("ssim", "psnr", "nrmse", "mae", "lpips", "seconds_per_mpx")


def summarise(per_image: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean and std of every metric present, per group, with the number of images; with a `seed`
    column not among `by`, also the replicates' spread (`seed_spread`)."""
    metrics = [m for m in METRICS if m in per_image]
    grouped = per_image.groupby(by, sort=False)[metrics]
    table = grouped.mean().join(grouped.std(ddof=0).add_suffix("_std")).join(grouped.size().rename("n_images"))
    if "seed" in per_image and "seed" not in by:
        table = table.join(seed_spread(per_image, by, metrics).set_index(by))
    return table.reset_index()


def seed_spread(rows: pd.DataFrame, by: list[str], metrics: list[str]) -> pd.DataFrame:
    """Replicates per group of `by`: the number of seeds and, per metric, the std over the seeds'
    means (`<metric>_seed_std`; 0 with one seed)."""
    per_seed = rows.groupby([*by, "seed"], sort=False)[metrics].mean().groupby(level=by, sort=False)
    out = per_seed.std(ddof=0).add_suffix("_seed_std")
    out.insert(0, "seeds", per_seed.size())
    return out.reset_index()


def write_table(df: pd.DataFrame, csv_path, md_path=None, notes: list[str] = ()) -> None:
    """CSV (full precision) and an optional Markdown rendering (3 decimals) with notes below."""
    with atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    if md_path:
        text = df.to_markdown(index=False, floatfmt=".3f")
        if notes:
            text += "\n\n" + "\n".join(f"- {n}" for n in notes)
        with atomic_path(md_path) as tmp:
            tmp.write_text(text + "\n")


def lpips_note(per_image: pd.DataFrame) -> list[str]:
    """A note when LPIPS could not be computed (AlexNet trunk weights absent)."""
    if "lpips" not in per_image or per_image["lpips"].isna().all():
        from .metrics import lpips_available

        return [lpips_available()[1] or "LPIPS missing"]
    return []


def ranked(table: pd.DataFrame, metric: str = "ssim") -> pd.DataFrame:
    return table.sort_values(metric, ascending=not metric.startswith(("ssim", "psnr")), kind="stable")


def phase_reference(per_image) -> str:
    """The phase reference scores are read against: the exact phase where the rows have it
    (simulated fields), else the TIE phase."""
    return "exact" if "exact" in set(per_image["reference"]) else "tie"
