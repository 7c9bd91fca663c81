"""ContransGAN as the rest of deep-qpi sees it: its model card, `qpi predict`'s low-NA input on the
high-NA grid, its headline rows, Table 1's number for the compared setting and where a budget run is scored."""

from __future__ import annotations

import pandas as pd

from qpi import io
from qpi.core import paths
from qpi.core.papers import PAPER_TABLE1
from qpi.families import Family, card, register
from qpi.families.contrans import cross_condition, onto_hr_grid, scopes
from qpi.scoring.scores import mean_metrics, with_replicates


def model_card(config: dict, block: dict, objective: str) -> tuple[dict, dict]:
    objectives, label = scopes(config["microscope"], block)
    if objective not in objectives:  # a sheet's objective: its optics are known once read (`user_card`)
        objectives[objective] = dict(label)
    optics, hr = card.optics(objectives[objective]), card.optics(label)
    return _card(objective, optics, hr["pixel_um"] * block["hr_binning"], block["hr_px"], block["label"]["source"],
                 f"{label['magnification']:g}×/{label['na']:g}")


def user_card(model_card: dict, grids: dict, objective: str) -> dict:
    """A user-data run's card completed with what the sheet's files gave (`contrans_user_data`'s grids):
    the objective's pixel size, NA and wavelength, and the label's HR grid."""
    optics = {k: v for k, v in grids["objectives"][objective].items() if v is not None}
    inputs, outputs = _card(objective, optics, grids["hr_pixel_um"], grids["hr_px"], grids["label"],
                            "your stacks' objective")
    return {**model_card, "inputs": inputs, "outputs": outputs}


def _card(objective: str, optics: dict, hr_pixel: float, hr_px: int, label: str, label_objective: str):
    inputs = {"channels": [{"quantity": "bright-field intensity", "objective": objective}], **optics,
              "scale": "empty field", **card.tiles(hr_px),
              "normalisation": f"intensity − 1, resampled onto the {hr_px} px HR grid ({hr_pixel:g} µm pixels)"}
    outputs = {"channels": [card.phase(hr_pixel, reference=label, objective=label_objective)], "hr_px": hr_px}
    return inputs, outputs


def prepare(model_card: dict, files, z_um, pixel_um, normalise):
    image, pixel = card.read_input(files[0], model_card, pixel_um)
    hr_pixel = model_card["outputs"]["channels"][0]["pixel_um"]
    try:
        x = onto_hr_grid(card.relative(image, normalise), model_card["inputs"]["pixel_um"] / hr_pixel)
    except ValueError as err:
        raise io.StackError(f"{files[0]}: {err}") from None
    return x, 1, hr_pixel


def setting(config: dict) -> dict:
    """The specimen and input objective the baselines are compared on (the summary's and budget's
    setting); on a lab's files, every objective of the sheet against its label."""
    if config.get("data") == "user":
        return {"specimen": "user", "objective": None, "label": config["contrans"]["user"]["label"]}
    base = config["contrans"]["baselines"]
    return {"specimen": base["specimen"], "objective": base["objective"]}


def headlines(tables: dict[str, pd.DataFrame], specimen: str, objective: str | None,
              label: str = "tie") -> pd.DataFrame:
    """Per generator, trained and tested on `objective` inputs of `specimen` (None: on each objective,
    one row per generator and objective), against the phase label."""
    per_image = tables["contrans_per_image"]
    rows = per_image[(per_image["specimen"] == specimen) & (per_image["reference"] == label)
                     & (per_image["train_objective"] == per_image["test_objective"])]
    if objective is not None:
        rows = rows[rows["train_objective"] == objective]
    else:
        rows = rows.assign(model=rows["model"] + " (" + rows["train_objective"] + ")")
    out = with_replicates(mean_metrics(rows, "model"), rows, "model").rename(columns={"model": "method"})
    where = f"{objective} input" if objective else "each objective's input"
    return out.assign(family="contrans", setting=f"{specimen}, {where}, vs {label} label")


def paper(config: dict) -> dict[str, dict]:
    """Table 1's SSIM and PSNR at the compared specimen and objective (none where Table 1 has no such row)."""
    where = setting(config)
    values = PAPER_TABLE1.get(where["specimen"], {}).get(where["objective"])
    if not values:
        return {}
    return {"contrans": {"ssim": values[0], "psnr": values[2],
                         "note": f"ContransGAN Table 1, {where['specimen']} {where['objective']}: "
                                 f"SSIM {values[0]}, PSNR {values[2]} dB"}}


def budget_headline(config: dict, run: dict) -> dict:
    where = setting(config)
    return {"files": [paths.fill(paths.RUN_SCORES["contrans"], **where, **run)],
            "pairs": [[where["objective"], where["objective"]]], "reference": "tie"}


FAMILY = register(Family(
    name="contrans", title="ContransGAN", card=model_card, prepare=prepare, outputs=card.named_channels,
    summary_tables=("contrans_per_image",), summary_params=setting, headlines=headlines, paper=paper,
    cross_table="contrans_cross_na", cross_rows=cross_condition, budget_headline=budget_headline,
    run_scores=paths.RUN_SCORES["contrans"],
))
