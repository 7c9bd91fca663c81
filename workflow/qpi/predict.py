"""`qpi predict`: apply trained networks of any family to a full field, as their model card says, and
say how far to trust the result.

The card (`qpi.report.cards`) says what a network expects and gives; its family (`qpi.families`)
prepares the user's files as training prepared its inputs (`Family.prepare`: planes, resampling,
the smooth illumination divided out as training had it, scaling, the field stop) and names the
outputs (`Family.outputs`); each value it took from the card rather than the files, and each one it
estimated, is logged and written into the output's metadata. Inputs run tile by tile
(`evaluate.tiled_predict`). Beside the outputs (`qpi.trust`):

- uncertainty (`--uncertainty`): the spread of every given network (a model's seeds) over the eight
  dihedral transforms of the input, one "<quantity> uncertainty" page per output (σ);
- consistency: the prediction re-imaged through the family's forward model against the input, a
  "consistency residual" page and one number (DespeckleNet has no forward model: it says so);
- out-of-distribution: the input against the card's summary of the training inputs, one number and
  the features that differ.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qpi import families, io
from qpi.families.card import Given, Prepared

NORMALISE = ("mean", "none")
OOD_WARNING = 1.0  # an input scoring above this lies outside the training inputs (`qpi.trust.ood`)
MODEL_FILES = ("best.pt", "generator.pt")  # what a run folder's trainings write
log = logging.getLogger("qpi.predict")


@dataclass
class Result:
    """A prediction and what says how far to trust it."""

    images: dict[str, np.ndarray]  # the outputs by quantity (ensemble means)
    uncertainty: dict[str, np.ndarray] = field(default_factory=dict)  # σ by quantity (with --uncertainty)
    residual: np.ndarray | None = None  # consistency residual on the output grid
    trust: dict = field(default_factory=dict)  # numbers and notes written into the output's metadata


def apply(model_paths: list[Path] | Path, inputs: list[Path], output: Path, device: str = "auto",
          tile: int | None = None, given: Given | None = None, uncertainty: bool = False,
          progress: logging.Logger | None = log) -> Result:
    """Apply the networks in `model_paths` (model files or run folders; several: their mean) to the
    image(s) `inputs`, write `output` with its trust pages; return the result."""
    from qpi.core.device import DeviceError, select_device
    from qpi.training.evaluate import default_overlap, tiled_predict
    from qpi.trust import uncertainty as spread

    given = given or Given()
    loaded = [_load(p) for p in model_files(model_paths)]
    model_card = same_kind(loaded)
    try:
        family = families.get(model_card["family"])
    except ValueError as err:
        raise io.StackError(f"{loaded[0][2]}: {err}; use the deep-qpi that trained it.") from None
    if family.files is not None and len(inputs) != family.files:
        count = f"{family.files} image{'s' * (family.files != 1)}"
        raise io.StackError(f"{io.path_names(inputs)}: a {family.name} network takes {count}; give {count}.")
    prepared = family.prepare(model_card, inputs, given)
    for note in prepared.notes:
        log.warning("%s", note)
    spec = model_card["inputs"]
    size = tile or spec.get("tile_px", 64)
    overlap = default_overlap(size) if tile else spec.get("overlap_px", default_overlap(size))
    try:
        dev = select_device(device)
    except DeviceError as err:
        raise io.StackError(f"--device {device}: {err}.") from None

    def predictor(model, shown):
        model = model.to(dev)
        return lambda x: tiled_predict(model, x, prepared.factor, size, overlap, device=dev,
                                       log=progress if shown else None, grow=tile is None)

    transforms = spread.DIHEDRAL if uncertainty else spread.IDENTITY
    predictors = [predictor(model, i == 0) for i, (model, _, _) in enumerate(loaded)]
    named = spread.ensemble(predictors, prepared.x, lambda y: family.outputs(y, model_card), transforms)
    count = len(predictors) * len(transforms)
    result = Result({name: _outside(mean, prepared) for name, (mean, _) in named.items()})
    if count > 1:
        result.uncertainty = {name: _outside(sigma, prepared) for name, (_, sigma) in named.items()}
    result.trust = {"models": [str(path) for _, _, path in loaded], "samples": count,
                    "assumed": prepared.notes, **_uncertainty_numbers(result)}
    result.trust.update(_consistency(family, model_card, prepared, result))
    result.trust.update(_ood(model_card, prepared))
    _write(output, result, prepared, family.name, inputs)
    return result


def model_files(paths: list[Path] | Path) -> list[Path]:
    """Model files from files and run folders (every `MODEL_FILES` below a folder)."""
    found = []
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        path = Path(path)
        if path.is_dir():
            inside = sorted(p for name in MODEL_FILES for p in path.rglob(name))
            if not inside:
                raise io.StackError(f"{path}: a folder with no trained model ({' or '.join(MODEL_FILES)}) in it; give "
                                    "a model file or a run folder, e.g. results/srqpi/z2/models.")
            found += inside
        else:
            found.append(path)
    return found


def same_kind(loaded: list) -> dict:
    """The card several networks share: one family, model and inputs, seeds apart; one sentence otherwise."""
    first = loaded[0][1]
    keys = ("family", "model", "condition", "inputs", "outputs")
    for _, card, path in loaded[1:]:
        differ = [k for k in keys if card.get(k) != first.get(k)]
        if differ:
            raise io.StackError(f"{path}: differs from {loaded[0][2]} in its {', '.join(differ)}; an ensemble is the "
                                "seeds of one model: give one kind's files (e.g. models/unet_s*/best.pt).")
    return first


def _on_output_grid(image: np.ndarray, prepared: Prepared) -> np.ndarray:
    """An image on the input's grid repeated onto the output's (`factor`× finer)."""
    return np.repeat(np.repeat(image, prepared.factor, 0), prepared.factor, 1)


def _outside(image: np.ndarray, prepared: Prepared) -> np.ndarray:
    """NaN outside a field stop's aperture, on the output grid."""
    if prepared.aperture is None:
        return image
    mask = _on_output_grid(prepared.aperture, prepared)[: image.shape[0], : image.shape[1]]
    return np.where(mask, image, np.nan).astype(np.float32)


