"""`qpi predict`: apply a trained network of any family to a full field, as its model card says.

The card (`qpi.report.cards`) says what a network expects and gives. DL-SRQPI: one LR intensity image →
phase on a grid `upscale`× finer. MCNN: the planes at the card's z (a stack, or one file per plane in
z order; a stack with more planes gives the ones needed) → phase, and amplitude where trained.
DespeckleNet and its baselines: one speckle image → intensity and phase. ContransGAN: one low-NA
image, resampled onto the HR grid → the high-NA phase there. Inputs are scaled as in training
(`--normalise mean`: each plane over its mean, for raw camera counts; `none`: already relative to
the empty field), run tile by tile (`evaluate.tiled_predict`: tiles of the training size for a
network with instance or group norm, else large ones; `--tile` fixes the size) and written with
their pixel size: one phase image, or one TIFF page per named output.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from qpi import io

PIXEL_TOLERANCE = 0.02  # relative pixel-size mismatch accepted between an input file and the card
NORMALISE = ("mean", "none")
SRQPI_ARCHS = ("srqpi_unet", "srcnn")  # the networks a card-less (pre-card) model file may be
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
    family = card["family"]
    prepare = {"srqpi": _srqpi, "mcnn": _mcnn, "despeckle": _despeckle, "contrans": _contrans}[family]
    if family != "mcnn" and len(inputs) != 1:
        raise io.StackError(f"{io.path_names(inputs)}: a {family} network takes one image; give one file.")
    x, factor, out_pixel = prepare(card, inputs, z_um, pixel_um, normalise == "mean")
    spec = card["inputs"]
    size = tile or spec.get("tile_px", 64)
    overlap = default_overlap(size) if tile else spec.get("overlap_px", default_overlap(size))
    try:
        dev = select_device(device)
    except DeviceError as err:
        raise io.StackError(f"--device {device}: {err}.") from None
    y = tiled_predict(model.to(dev), x, factor, size, overlap, device=dev, log=progress, grow=tile is None)
    images = _outputs(family, y[None] if y.ndim == 2 else y, card)
    where = {"pixel_um": out_pixel or 1.0, "model": str(model_path), "family": family,
             "source": io.path_names(inputs)}
    if len(images) == 1:
        (name, image), = images.items()
        io.write_image(output, image, kind=f"predicted {name}", **where)
    else:
        io.write_channels(output, images, kind="predicted " + " and ".join(images), **where)
    return images


def _load(model_path: Path):
    """The network and its card; a card-less DL-SRQPI model file gets the DL-SRQPI card it implies."""
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
        channels = (model.config.get("in_channels", 1), model.config.get("out_channels", 1))
        if model.registry_name not in SRQPI_ARCHS or channels != (1, 1):
            raise io.StackError(
                f"{model_path}: a {model.registry_name} model with {channels[0]} input and {channels[1]} output "
                "channels saved without a model card, so what its inputs and outputs are is unknown; re-run its "
                "training job (it writes a card), or apply DL-SRQPI models (one LR intensity in, phase out)."
            ) from err
        return model, {"family": "srqpi", "inputs": {"pixel_um": None},
                       "outputs": {"upscale": int(model.config.get("upscale", 1))}}


def _srqpi(card, inputs, z_um, pixel_um, normalise):
    image, pixel = _image(inputs[0], card, pixel_um)
    factor = int(card["outputs"]["upscale"])
    return _relative(image, normalise), factor, pixel and pixel / factor


def _mcnn(card, inputs, z_um, pixel_um, normalise):
    from qpi.families.mcnn import network_input

    spec = card["inputs"]
    wanted = [c["z_um"] for c in spec["channels"]]
    stack = io.read_stack(inputs[0] if len(inputs) == 1 else inputs, z_um=z_um, pixel_um=pixel_um,
                          require_focus=False, fallback={"wavelength_um": spec.get("wavelength_um"),
                                                         "pixel_um": spec.get("pixel_um")})
    _check_pixel(io.path_names(inputs), stack.pixel_um, spec.get("pixel_um"))
    try:
        return network_input(_relative(stack.data, normalise), stack.z_um, wanted), 1, stack.pixel_um
    except ValueError:
        raise io.StackError(f"{io.path_names(inputs)}: the network needs the planes at z = {io.format_z(wanted)} µm, "
                            f"the input has z = {io.format_z(stack.z_um)} µm; give a stack holding them (or --z-um "
                            "if the files' z are wrong).") from None


def _despeckle(card, inputs, z_um, pixel_um, normalise):
    from qpi.families.despeckle import network_input

    image, pixel = _image(inputs[0], card, pixel_um)
    return network_input(_relative(image, normalise), card["inputs"]["power"])[None], 1, pixel


def _contrans(card, inputs, z_um, pixel_um, normalise):
    from qpi.families.contrans import onto_hr_grid

    image, pixel = _image(inputs[0], card, pixel_um)
    hr_pixel = card["outputs"]["channels"][0]["pixel_um"]
    try:
        x = onto_hr_grid(_relative(image, normalise), card["inputs"]["pixel_um"] / hr_pixel)
    except ValueError as err:
        raise io.StackError(f"{inputs[0]}: {err}") from None
    return x, 1, hr_pixel


def _relative(image: np.ndarray, normalise: bool) -> np.ndarray:
    """Each plane over its mean (`--normalise mean`: raw counts → relative to the field), or as given."""
    return image / image.mean(axis=(-2, -1), keepdims=True) if normalise else image


def _image(path: Path, card: dict, pixel_um: float | None) -> tuple[np.ndarray, float | None]:
    """One 2-D input image and its pixel size (the file's, `pixel_um`, else the card's), checked."""
    image, meta = io.read_image(path)
    if not np.isfinite(image).all() or min(image.shape) < 8:
        raise io.StackError(f"{path}: a {image.shape[0]}×{image.shape[1]} image with "
                            f"{int((~np.isfinite(image)).sum())} non-finite pixels; give a finite image of at "
                            "least 8×8 pixels.")
    expected = card["inputs"].get("pixel_um")
    pixel = pixel_um or meta.get("pixel_um") or expected
    _check_pixel(str(path), pixel, expected)
    return image, pixel


def _check_pixel(where: str, found: float | None, expected: float | None) -> None:
    if found and expected and abs(found / expected - 1) > PIXEL_TOLERANCE:
        raise io.StackError(f"{where}: pixels of {found:g} µm, but the network was trained on {expected:g} µm "
                            f"pixels; resample the image to {expected:g} µm (or give --pixel-um if the file's "
                            "calibration is wrong).")


def _outputs(family: str, y: np.ndarray, card: dict) -> dict[str, np.ndarray]:
    """Named output images from the network's output channels (C', H, W), in the card's quantities."""
    if family == "despeckle":
        from qpi.families.despeckle import outputs

        return {k: v[0] for k, v in outputs(y[None]).items()}
    names = [c["quantity"] for c in card["outputs"].get("channels", [{"quantity": "phase"}])]
    if len(names) != len(y):
        raise io.StackError(f"the network gives {len(y)} channels where its card names {names}; the model file is "
                            "inconsistent: re-run its training job.")
    if family == "mcnn":
        from qpi.families.mcnn import network_output

        y = network_output(y[None])[0]
    return dict(zip(names, y))
