"""Calibration of the trust signs where the exact phase is known: held-out simulated images of a
network's own condition and of the others its family tests on (the cross-condition matrix: the natural
out-of-distribution set).

`evaluate` runs the ensemble × dihedral samples over each image, scores them against the exact phase
and gives one row per image; `summarise` turns a family's rows into the numbers that say when a map is
to be trusted:

- pixel_spearman: Spearman ρ(σ, |error|) over an image's pixels, the median over images;
- image_spearman_sigma, image_spearman_consistency: ρ(mean σ, RMSE), ρ(consistency, RMSE) over images;
- within_2_sigma: the share of pixels whose |error| ≤ 2σ (0.95 for a right Gaussian σ);
- ood_auroc: how well the OOD score tells the network's own condition's images from the others'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from qpi.trust import consistency, ood, uncertainty

EXAMPLES = 2  # images per test condition whose maps are kept for the figure


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:
        return float("nan")
    return float(spearmanr(a[keep], b[keep])[0])


def auroc(negatives, positives) -> float:
    """P(a positive scores above a negative), ties counted half; NaN without both."""
    n, p = np.asarray(negatives, float), np.asarray(positives, float)
    n, p = n[np.isfinite(n)], p[np.isfinite(p)]
    if not len(n) or not len(p):
        return float("nan")
    return float(np.mean((p[None] > n[:, None]) + 0.5 * (p[None] == n[:, None])))


def evaluate(predictors: list[Callable], card: dict, family, cases: Iterable, log=None
             ) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Rows (one per image) and example maps (prediction, |error|, σ, residual) of the `cases`:
    (test condition, image id, prepared input `qpi.families.card.Prepared`, exact phase)."""
    rows, maps, kept = [], {}, {}
    summary = (card.get("training") or {}).get("inputs")
    for test, image, prepared, truth in cases:
        mean, sigma = uncertainty.ensemble(predictors, prepared.x, lambda y: family.outputs(y, card))["phase"]
        error = np.abs((mean - np.nanmedian(mean)) - (truth - np.nanmedian(truth)))
        found = consistency.check(family, card, prepared, {"phase": mean})
        if found.value is None and log is not None and not rows:
            log.info("consistency not checked: %s", found.note)
        residual = found.residual
        rows.append({"test_condition": test, "image": image, "rmse": float(np.sqrt(np.nanmean(error**2))),
                     "sigma": float(np.nanmean(sigma)),
                     "consistency": float("nan") if found.value is None else found.value,
                     "ood": ood.score(prepared.x, summary)[0] if summary else float("nan"),
                     "pixel_spearman": _spearman(sigma, error),
                     "within_2_sigma": float(np.nanmean(error <= 2 * sigma))})
        if kept.setdefault(test, 0) < EXAMPLES:
            kept[test] += 1
            key = f"{test}/{image}"
            maps.update({f"{key}/phase": mean, f"{key}/error": error, f"{key}/sigma": sigma})
            if residual is not None:
                maps[f"{key}/residual"] = residual
    return rows, maps


def summarise(rows: list[dict], own: str) -> dict:
    """A family's calibration numbers (module doc) from its image rows; `own` names the networks' condition
    (several: comma-separated, e.g. the levels a pooled network was trained on)."""
    mine = {c.strip() for c in str(own).split(",")}

    def column(name, where=lambda r: True):
        return np.array([r[name] for r in rows if where(r)], float)

    rmse = column("rmse")
    return {
        "images": len(rows), "own_condition": own,
        "tests": ", ".join(dict.fromkeys(r["test_condition"] for r in rows)),
        "pixel_spearman": float(np.nanmedian(column("pixel_spearman"))),
        "image_spearman_sigma": _spearman(column("sigma"), rmse),
        "image_spearman_consistency": _spearman(column("consistency"), rmse),
        "within_2_sigma": float(np.nanmean(column("within_2_sigma"))),
        "ood_auroc": auroc(column("ood", lambda r: r["test_condition"] in mine),
                           column("ood", lambda r: r["test_condition"] not in mine)),
        "rmse_own": float(np.nanmean(column("rmse", lambda r: r["test_condition"] in mine))),
        "rmse_others": float(np.nanmean(column("rmse", lambda r: r["test_condition"] not in mine))),
    }
