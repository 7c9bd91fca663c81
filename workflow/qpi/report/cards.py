"""Model cards: what a saved network expects and gives, so it can be used outside the pipeline.

`for_run(config, family, model, condition)` is a training job's card as its rule knows it: the family
and model key, the architecture spec, the inputs (channels and what they are: planes and their z in
µm, binning, objective magnification and NA, pixel size, wavelength, coherence, normalisation) and the
outputs (channels, quantities, units, pixel size). The trainer completes it (`checkpoints.complete_card`:
seed, training data digest, settings, code version) and saves it in the model file's meta; `qpi info
MODEL.pt` prints it. Each family builds its part (`Family.card`, from `qpi.families.card`'s pieces).
Lengths in µm, phase in rad.
"""

from __future__ import annotations

from pathlib import Path

from qpi import families
from qpi.core import paths
from qpi.core.plan import architecture


def for_run(config: dict, family: str, model: str, condition: str, specimen: str | None = None) -> dict:
    """The card of `family`'s network `model` trained on `condition` (ContransGAN: the objective, and
    its `specimen`), as far as planning knows it."""
    inputs, outputs = families.get(family).card(config, config[family], condition)
    where = {"specimen": specimen} if specimen else {}
    return {"family": family, "model": model, "condition": condition, **where,
            "architecture": architecture(config[family], model), "inputs": inputs, "outputs": outputs}


def scores_file(model_file: str | Path, card: dict) -> Path | None:
    """The evaluation CSV that scores the network of `card` in the results tree holding `model_file`
    (None outside one, or before its evaluation ran)."""
    model_file = Path(model_file).resolve()
    results = next((p for p in model_file.parents if p.name == paths.RESULTS), None)
    if results is None:
        return None
    template = families.get(card["family"]).run_scores
    labels = {"condition": card["condition"], "objective": card["condition"], "specimen": card.get("specimen"),
              "model": card["model"], "seed": card["seed"]}
    wanted = paths.wildcards(template)
    if not all(labels.get(k) is not None for k in wanted):
        return None
    path = results.parent / paths.fill(template, **{k: labels[k] for k in wanted})
    return path if path.exists() else None


def test_metrics(model_file: str | Path, card: dict) -> list[dict]:
    """Mean SSIM and PSNR of the card's network on each test condition, quantity and reference, from
    its evaluation CSV (empty when there is none): the test metrics `qpi info` shows."""
    path = scores_file(model_file, card)
    if path is None:
        return []
    import pandas as pd

    rows = pd.read_csv(path)
    rows = rows[(rows["model"] == card["model"]) & (rows["seed"] == card["seed"]) & rows["metric"].isin(["ssim", "psnr"])]
    keys = [k for k in ("test_condition", "quantity", "reference") if k in rows]
    table = rows.pivot_table(index=keys, columns="metric", values="value", aggfunc="mean").reset_index()
    images = rows[rows["metric"] == "ssim"].groupby(keys).size().rename("images").reset_index()
    return table.merge(images, on=keys).round(4).to_dict("records")
