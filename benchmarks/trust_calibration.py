"""How well DL-SRQPI's trust signs track its real error, on the demo's held-out fields (exact phase known).

The networks of one condition (the demo's z2 U-Net, seeds 0 and 1) predict every held-out field of every
condition of the demo (z2: their own; z4, z6: farther planes; S0: coherent light: the cross-condition
matrix's out-of-distribution inputs), as the evaluation gives them (`results/srqpi/<c>/lr`). Per image:
the ensemble × dihedral mean and σ (`qpi.trust.uncertainty`), the consistency residual at the card's
defocus (`qpi.trust.consistency`, as `qpi predict` does without --z-um), the OOD score against the card
(`qpi.trust.ood`) and the error against the exact phase (median piston removed). Calibration:

- per pixel: Spearman ρ(σ, |error|) within each image, median over images;
- per image: Spearman ρ(mean σ, RMSE) and ρ(consistency, RMSE) over all images;
- coverage: the fraction of pixels with |error| ≤ 2σ (0.95 for a Gaussian σ that is right);
- OOD: AUROC of the score for telling the networks' own condition from the others.

    .venv/bin/python benchmarks/trust_calibration.py results -o benchmarks/trust_calibration.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from qpi import io
from qpi.families import card as cards
from qpi.families.srqpi.family import reimage
from qpi.training.checkpoints import load_model, read_card
from qpi.training.evaluate import tiled_predict
from qpi.trust import consistency, ood, uncertainty


def test_fields(results: Path, condition: str) -> list[str]:
    info = json.loads((results / "srqpi" / condition / "dataset.json").read_text())
    trained = {f for part in ("train", "val") for f in info["splits"][part]["fields"]}
    return sorted(f for f in info["labels"] if f not in trained)


def auroc(negatives, positives) -> float:
    """P(a positive scores above a negative), ties half."""
    n, p = np.asarray(negatives)[:, None], np.asarray(positives)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--condition", default="z2")
    parser.add_argument("--tests", nargs="+", default=["z2", "z4", "z6", "S0"])
    args = parser.parse_args()
    folder = args.results / "srqpi" / args.condition / "models"
    files = sorted(folder.glob("unet_s*/best.pt"))
    card = read_card(files[0])
    nets = [load_model(f).eval() for f in files]
    spec = card["inputs"]
    predictors = [lambda x, m=m: tiled_predict(m, x, 4, spec["tile_px"], spec["overlap_px"]) for m in nets]
    rows = []
    for test in args.tests:
        for field in test_fields(args.results, args.condition):
            x = io.read_image(args.results / "srqpi" / test / "lr" / f"{field}.tif")[0][None]
            truth = io.read_image(args.results / "truth" / f"{field}_phase.tif")[0]
            samples = [s[0] for s in uncertainty.samples(predictors, x)]
            mean, sigma = uncertainty.spread(samples, piston=True)
            error = np.abs((mean - np.median(mean)) - (truth - np.median(truth)))
            prepared = cards.Prepared(x, 4, spec["pixel_um"] / 4, z_um=[spec["channels"][0]["defocus_um"]])
            value = consistency.residual(reimage(card, prepared, {"phase": mean}))[1]
            rows.append({"test": test, "field": field, "rmse": float(np.sqrt(np.mean(error**2))),
                         "sigma": float(sigma.mean()), "consistency": value,
                         "ood": ood.score(x, card["training"]["inputs"])[0],
                         "pixel_rho": float(spearmanr(sigma.ravel(), error.ravel())[0]),
                         "within_2_sigma": float(np.mean(error <= 2 * sigma))})
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    rmse = [r["rmse"] for r in rows]
    own = [r["ood"] for r in rows if r["test"] == args.condition]
    others = [r["ood"] for r in rows if r["test"] != args.condition]
    summary = {
        "networks": [str(f) for f in files], "samples_per_image": len(nets) * len(uncertainty.DIHEDRAL),
        "images": len(rows), "tests": args.tests,
        "pixel_spearman_median": round(float(np.median([r["pixel_rho"] for r in rows])), 3),
        "image_spearman_sigma_rmse": round(float(spearmanr([r["sigma"] for r in rows], rmse)[0]), 3),
        "image_spearman_consistency_rmse": round(float(spearmanr([r["consistency"] for r in rows], rmse)[0]), 3),
        "within_2_sigma": round(float(np.mean([r["within_2_sigma"] for r in rows])), 3),
        "ood_auroc_own_vs_others": round(auroc(own, others), 3),
        "by_test": {t: {k: round(float(np.mean([r[k] for r in rows if r["test"] == t])), 4)
                        for k in ("rmse", "sigma", "consistency", "ood", "within_2_sigma")} for t in args.tests},
    }
    args.output.write_text(json.dumps({"summary": summary, "images": rows}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
