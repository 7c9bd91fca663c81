"""Model cards: what a saved network expects and gives, so it can be used outside the pipeline.

`for_run(config, family, model, condition)` is a training job's card as its rule knows it: the family
and model key, the architecture spec, the inputs (channels and what they are: planes and their z in
µm, binning, objective magnification and NA, pixel size, wavelength, coherence, normalisation) and the
outputs (channels, quantities, units, pixel size). The trainer completes it (`checkpoints.complete_card`:
seed, training data digest, settings, code version) and saves it in the model file's meta; `qpi info
MODEL.pt` prints it. Lengths in µm, phase in rad.
"""

from __future__ import annotations

from pathlib import Path

from qpi.families import contrans, despeckle, mcnn, srqpi
from qpi.core import paths
from qpi.training.evaluate import default_overlap
from qpi.core.plan import architecture

FAMILIES = {"srqpi": "DL-SRQPI", "mcnn": "MCNN", "despeckle": "DespeckleNet", "contrans": "ContransGAN"}


def _optics(scope: dict) -> dict:
    """The microscope keys a card gives, with the pixel size in the sample plane."""
    keys = ("wavelength_um", "na", "magnification", "coherence")
    return {**{k: scope[k] for k in keys if k in scope}, "pixel_um": scope["camera_pixel_um"] / scope["magnification"]}


def _tiles(tile_px: int, overlap_px: int | None = None) -> dict:
    """How `qpi predict` tiles a full field: the network's training size on its input grid (the smallest
    tile; `evaluate.tiled_predict` grows tiles where the output ignores the tile) and the blended overlap."""
    return {"tile_px": tile_px, "overlap_px": default_overlap(tile_px) if overlap_px is None else overlap_px}


def _phase(pixel_um: float | None, **extra) -> dict:
    return {"quantity": "phase", "unit": "rad", "pixel_um": pixel_um, **extra}


def _srqpi(config: dict, block: dict, condition: str) -> tuple[dict, dict]:
    spec = srqpi.conditions(block)[condition]
    members = spec.get("members", [condition])  # an adaptive network: every member's plane
    planes = [block["conditions"][m].get("defocus_um") for m in members]
    binning = block["binning"]
    if config["data"] == "user":  # each stack's own optics and input plane, from the sample sheet
        optics, lr_pixel, hr_pixel = {"source": "the sample sheet's stacks"}, None, None
    else:
        optics = _optics({**config["microscope"], **({"coherence": spec["coherence"]} if "coherence" in spec else {})})
        hr_pixel = optics.pop("pixel_um")
        lr_pixel = hr_pixel * binning
    inputs = {"channels": [{"quantity": "intensity", "defocus_um": planes if len(planes) > 1 else planes[0]}],
              "binning": binning, "pixel_um": lr_pixel, **optics, "scale": "field mean",
              "normalisation": f"intensity / its field mean, binned {binning}×{binning} (block means)",
              **_tiles(block["evaluate"]["tile_lr"], block["evaluate"]["overlap_lr"])}
    return inputs, {"channels": [_phase(hr_pixel, reference=block["label"])], "upscale": binning}


def _mcnn(config: dict, block: dict, condition: str) -> tuple[dict, dict]:
    spec = mcnn.conditions(block)[condition]
    optics = _optics({**config["microscope"], **block["microscope"]})
    inputs = {"channels": [{"quantity": "intensity", "z_um": z} for z in spec["z_um"]], **optics,
              "scale": "empty field", **_tiles(block["field_px"]),
              "normalisation": "intensity − 1 (unit background), divided by the training inputs' std per plane"}
    outputs = [_phase(optics["pixel_um"])]
    if spec["amplitude"]:
        outputs.append({"quantity": "amplitude", "unit": "1", "pixel_um": optics["pixel_um"],
                        "note": "the network gives amplitude − 1"})
    return inputs, {"channels": outputs}


def _despeckle(config: dict, block: dict, condition: str) -> tuple[dict, dict]:
    optics = _optics({**config["microscope"], **block["microscope"]})
    diffuser = despeckle.conditions(block)[condition]["diffuser"]
    inputs = {"channels": [{"quantity": "speckle intensity", "defocus_um": block["defocus_um"]}], **optics,
              "diffuser": diffuser, "scale": "empty field", "power": block["input_power"], **_tiles(block["field_px"]),
              "normalisation": f"intensity ** {block['input_power']} − 1"}
    outputs = [{"quantity": "intensity", "unit": "1", "pixel_um": optics["pixel_um"], "note": "the network gives 2·I − 1"},
               _phase(optics["pixel_um"], reference=block["label"])]
    return inputs, {"channels": outputs}


def _contrans(config: dict, block: dict, objective: str) -> tuple[dict, dict]:
    objectives, label = contrans.scopes(config["microscope"], block)
    optics, hr = _optics(objectives[objective]), _optics(label)
    hr_pixel = hr["pixel_um"] * block["hr_binning"]
    inputs = {"channels": [{"quantity": "bright-field intensity", "objective": objective}], **optics,
              "scale": "empty field", **_tiles(block["hr_px"]),
              "normalisation": f"intensity − 1, resampled onto the {block['hr_px']} px HR grid ({hr_pixel:g} µm pixels)"}
    outputs = {"channels": [_phase(hr_pixel, reference=block["label"]["source"],
                                   objective=f"{label['magnification']:g}×/{label['na']:g}")],
               "hr_px": block["hr_px"]}
    return inputs, outputs


def for_run(config: dict, family: str, model: str, condition: str, specimen: str | None = None) -> dict:
    """The card of `family`'s network `model` trained on `condition` (ContransGAN: the objective, and
    its `specimen`), as far as planning knows it."""
    block = config[family]
    build = {"srqpi": _srqpi, "mcnn": _mcnn, "despeckle": _despeckle, "contrans": _contrans}[family]
    inputs, outputs = build(config, block, condition)
    where = {"specimen": specimen} if specimen else {}
    return {"family": family, "model": model, "condition": condition, **where,
            "architecture": architecture(block, model), "inputs": inputs, "outputs": outputs}


def scores_file(model_file: str | Path, card: dict) -> Path | None:
    """The evaluation CSV that scores the network of `card` in the results tree holding `model_file`
    (None outside one, or before its evaluation ran)."""
    model_file = Path(model_file).resolve()
    results = next((p for p in model_file.parents if p.name == paths.RESULTS), None)
    if results is None:
        return None
    template = paths.RUN_SCORES[card["family"]]
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
