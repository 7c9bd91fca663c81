"""DespeckleNet as the rest of deep-qpi sees it: its model card, `qpi predict`'s speckle input, its
headline rows and where a budget run is scored."""

from __future__ import annotations

import pandas as pd

from qpi.core import paths
from qpi.families import Family, card, register
from qpi.families.despeckle import conditions, level_training, network_input, outputs
from qpi.scoring.scores import mean_metrics, with_replicates


def model_card(config: dict, block: dict, condition: str) -> tuple[dict, dict]:
    if config["data"] == "user":  # the sheet's images: their own optics; a diffuser known by its label alone
        optics, diffuser = {"source": "the sample sheet's speckle images", "pixel_um": None}, {"label": condition}
    else:
        optics, diffuser = card.optics({**config["microscope"], **block["microscope"]}), conditions(block)[condition]["diffuser"]
    inputs = {"channels": [{"quantity": "speckle intensity", "defocus_um": block["defocus_um"]}], **optics,
              "diffuser": diffuser, "scale": "empty field",
              "illumination": card.illumination(config, from_corrected_stacks=False), "power": block["input_power"],
              **card.tiles(block["field_px"]),
              "normalisation": f"intensity ** {block['input_power']} − 1"}
    channels = [{"quantity": "intensity", "unit": "1", "pixel_um": optics["pixel_um"], "note": "the network gives 2·I − 1"},
                card.phase(optics["pixel_um"], reference=block["label"])]
    return inputs, {"channels": channels}


def prepare(model_card: dict, files, given: card.Given) -> card.Prepared:
    image, pixel, z, notes = card.read_input(files[0], model_card, given)
    relative, aperture, more = card.relative_intensity(image[None], model_card, given, str(files[0]), stops=False)
    x = network_input(relative, model_card["inputs"]["power"])
    return card.Prepared(x, 1, pixel, aperture, [z], notes + more)


def trust_cases(model_card: dict, files: dict, params: dict):
    """The first `params["images"]` test speckle images of every test condition (unseen diffusers), with the
    exact phase of the specimen behind each."""
    from qpi.training.patches import load_dataset

    for test, speckle, specimens in zip(params["tests"], files["sets"], files["specimens"]):
        x = network_input(load_dataset(speckle)["speckle"][: params["images"]], model_card["inputs"]["power"])
        exact = load_dataset(specimens)["exact"]
        for i, tile in enumerate(x):
            yield test, i, card.Prepared(tile, 1, model_card["inputs"]["pixel_um"]), exact[i, 0]


def named_outputs(y, model_card: dict) -> dict:
    return {k: v[0] for k, v in outputs(y[None]).items()}


def summary_params(config: dict) -> dict:
    return {"user": config["data"] == "user"}


def headlines(tables: dict[str, pd.DataFrame], user: bool = False) -> pd.DataFrame:
    """Per model, phase SSIM and NRMSE (TIE label) averaged over the correlation-length levels (a sample
    sheet's diffusers: each by its own networks), and the spread over seeds from the per-image scores."""
    rows = tables["despeckle_correlation"].rename(columns={"ssim_phase": "ssim", "nrmse_phase": "nrmse"})
    if user:  # each of a sheet's diffusers by its own networks (the pooled ones are in the table beside)
        rows = rows[rows["train_condition"] == rows["level"]]
    out = mean_metrics(rows, "model")
    per_image = tables.get("despeckle_per_image")
    if per_image is not None:
        phase = per_image[(per_image["quantity"] == "phase") & (per_image["reference"] == "tie")
                          & (per_image["metric"] == "ssim")]
        if user:
            phase = phase[phase["train_condition"] == phase["test_condition"]]
        out = with_replicates(out, phase.rename(columns={"value": "ssim"}), "model")
    out = out.rename(columns={"model": "method"})
    levels = rows["level"].nunique()
    setting = (f"phase vs TIE label, held-out fields, mean of {levels} diffusers" if user else
               f"phase vs TIE label, unseen diffusers, mean of {levels} levels")
    return out.assign(family="despeckle", setting=setting)


def budget_headline(config: dict, run: dict) -> dict:
    """Each level by the network that the sweep scores there (its own, or the pooled one), against the TIE label."""
    block = config["despeckle"]
    named = conditions(block)
    pairs = [[level_training(block, named, f"l{i + 1}"), f"l{i + 1}"] for i in range(len(block["correlation_um"]))]
    trained = dict.fromkeys(train for train, _ in pairs)
    return {"files": [paths.fill(paths.RUN_SCORES["despeckle"], condition=c, seed=run["seed"]) for c in trained],
            "pairs": pairs, "reference": "tie"}


FAMILY = register(Family(
    name="despeckle", title="DespeckleNet", card=model_card, prepare=prepare, outputs=named_outputs,
    trust_cases=trust_cases,
    no_forward_model="DespeckleNet has no forward model to check against: the diffuser between the specimen and "
                     "the camera is unknown, so no phase can be imaged back to the speckle it came through",
    summary_tables=("despeckle_correlation", "despeckle_per_image"), summary_params=summary_params, headlines=headlines,
    cross_table="despeckle_cross", budget_headline=budget_headline, run_scores=paths.RUN_SCORES["despeckle"],
))
