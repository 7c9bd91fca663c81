"""Tidy result tables: aggregation (mean ± std) and CSV, Markdown and HTML output."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_path

METRICS = ("ssim", "psnr", "nrmse", "mae", "lpips", "seconds_per_mpx")
CODE = re.compile(r"`([^`]+)`")  # Markdown code spans in notes
HTML_STYLE = (
    "body{font:13px sans-serif;margin:8px} table{border-collapse:collapse}"
    " th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top;max-width:24em}"
    " th{background:#f2f2f2} td.n{text-align:right;white-space:nowrap} ul{color:#444;max-width:60em}"
)


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


def write_table(df: pd.DataFrame, csv_path, md_path=None, notes: list[str] = (), html_path=None) -> None:
    """CSV (full precision) and optional Markdown and HTML renderings (3 decimals) with notes below."""
    with atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    if md_path:
        write_markdown(df.to_markdown(index=False, floatfmt=".3f"), md_path, notes)
    if html_path:
        write_html(df, html_path, [*notes, f"Full precision: {Path(csv_path).name}."])


def write_markdown(text: str, path, notes: list[str] = ()) -> None:
    """A Markdown table `text` with `notes` as a list below it."""
    if notes:
        text += "\n\n" + "\n".join(f"- {n}" for n in notes)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")


def write_html(df: pd.DataFrame, path, notes: list[str] = ()) -> None:
    """A standalone HTML page of the table (numbers to 3 decimals and right-aligned, missing values
    as –, notes below): the Snakemake report shows HTML inline, where a CSV is only a download."""

    def cell(value) -> str:
        if isinstance(value, float | np.floating):
            return "<td class='n'>–</td>" if np.isnan(value) else f"<td class='n'>{value:.3f}</td>"
        if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            return f"<td class='n'>{value}</td>"
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>\n" for row in df.itertuples(index=False))
    items = "".join("<li>" + CODE.sub(r"<code>\1</code>", html.escape(note)) + "</li>" for note in notes)
    page = (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(Path(path).stem)}</title>"
            f"<style>{HTML_STYLE}</style></head>\n<body>\n<table>\n<tr>{head}</tr>\n{rows}</table>\n"
            f"<ul>{items}</ul>\n</body></html>\n")
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")


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
