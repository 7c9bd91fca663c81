"""Across families: our headline metrics beside the papers' (summary) and one cross-condition table.

Every function takes the families' own tables (tidy CSVs read into DataFrames) and returns a new one;
no I/O. The papers' numbers are in `qpi.core.papers`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpi.core.papers import PAPER, PAPER_TABLE1
from qpi.scoring.scores import CROSS_COLUMNS, phase_reference, PIXEL_METRICS, seed_spread

SUMMARY_COLUMNS = ["family", "method", "setting", "seeds", "ssim", "ssim_seed_std", "paper_ssim", "psnr", "paper_psnr",
                   "nrmse", "mae", "paper_mae", "conditions_differ", "difference", "paper_note"]


def _mean_metrics(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    return rows.groupby(by, sort=False)[[m for m in PIXEL_METRICS if m in rows]].mean().reset_index()


def _with_replicates(out: pd.DataFrame, rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """`out` (one row per `by`) with the seed count and the std over seeds of the mean SSIM of `rows`
    (which have `seed` and `ssim` columns); rows without a seed (classical baselines) count as seed 0."""
    seeds = rows["seed"].fillna(0) if "seed" in rows else 0
    spread = seed_spread(rows.assign(seed=seeds), [by], ["ssim"])
    return out.merge(spread, on=by, how="left")


def srqpi_headlines(benchmark: pd.DataFrame) -> pd.DataFrame:
    """Per method, mean over conditions, against the exact phase where the table has it (the paper's
    simulated study), else against the TIE label."""
    reference = phase_reference(benchmark)
    rows = benchmark[benchmark["reference"] == reference]
    out = _mean_metrics(rows, "method")
    if "seeds" in rows:  # the benchmark's own replicate spread (qpi.scoring.scores.summarise), mean over conditions
        out = out.merge(rows.groupby("method", sort=False)[["seeds", "ssim_seed_std"]]
                        .agg({"seeds": "max", "ssim_seed_std": "mean"}).reset_index(), on="method")
    conditions = ", ".join(dict.fromkeys(rows["condition"].astype(str)))
    return out.assign(family="srqpi", setting=f"held-out fields, {conditions}, vs {reference} phase")


def mcnn_headlines(transfer: pd.DataFrame, test_set: str = "natural") -> pd.DataFrame:
    """Per model, mean over seeds, on the held-out set like its training data (the paper's setting)."""
    rows = transfer[(transfer["test_condition"] == test_set) & transfer["metric"].isin(PIXEL_METRICS)]
    wide = rows.pivot_table(index=["model", "seed"], columns="metric", values="value", aggfunc="mean").reset_index()
    out = _with_replicates(_mean_metrics(wide, "model"), wide, "model").rename(columns={"model": "method"})
    return out.assign(family="mcnn", setting=f"phase, held-out {test_set} images")


def despeckle_headlines(correlation: pd.DataFrame, per_image: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model, phase SSIM and NRMSE (TIE label) averaged over the correlation-length levels; with
    the correlation sweep's `per_image` scores, also the spread over seeds."""
    rows = correlation.rename(columns={"ssim_phase": "ssim", "nrmse_phase": "nrmse"})
    out = _mean_metrics(rows, "model")
    if per_image is not None:
        phase = per_image[(per_image["quantity"] == "phase") & (per_image["reference"] == "tie")
                          & (per_image["metric"] == "ssim")]
        out = _with_replicates(out, phase.rename(columns={"value": "ssim"}), "model")
    out = out.rename(columns={"model": "method"})
    levels = rows["level"].nunique()
    return out.assign(family="despeckle", setting=f"phase vs TIE label, unseen diffusers, mean of {levels} levels")


def contrans_headlines(per_image: pd.DataFrame, specimen: str, objective: str) -> pd.DataFrame:
    """Per generator, trained and tested on `objective` inputs of `specimen`, against the TIE label."""
    rows = per_image[(per_image["specimen"] == specimen) & (per_image["reference"] == "tie")
                     & (per_image["train_objective"] == objective) & (per_image["test_objective"] == objective)]
    out = _with_replicates(_mean_metrics(rows, "model"), rows, "model").rename(columns={"model": "method"})
    return out.assign(family="contrans", setting=f"{specimen}, {objective} input, vs TIE label")


def summary_table(ours: list[pd.DataFrame], scale: str,
                  contrans_setting: tuple[str, str] | None = None) -> pd.DataFrame:
    """Our headline rows (from the *_headlines functions) with the papers' numbers beside them.
    `conditions_differ` is true unless the run is at the papers' scale and the study is of the same kind;
    `difference` says how. ContransGAN's paper value is Table 1's at `contrans_setting` (specimen, objective)."""
    table = pd.concat(ours, ignore_index=True)
    records = []
    for row in table.to_dict("records"):
        paper = dict(PAPER.get((row["family"], row["method"]), {}))
        if row["family"] == "contrans" and row["method"] == "contrans" and contrans_setting:
            specimen, objective = contrans_setting
            values = PAPER_TABLE1.get(specimen, {}).get(objective)
            if values:
                paper |= {"ssim": values[0], "psnr": values[2],
                          "note": f"ContransGAN Table 1, {specimen} {objective}: SSIM {values[0]}, PSNR {values[2]} dB"}
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
    """The SSIM a family's heat map shows: plain `ssim`, else the phase SSIM (DespeckleNet)."""
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


def in_distribution_set(datasets: dict[str, dict], test_sets: list[str]) -> str:
    """MCNN's test set of the same kind as its training set (the papers' held-out setting)."""
    kind = datasets["train"]["kind"]
    same = [s for s in test_sets if datasets[s]["kind"] == kind]
    if not same:
        raise ValueError(f"mcnn.test_sets {test_sets} has no set of the training kind {kind!r}; add one")
    return same[0]