def _uncertainty_numbers(result: Result) -> dict:
    if not result.uncertainty:
        return {}
    out = {f"{name}_sigma_mean": float(np.nanmean(s)) for name, s in result.uncertainty.items()}
    for name, value in out.items():
        log.info("uncertainty: mean σ of %s %.3g", name.removesuffix("_sigma_mean"), value)
    return out


def _consistency(family, model_card: dict, prepared: Prepared, result: Result) -> dict:
    """The consistency residual (page and number), or one line saying why there is none."""
    from qpi.trust import consistency

    found = consistency.check(family, model_card, prepared, result.images)
    if found.residual is None:
        (log.info if family.reimage is None else log.warning)("consistency: not checked: %s", found.note)
        return {"consistency": None, "consistency_note": found.note}
    result.residual = _outside(_on_output_grid(found.residual, prepared), prepared)
    value, mirrored = found.value, found.mirrored
    tells = "cannot tell" if mirrored is not None and abs(mirrored - value) < 0.05 else "hardly tells"
    sign = "" if mirrored is None else f"; −φ gives {mirrored:.2f}: an in-focus image {tells} the phase's sign"
    note = f" ({found.note})" if found.note else ""
    log.info("consistency: the prediction re-imaged leaves %.2f of the input's contrast unexplained (0 = all "
             "explained, 1 = no better than a flat phase)%s%s", value, sign, note)
    return {"consistency": value, "consistency_mirrored": mirrored, "consistency_note": found.note}


def _ood(model_card: dict, prepared: Prepared) -> dict:
    """The input's out-of-distribution score against the card's training inputs, warned when outside."""
    from qpi.trust import ood

    summary = model_card.get("training", {}).get("inputs")
    if not summary:
        log.info("out-of-distribution: not checked: the model card keeps no summary of its training inputs "
                 "(trained by a deep-qpi before trust checks)")
        return {"ood": None}
    x = prepared.x
    if prepared.aperture is not None:
        x = np.where(prepared.aperture, x, np.nan)
    value, differ = ood.score(x, summary)
    if value > OOD_WARNING:
        log.warning("out-of-distribution: the input lies outside the network's training inputs (score %.1f, above "
                    "%.0f): %s; treat the phase as unverified", value, OOD_WARNING,
                    "; ".join(differ) or "no single feature")
    else:
        log.info("out-of-distribution: the input is like the training inputs (score %.2f ≤ %.0f)", value, OOD_WARNING)
    return {"ood": value, "ood_differs": differ}


def _write(output: Path, result: Result, prepared: Prepared, family: str, inputs: list[Path]) -> None:
    pages = dict(result.images)
    pages.update({f"{name} uncertainty": s for name, s in result.uncertainty.items()})
    if result.residual is not None:
        pages["consistency residual"] = result.residual
    where = {"pixel_um": prepared.pixel_um or 1.0, "family": family, "source": io.path_names(inputs),
             **{k: v for k, v in result.trust.items() if v is not None}}
    if len(pages) == 1:
        (name, image), = pages.items()
        io.write_image(output, image, kind=f"predicted {name}", **where)
    else:
        io.write_channels(output, pages, kind="predicted " + " and ".join(result.images), **where)


def _load(model_path: Path):
    """The network, its card and its path; a card-less model file gets the card its family implies, where one does."""
    from qpi.training.checkpoints import card_from, model_from, read_model_file

    try:  # on the CPU first: a CUDA error later is not a bad file
        payload = read_model_file(model_path)
    except ValueError as err:
        raise io.StackError(f"{err}; give a best.pt or generator.pt that training "
                            "wrote, e.g. results/srqpi/z2/models/unet_s0/best.pt.") from err
    model = model_from(payload)
    try:
        return model, card_from(payload, model_path), model_path
    except ValueError as err:
        implied = [c for f in families.every() if f.implied_card and (c := f.implied_card(model))]
        if not implied:
            channels = (model.config.get("in_channels", 1), model.config.get("out_channels", 1))
            raise io.StackError(
                f"{model_path}: a {model.registry_name} model with {channels[0]} input and {channels[1]} output "
                "channels saved without a model card, so what its inputs and outputs are is unknown; re-run its "
                "training job (it writes a card), or apply DL-SRQPI models (one LR intensity in, phase out)."
            ) from err
        return model, implied[0], model_path
