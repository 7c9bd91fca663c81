"""`qpi predict`: apply a trained network of any family to a full field, as its model card says.

The card (`qpi.report.cards`) says what a network expects and gives; its family (`qpi.families`)
prepares the user's files as training prepared its inputs (`Family.prepare`: planes, resampling,
scaling) and names the outputs (`Family.outputs`). Inputs are scaled as in training (`--normalise
mean`: each plane over its mean, for raw camera counts; `none`: already relative to the empty field),
run tile by tile (`evaluate.tiled_predict`: tiles of the training size for a network with instance or
group norm, else large ones; `--tile` fixes the size) and written with their pixel size: one phase
image, or one TIFF page per named output.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from qpi import families, io

NORMALISE = ("mean", "none")
log = logging.getLogger("qpi.predict")


def apply(model_path: Path, inputs: list[Path], output: Path, device: str = "auto", tile: int | None = None,
          z_um: list[float] | None = None, pixel_um: float | None = None, normalise: str = "mean",
          progress: logging.Logger | None = log) -> dict[str, np.ndarray]:
    """Apply the network in `model_path` to the image(s) `inputs`, write `output`; return its images."""
    from qpi.core.device import DeviceError, select_device
    from qpi.training.evaluate import default_overlap, tiled_predict

    if normalise not in NORMALISE:
        raise ValueError(f"normalise must be one of {NORMALISE}, got {normalise!r}")
    model, card = _load(model_path)
    try:
        family = families.get(card["family"])
    except ValueError as err:
        raise io.StackError(f"{model_path}: {err}; use the deep-qpi that trained it.") from None
    if family.files is not None and len(inputs) != family.files:
        count = f"{family.files} image{'s' * (family.files != 1)}"
        raise io.StackError(f"{io.path_names(inputs)}: a {family.name} network takes {count}; give {count}.")
    x, factor, out_pixel = family.prepare(card, inputs, z_um, pixel_um, normalise == "mean")
    spec = card["inputs"]
    size = tile or spec.get("tile_px", 64)
    overlap = default_overlap(size) if tile else spec.get("overlap_px", default_overlap(size))
    try:
        dev = select_device(device)
    except DeviceError as err:
        raise io.StackError(f"--device {device}: {err}.") from None
    y = tiled_predict(model.to(dev), x, factor, size, overlap, device=dev, log=progress, grow=tile is None)
    images = family.outputs(y[None] if y.ndim == 2 else y, card)
    where = {"pixel_um": out_pixel or 1.0, "model": str(model_path), "family": family.name,
             "source": io.path_names(inputs)}
    if len(images) == 1:
        (name, image), = images.items()
        io.write_image(output, image, kind=f"predicted {name}", **where)
    else:
        io.write_channels(output, images, kind="predicted " + " and ".join(images), **where)
    return images


def _load(model_path: Path):
    """The network and its card; a card-less model file gets the card its family implies, where one does."""
    from qpi.training.checkpoints import card_from, model_from, read_model_file

    try:  # on the CPU first: a CUDA error later is not a bad file
        payload = read_model_file(model_path)
    except ValueError as err:
        raise io.StackError(f"{err}; give a best.pt or generator.pt that training "
                            "wrote, e.g. results/srqpi/z2/models/unet_s0/best.pt.") from err
    model = model_from(payload)
    try:
        return model, card_from(payload, model_path)
    except ValueError as err:
        implied = [c for f in families.every() if f.implied_card and (c := f.implied_card(model))]
        if not implied:
            channels = (model.config.get("in_channels", 1), model.config.get("out_channels", 1))
            raise io.StackError(
                f"{model_path}: a {model.registry_name} model with {channels[0]} input and {channels[1]} output "
                "channels saved without a model card, so what its inputs and outputs are is unknown; re-run its "
                "training job (it writes a card), or apply DL-SRQPI models (one LR intensity in, phase out)."
            ) from err
        return model, implied[0]
