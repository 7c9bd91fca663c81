"""Scoring, once for every family: one image pair → its metrics (`score_image`), and the
aggregations every table is built from (`summarise`, `seed_spread`, `summarise_values`).

`METRICS` names the metrics of a score row by default; `CORRELATION` (Pearson r) is asked for by
name. SSIM, PSNR and NRMSE use the reference's range per image and the phases' pistons are removed
(`qpi.scoring.metrics`); a prediction with NaN outside a field stop is scored inside it (`metrics.inside`);
LPIPS is a `metrics.Lpips` passed in, NaN (with `lpips_note` saying why) when its AlexNet trunk is
not cached.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from qpi.scoring import metrics

METRICS = ("ssim", "psnr", "nrmse", "mae", "lpips")
PIXEL_METRICS = METRICS[:4]  # compared pixel by pixel (LPIPS compares features)
# Pearson r with the reference, asked for by name: an unpaired method's sign check (ContransGAN: an
# in-focus intensity cannot tell φ from −φ, so a generator may learn the inverted phase, r < 0).
CORRELATION = "pearson"
TIMING = ("seconds_per_mpx",)
# One per-image score row, for every family (a family may add labels of its own, e.g. a tile's fov).
COLUMNS = ["family", "model", "seed", "train_condition", "test_condition", "image", "quantity", "reference", "metric",
           "value"]
# The cross-condition matrix: one row per network (or baseline), train and test condition, seed and metric.
CROSS_COLUMNS = ["family", "model", "train_condition", "test_condition", "seed", "metric", "value"]


def score_image(prediction: np.ndarray, truth: np.ndarray, phase: bool = True, lpips=None) -> dict[str, float]:
    """Every metric of one prediction against its reference (2-D): `METRICS` and the range R used.

    Inside the field stop when either holds NaN; pistons removed when `phase`. A flat reference has no
    range, so only its MAE is defined (the range metrics are NaN). `lpips` None skips LPIPS (NaN)."""
    prediction, truth = metrics.inside(prediction, truth)
    scores = metrics.score(prediction, truth, phase=phase)
    scores["lpips"] = lpips(prediction, truth, phase=phase) if lpips is not None else math.nan
    return scores


def image_rows(prediction: np.ndarray, truth: np.ndarray, *, quantity: str, reference: str, lpips=None,
               names=METRICS, **labels) -> list[dict]:
    """The score rows (`COLUMNS`) of one predicted image against one reference: a row per metric of
    `names` defined against it (`score_image`); phases (`quantity` "phase") lose their piston.
    `labels` are the row's first columns: family, model, seed, train_condition, test_condition, image
    and any of the family's own."""
    scores = score_image(prediction, truth, phase=quantity == "phase", lpips=lpips)
    # A flat reference (a pure-phase specimen's amplitude) has no range R: only its MAE is defined.
    # R is the scored region's, so the NaN outside a field stop does not count.
    names = names if scores["data_range"] > 0 else [n for n in names if n == "mae"]
    return [{**labels, "quantity": quantity, "reference": reference, "metric": m, "value": scores[m]} for m in names]


def wide(rows: pd.DataFrame) -> pd.DataFrame:
    """Score rows with one column per metric (in the rows' order of first appearance): the view
    the per-image tables and figures read. Every column but metric and value labels the image."""
    keys = [c for c in rows.columns if c not in ("metric", "value")]
    rows = rows.assign(_image=rows.groupby(keys, sort=False, dropna=False).ngroup())
    values = rows.pivot(index="_image", columns="metric", values="value")[list(dict.fromkeys(rows["metric"]))]
    labels = rows.drop_duplicates("_image").set_index("_image")[keys]
    return labels.join(values).reset_index(drop=True).rename_axis(columns=None)


def lpips_note(rows: pd.DataFrame) -> list[str]:
    """A note when the score rows hold no LPIPS value (AlexNet trunk weights absent)."""
    if rows.loc[rows["metric"] == "lpips", "value"].isna().all():
        return [metrics.lpips_available()[1] or "LPIPS missing"]
    return []


PHASE_REFERENCES = ("exact", "measured", "tie")  # the best first: the simulation's, a measured phase, the TIE's


def phase_reference(per_image: pd.DataFrame) -> str:
    """The phase reference scores are read against: the best the rows have (`PHASE_REFERENCES`)."""
    found = set(per_image["reference"])
    return next((r for r in PHASE_REFERENCES if r in found), "tie")


def summarise(per_image: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean and std of every metric column present (one column per metric), per group, with the number
    of images; with a `seed` column not among `by`, also the replicates' spread (`seed_spread`)."""
    names = [m for m in (*METRICS, *TIMING) if m in per_image]
    grouped = per_image.groupby(by, sort=False)[names]
    table = grouped.mean().join(grouped.std(ddof=0).add_suffix("_std")).join(grouped.size().rename("n_images"))
    if "seed" in per_image and "seed" not in by:
        table = table.join(seed_spread(per_image, by, names).set_index(by))
    return table.reset_index()


def summarise_values(per_image: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean, std and count of `value` over images per group of long rows (metric and quantity in `by`)."""
    grouped = per_image.groupby(by, sort=False, dropna=False)["value"]
    return grouped.agg(mean="mean", std=lambda v: v.std(ddof=0), n_images="count").reset_index()


def condition_means(rows: pd.DataFrame) -> pd.DataFrame:
    """The cross-condition rows (`CROSS_COLUMNS`) of long per-image rows that carry those columns:
    the mean `value` over images per group, groups in order of first appearance. Every family's
    cross-condition table is this, after naming its rows."""
    return rows.groupby(CROSS_COLUMNS[:-1], sort=False)["value"].mean().reset_index()


def seed_spread(rows: pd.DataFrame, by: list[str], names: list[str]) -> pd.DataFrame:
    """Replicates per group of `by`: the number of seeds and, per metric of `names`, the std over the
    seeds' means (`<metric>_seed_std`; 0 with one seed)."""
    per_seed = rows.groupby([*by, "seed"], sort=False)[names].mean().groupby(level=by, sort=False)
    out = per_seed.std(ddof=0).add_suffix("_seed_std")
    out.insert(0, "seeds", per_seed.size())
    return out.reset_index()


def mean_metrics(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """The mean of each pixel metric the wide rows `rows` have, per group of `by` (a headline row each)."""
    return rows.groupby(by, sort=False)[[m for m in PIXEL_METRICS if m in rows]].mean().reset_index()


def with_replicates(out: pd.DataFrame, rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """`out` (one row per `by`) with the seed count and the std over seeds of the mean SSIM of `rows`
    (which have `seed` and `ssim` columns); rows without a seed (classical baselines) count as seed 0."""
    seeds = rows["seed"].fillna(0) if "seed" in rows else 0
    spread = seed_spread(rows.assign(seed=seeds), [by], ["ssim"])
    return out.merge(spread, on=by, how="left")
