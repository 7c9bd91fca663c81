"""Result tables on disk: CSV (full precision), Markdown and HTML (3 decimals, notes below).

The numbers in them come from `qpi.scoring.scores`."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from qpi.core.atomic import atomic_path

CODE = re.compile(r"`([^`]+)`")  # Markdown code spans in notes
HTML_STYLE = (
    "body{font:13px sans-serif;margin:8px} table{border-collapse:collapse}"
    " th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top;max-width:24em}"
    " th{background:#f2f2f2} td.n{text-align:right;white-space:nowrap} ul{color:#444;max-width:60em}"
)


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


def ranked(table: pd.DataFrame, metric: str = "ssim") -> pd.DataFrame:
    return table.sort_values(metric, ascending=not metric.startswith(("ssim", "psnr")), kind="stable")
