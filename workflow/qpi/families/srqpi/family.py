"""DL-SRQPI as the rest of deep-qpi sees it: its model card, `qpi predict`'s input, its headline rows
and where a budget run is scored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpi.core import paths
from qpi.families import Family, card, register
from qpi.families.srqpi import conditions
from qpi.scoring.scores import mean_metrics, phase_reference

ARCHS = ("srqpi_unet", "srcnn")  # the networks a card-less (pre-card) model file may be


def model_card(config: dict, block: dict, condition: str) -> tuple[dict, dict]:
    spec = conditions(block)[condition]
    members = spec.get("members", [condition])  # an adaptive network: every member's plane
    planes = [block["conditions"][m].get("defocus_um") for m in members]
    binning = block["binning"]
    if config["data"] == "user":  # each stack's own optics and input plane, from the sample sheet
        optics, lr_pixel, hr_pixel = {"source": "the sample sheet's stacks"}, None, None
    else:
        optics = card.optics({**config["microscope"], **({"coherence": spec["coherence"]} if "coherence" in spec else {})})
        hr_pixel = optics.pop("pixel_um")
        lr_pixel = hr_pixel * binning
    inputs = {"channels": [{"quantity": "intensity", "defocus_um": planes if len(planes) > 1 else planes[0]}],
              "binning": binning, "pixel_um": lr_pixel, **optics, "scale": "field mean",
              "illumination": card.illumination(config),
              "normalisation": f"intensity / its field mean, binned {binning}×{binning} (block means)",
              **card.tiles(block["evaluate"]["tile_lr"], block["evaluate"]["overlap_lr"])}
    return inputs, {"channels": [card.phase(hr_pixel, reference=block["label"])], "upscale": binning}


def prepare(model_card: dict, files, given: card.Given) -> card.Prepared:
    image, pixel, z, notes = card.read_input(files[0], model_card, given)
    x, aperture, more = card.relative_intensity(image[None], model_card, given, str(files[0]))
    factor = int(model_card["outputs"]["upscale"])
    return card.Prepared(x, factor, pixel and pixel / factor, aperture, [z], notes + more)


def reimage(model_card: dict, prepared: card.Prepared, images: dict):
    """The LR input imaged from the predicted phase: a pure phase object (unit amplitude: one defocused image
    gives no amplitude) at the input's defocus through the card's objective, binned onto the LR grid."""
    from qpi.optics.binning import bin_pixels
    from qpi.trust import consistency

    z = prepared.z_um[0]
    if z is None:
        raise consistency.Unknown("the network was trained at several planes and the input's defocus is unknown "
                                  "(give --z-um)")
    scope = consistency.optics(model_card["inputs"], "the input")
    predicted = bin_pixels(consistency.reimage(images["phase"], 1.0, [z], scope, prepared.pixel_um), prepared.factor)
    predicted = predicted / np.nanmean(predicted)
    margin = -(-consistency.blur_margin([z], scope, prepared.pixel_um) // prepared.factor)
    return consistency.Reimaged(prepared.x, predicted, margin, note="a pure phase object (unit amplitude) assumed")


def trust_cases(model_card: dict, files: dict, params: dict):
    """Every held-out field of every test condition, as the evaluation gives it (mean-normalised LR), at the
    card's defocus (as `qpi predict` without --z-um), with its exact phase."""
    from qpi import io

    factor, pixel = int(model_card["outputs"]["upscale"]), model_card["inputs"]["pixel_um"]
    z = float(np.atleast_1d(model_card["inputs"]["channels"][0]["defocus_um"])[0])
    lr = iter(files["lr"])  # condition by condition, stack by stack
    for test in params["tests"]:
        for stack, truth in zip(params["stacks"], params["truth"]):
            x = io.read_image(next(lr))[0][None]
            yield test, stack, card.Prepared(x, factor, pixel / factor, z_um=[z]), io.read_image(truth)[0]


def implied_card(model) -> dict | None:
    """A DL-SRQPI network saved without a card (one LR intensity in, phase out): the card it implies."""
    channels = (model.config.get("in_channels", 1), model.config.get("out_channels", 1))
    if model.registry_name not in ARCHS or channels != (1, 1):
        return None
    return {"family": "srqpi", "inputs": {"pixel_um": None}, "outputs": {"upscale": int(model.config.get("upscale", 1))}}


def headlines(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per method, mean over conditions, against the exact phase where the table has it (the paper's
    simulated study), else against the TIE label."""
    benchmark = tables["srqpi_benchmark"]
    reference = phase_reference(benchmark)
    rows = benchmark[benchmark["reference"] == reference]
    out = mean_metrics(rows, "method")
    if "seeds" in rows:  # the benchmark's own replicate spread (qpi.scoring.scores.summarise), mean over conditions
        out = out.merge(rows.groupby("method", sort=False)[["seeds", "ssim_seed_std"]]
                        .agg({"seeds": "max", "ssim_seed_std": "mean"}).reset_index(), on="method")
    conditions = ", ".join(dict.fromkeys(rows["condition"].astype(str)))
    return out.assign(family="srqpi", setting=f"held-out fields, {conditions}, vs {reference} phase")


def budget_headline(config: dict, run: dict) -> dict:
    """A budget run is scored on its first training condition, against the exact phase where there is one."""
    condition = config["srqpi"]["train_condition"][0]
    return {"files": [paths.fill(paths.RUN_SCORES["srqpi"], condition=condition, **run)],
            "pairs": [[condition, condition]], "reference": None}


FAMILY = register(Family(
    name="srqpi", title="DL-SRQPI", card=model_card, prepare=prepare, outputs=card.named_channels,
    implied_card=implied_card, reimage=reimage, trust_cases=trust_cases, summary_tables=("srqpi_benchmark",),
    headlines=headlines,
    cross_table="srqpi_cross", budget_headline=budget_headline, run_scores=paths.RUN_SCORES["srqpi"],
))
