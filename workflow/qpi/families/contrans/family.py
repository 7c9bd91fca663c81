"""ContransGAN as the rest of deep-qpi sees it: its model card, `qpi predict`'s low-NA input on the
high-NA grid, its headline rows, Table 1's number for the compared setting and where a budget run is scored."""

from __future__ import annotations

import numpy as np
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
                 f"{label['magnification']:g}×/{label['na']:g}", card.illumination(config, from_corrected_stacks=False))


def user_card(model_card: dict, grids: dict, objective: str) -> dict:
    """A user-data run's card completed with what the sheet's files gave (`contrans_user_data`'s grids):
    the objective's pixel size, NA and wavelength, and the label's HR grid."""
    optics = {k: v for k, v in grids["objectives"][objective].items() if v is not None}
    inputs, outputs = _card(objective, optics, grids["hr_pixel_um"], grids["hr_px"], grids["label"],
                            "your stacks' objective", "kept")
    return {**model_card, "inputs": inputs, "outputs": outputs}


def _card(objective: str, optics: dict, hr_pixel: float, hr_px: int, label: str, label_objective: str,
          illumination: str):
    inputs = {"channels": [{"quantity": "bright-field intensity", "objective": objective}], **optics,
              "scale": "empty field", "illumination": illumination, **card.tiles(hr_px),
              "normalisation": f"intensity − 1, resampled onto the {hr_px} px HR grid ({hr_pixel:g} µm pixels)"}
    outputs = {"channels": [card.phase(hr_pixel, reference=label, objective=label_objective)], "hr_px": hr_px}
    return inputs, outputs


def prepare(model_card: dict, files, given: card.Given) -> card.Prepared:
    image, pixel, z, notes = card.read_input(files[0], model_card, given)
    relative, aperture, more = card.relative_intensity(image[None], model_card, given, str(files[0]))
    hr_pixel = model_card["outputs"]["channels"][0]["pixel_um"]
    coarser = model_card["inputs"]["pixel_um"] / hr_pixel
    try:
        x = onto_hr_grid(relative[0], coarser)[None]
    except ValueError as err:
        raise io.StackError(f"{files[0]}: {err}") from None
    if aperture is not None:  # onto the HR grid with the image (a contrast: inside 0, outside −1)
        aperture = onto_hr_grid(aperture.astype(np.float32), coarser) > -0.5
    return card.Prepared(x, 1, hr_pixel, aperture, [0.0], notes + more)


def reimage(model_card: dict, prepared: card.Prepared, images: dict):
    """The low-NA input imaged in focus from the predicted phase through the card's low-NA objective (a pure
    phase object), on the input's pixels and brought onto the HR grid as the input was. An in-focus image
    barely depends on the phase's sign, so the image of −φ is given beside it."""
    from qpi.optics.binning import bin_pixels
    from qpi.trust import consistency

    scope = consistency.optics(model_card["inputs"], "the low-NA objective")
    coarser = model_card["inputs"]["pixel_um"] / prepared.pixel_um
    factor = max(int(round(coarser)), 1)

    def imaged(phase: np.ndarray) -> np.ndarray:
        hr = consistency.reimage(phase, 1.0, [0.0], scope, prepared.pixel_um)[0]
        back = onto_hr_grid(bin_pixels(hr, factor) if coarser >= 1 else hr, coarser if coarser >= 1 else 1.0) + 1
        return (back / np.nanmean(back))[None]

    phase = images["phase"]
    margin = int(np.ceil(2 * scope.wavelength_um / scope.na / prepared.pixel_um))  # two widths of its blur
    return consistency.Reimaged(prepared.x + 1.0, imaged(phase), margin, mirrored=imaged(-phase),
                                note="a pure phase object (unit amplitude) assumed")


def trust_cases(model_card: dict, files: dict, params: dict):
    """The first `params["images"]` test tiles of every specimen through the card's objective, on the HR
    grid, with their exact phase."""
    from qpi.families.contrans import network_input
    from qpi.training.patches import load_dataset

    objective = model_card["inputs"]["channels"][0]["objective"]
    hr_px, hr_pixel = model_card["outputs"]["hr_px"], model_card["outputs"]["channels"][0]["pixel_um"]
    for test, path in zip(params["tests"], files["sets"]):
        data = load_dataset(path)
        x = network_input(data[f"lr_{objective}"][: params["images"]], hr_px)
        for i, tile in enumerate(x):
            yield test, i, card.Prepared(tile, 1, hr_pixel, z_um=[0.0]), data["exact"][i, 0]


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
    reimage=reimage, trust_cases=trust_cases,
    summary_tables=("contrans_per_image",), summary_params=setting, headlines=headlines, paper=paper,
    cross_table="contrans_cross_na", cross_rows=cross_condition, budget_headline=budget_headline,
    run_scores=paths.RUN_SCORES["contrans"],
))
