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
    optics, hr = card.optics(objectives[objective]), card.optics(label)
    hr_pixel = hr["pixel_um"] * block["hr_binning"]
    inputs = {"channels": [{"quantity": "bright-field intensity", "objective": objective}], **optics,
              "scale": "empty field", **card.tiles(block["hr_px"]),
              "normalisation": f"intensity − 1, resampled onto the {block['hr_px']} px HR grid ({hr_pixel:g} µm pixels)"}
    outputs = {"channels": [card.phase(hr_pixel, reference=block["label"]["source"],
                                       objective=f"{label['magnification']:g}×/{label['na']:g}")],
               "hr_px": block["hr_px"]}
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
    """The specimen and input objective the baselines are compared on (the summary's and budget's setting)."""
    base = config["contrans"]["baselines"]
    return {"specimen": base["specimen"], "objective": base["objective"]}


def headlines(tables: dict[str, pd.DataFrame], specimen: str, objective: str) -> pd.DataFrame:
    """Per generator, trained and tested on `objective` inputs of `specimen`, against the TIE label."""
    per_image = tables["contrans_per_image"]
    rows = per_image[(per_image["specimen"] == specimen) & (per_image["reference"] == "tie")
                     & (per_image["train_objective"] == objective) & (per_image["test_objective"] == objective)]
    out = with_replicates(mean_metrics(rows, "model"), rows, "model").rename(columns={"model": "method"})
    return out.assign(family="contrans", setting=f"{specimen}, {objective} input, vs TIE label")


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
