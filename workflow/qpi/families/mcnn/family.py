"""MCNN as the rest of deep-qpi sees it: its model card, `qpi predict`'s input planes, its headline
rows and where a budget run is scored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpi import io
from qpi.core import paths
from qpi.families import Family, card, register
from qpi.families.mcnn import conditions, network_input, network_output, plane_index, user
from qpi.scoring.scores import PIXEL_METRICS, mean_metrics, with_replicates


def in_distribution_set(datasets: dict[str, dict], test_sets: list[str]) -> str:
    """MCNN's test set of the same kind as its training set (the papers' held-out setting)."""
    kind = datasets["train"]["kind"]
    same = [s for s in test_sets if datasets[s]["kind"] == kind]
    if not same:
        raise ValueError(f"mcnn.test_sets {test_sets} has no set of the training kind {kind!r}; add one")
    return same[0]


def model_card(config: dict, block: dict, condition: str) -> tuple[dict, dict]:
    if condition in user.CONDITIONS:  # the stacks' microscope and planes, known once read: `stacks_card`
        planes, amplitude = block["user"]["planes_um"] or [], False
    else:
        planes, amplitude = conditions(block)[condition]["z_um"], conditions(block)[condition]["amplitude"]
    return _card(card.optics({**config["microscope"], **block["microscope"]}), planes, amplitude, block["field_px"],
                 card.illumination(config))


def stacks_card(model_card: dict, shared: dict, fine_tuned_from: str | None = None) -> dict:
    """A user-data run's card completed with what the stacks gave (`user_data`'s microscope file): their
    microscope and the network's planes; and for a fine-tuned network, the model it started from."""
    inputs, outputs = _card(card.optics(shared["microscope"]), shared["planes_um"], False,
                            model_card["inputs"]["tile_px"], model_card["inputs"].get("illumination", "kept"))
    extra = {"fine_tuned_from": fine_tuned_from} if fine_tuned_from else {}
    return {**model_card, "inputs": inputs, "outputs": outputs, "trained_for": shared["stacks"], **extra}


def _card(optics: dict, planes_um: list[float], amplitude: bool, tile_px: int, illumination: str
          ) -> tuple[dict, dict]:
    inputs = {"channels": [{"quantity": "intensity", "z_um": z} for z in planes_um], **optics,
              "scale": "empty field", "illumination": illumination, **card.tiles(tile_px),
              "normalisation": "intensity − 1 (unit background), divided by the training inputs' std per plane"}
    outputs = [card.phase(optics["pixel_um"])]
    if amplitude:
        outputs.append({"quantity": "amplitude", "unit": "1", "pixel_um": optics["pixel_um"],
                        "note": "the network gives amplitude − 1"})
    return inputs, {"channels": outputs}


def prepare(model_card: dict, files, given: card.Given) -> card.Prepared:
    """The card's planes from one stack, or from one file per plane in z order (a stack with more
    planes gives the ones needed)."""
    spec = model_card["inputs"]
    wanted = [c["z_um"] for c in spec["channels"]]
    where = io.path_names(files)
    stack = io.read_stack(files[0] if len(files) == 1 else files, z_um=given.z_um, pixel_um=given.pixel_um,
                          require_focus=False, fallback={"wavelength_um": spec.get("wavelength_um"),
                                                         "pixel_um": spec.get("pixel_um")})
    card.check_pixel(where, stack.pixel_um, spec.get("pixel_um"))
    notes = [f"{key.replace('_um', '')} {getattr(stack, key):g} µm assumed from the model card ({where} carries "
             f"none; give --{key.replace('_', '-')})" for key in stack.extra.get("assumed", [])]
    try:
        planes = stack.data[plane_index(stack.z_um, wanted)]
    except ValueError:
        raise io.StackError(f"{where}: the network needs the planes at z = {io.format_z(wanted)} µm, "
                            f"the input has z = {io.format_z(stack.z_um)} µm; give a stack holding them (or --z-um "
                            "if the files' z are wrong).") from None
    relative, aperture, more = card.relative_intensity(planes, model_card, given, where)
    return card.Prepared(network_input(relative, wanted, wanted), 1, stack.pixel_um, aperture, wanted, notes + more)


