"""Across families: our headline metrics beside the papers' (summary) and one cross-condition table.

Every function takes the families' own tables (tidy CSVs read into DataFrames) and returns a new one;
no I/O. Each family says which tables hold its headline rows and how to read them (`qpi.families`);
the papers' numbers are in `qpi.core.papers`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpi import families
from qpi.core.papers import PAPER
from qpi.scoring.scores import CROSS_COLUMNS

SUMMARY_COLUMNS = ["family", "method", "setting", "seeds", "ssim", "ssim_seed_std", "paper_ssim", "psnr", "paper_psnr",
                   "nrmse", "mae", "paper_mae", "conditions_differ", "difference", "paper_note"]


def headlines(tables: dict[str, pd.DataFrame], params: dict[str, dict]) -> list[pd.DataFrame]:
    """Each family's headline rows, for the families `params` names ({family: its `summary_params`}),
    in registry order, from the tables they read (`Family.summary_tables`, by name)."""
    return [family.headlines({t: tables[t] for t in family.summary_tables}, **params[family.name])
            for family in families.every() if family.name in params]


def summary_table(ours: list[pd.DataFrame], scale: str, papers: dict[str, dict] | None = None) -> pd.DataFrame:
    """Our headline rows (`headlines`) with the papers' numbers beside them (`qpi.core.papers.PAPER`,
    with `papers`, {family: {method: numbers}}, from each `Family.paper` for the configured setting,
    over them). `conditions_differ` is true unless the run is at the papers' scale and the study is of
    the same kind; `difference` says how."""
    table = pd.concat(ours, ignore_index=True)
    records = []
    for row in table.to_dict("records"):
        paper = {**PAPER.get((row["family"], row["method"]), {}),
                 **(papers or {}).get(row["family"], {}).get(row["method"], {})}
        reasons = [] if scale == "paper" else [f"{scale} scale"]
        reasons += [paper["difference"]] if paper.get("difference") else []
        records.append({**row, "paper_ssim": paper.get("ssim", np.nan), "paper_psnr": paper.get("psnr", np.nan),
                        "paper_mae": paper.get("mae", np.nan), "conditions_differ": bool(reasons),
                        "difference": "; ".join(reasons), "paper_note": paper.get("note", "")})
    return pd.DataFrame(records).reindex(columns=SUMMARY_COLUMNS)


# --- the cross-condition matrix -------------------------------------------------------------------


def cross_condition(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The families' tidy cross tables in one, with a clear error when one lacks a column."""
    for table in tables:
        missing = [c for c in CROSS_COLUMNS if c not in table]
        if missing:
            families = sorted(set(table.get("family", ["?"])))
            raise ValueError(f"cross-condition table of {families} lacks columns {missing}; "
                             f"it needs {CROSS_COLUMNS}")
    out = pd.concat([t[CROSS_COLUMNS] for t in tables], ignore_index=True)
    out["seed"] = out["seed"].astype(int)
    return out.astype({"train_condition": str, "test_condition": str})


def heatmap_metric(metrics) -> str:
    """The SSIM a family's heat map shows: plain `ssim`, else the phase SSIM (a family scoring intensity too)."""
    names = set(metrics)
    for name in ("ssim", "ssim_phase"):
        if name in names:
            return name
    raise ValueError(f"no SSIM among the metrics {sorted(names)}")


def cross_grids(table: pd.DataFrame) -> dict[tuple[str, str, str], pd.DataFrame]:
    """Per (family, model): its SSIM, mean over seeds, as a train condition × test condition grid
    (conditions in table order), keyed by (family, model, metric)."""
    grids = {}
    for (family, model), rows in table.groupby(["family", "model"], sort=False):
        metric = heatmap_metric(table.loc[table["family"] == family, "metric"])
        rows = rows[rows["metric"] == metric]
        grid = rows.pivot_table(index="train_condition", columns="test_condition", values="value", aggfunc="mean")
        order = lambda values: list(dict.fromkeys(values))  # noqa: E731
        grids[(family, model, metric)] = grid.reindex(index=order(rows["train_condition"]),
                                                      columns=order(rows["test_condition"]))
    return grids