def reimage(model_card: dict, prepared: card.Prepared, images: dict):
    """The input planes imaged from the predicted phase (and amplitude, where the network gives one; else
    a pure phase object) through the card's objective."""
    from qpi.trust import consistency

    scope = consistency.optics(model_card["inputs"], "the planes")
    predicted = consistency.reimage(images["phase"], images.get("amplitude", 1.0), prepared.z_um, scope,
                                    prepared.pixel_um)
    predicted = predicted / np.nanmean(predicted, axis=(-2, -1), keepdims=True)  # as the input: over its mean
    note = "" if "amplitude" in images else "a pure phase object (unit amplitude) assumed"
    return consistency.Reimaged(prepared.x + 1.0, predicted, consistency.blur_margin(prepared.z_um, scope,
                                                                                      prepared.pixel_um), note=note)


def trust_cases(model_card: dict, files: dict, params: dict):
    """The first `params["images"]` images of every test set, at the card's planes, with their exact phase."""
    from qpi.training.patches import load_dataset

    wanted = [c["z_um"] for c in model_card["inputs"]["channels"]]
    for test, path in zip(params["tests"], files["sets"]):
        data = load_dataset(path)
        for i in range(min(len(data["phase"]), params["images"])):
            x = network_input(data["planes"][i], data["z_um"], wanted)
            yield test, i, card.Prepared(x, 1, model_card["inputs"]["pixel_um"], z_um=wanted), data["phase"][i, 0]


def outputs(y, model_card: dict) -> dict:
    names = card.named_channels(y, model_card)  # the channel count checked, then amplitude's offset undone
    return dict(zip(names, network_output(y[None])[0]))


def summary_params(config: dict) -> dict:
    block = config["mcnn"]
    if config.get("data") == "user":
        return {"test_set": user.TEST_SET}
    return {"test_set": in_distribution_set(block["datasets"], block["test_sets"])}


def headlines(tables: dict[str, pd.DataFrame], test_set: str = "natural") -> pd.DataFrame:
    """Per model (and training set, when there are several: your stacks' simulated and fine-tuned
    networks), mean over seeds, on the held-out set like its training data (the paper's setting)."""
    transfer = tables["mcnn_transfer"]
    rows = transfer[(transfer["test_condition"] == test_set) & transfer["metric"].isin(PIXEL_METRICS)]
    trained = rows["train_condition"][rows["model"] != "tie"]
    if trained.nunique() > 1:
        named = rows["model"] + " (" + rows["train_condition"] + ")"
        rows = rows.assign(model=np.where(rows["model"] == "tie", "tie", named))
    wide = rows.pivot_table(index=["model", "seed"], columns="metric", values="value", aggfunc="mean").reset_index()
    out = with_replicates(mean_metrics(wide, "model"), wide, "model").rename(columns={"model": "method"})
    where = ("your stacks' held-out tiles, against their label" if test_set == user.TEST_SET
             else f"held-out {test_set} images")
    return out.assign(family="mcnn", setting=f"phase, {where}")


def budget_headline(config: dict, run: dict) -> dict:
    """A budget run is scored as the convergence study trains it, on the held-out set like its training data."""
    block = config["mcnn"]
    condition = block["convergence"]["condition"]
    return {"files": [paths.fill(paths.RUN_SCORES["mcnn"], condition=condition, **run)],
            "pairs": [[condition, in_distribution_set(block["datasets"], block["test_sets"])]], "reference": None}


FAMILY = register(Family(
    name="mcnn", title="MCNN", card=model_card, prepare=prepare, outputs=outputs, files=None, reimage=reimage,
    trust_cases=trust_cases,
    summary_tables=("mcnn_transfer",), summary_params=summary_params, headlines=headlines,
    cross_table="mcnn_transfer", budget_headline=budget_headline, run_scores=paths.RUN_SCORES["mcnn"],
))
