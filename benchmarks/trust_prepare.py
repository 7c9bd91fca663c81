"""`qpi predict` on raw camera counts of a large field: how its input preparation moves the answer, and
what the trust pages cost (issue 29's acceptance case).

The case: `qpi simulate --specimen hela --field-px 2048 --z-um=0,2 --seed 3` (the same draws, through
the library, so the camera's illumination is known), the +2 µm plane binned 4×4 on the camera (summed
counts, uint16, no calibration in the file, as a camera writes it), given with `--pixel-um 0.65` to
the demo's DL-SRQPI U-Net. Scored against the exact phase (median piston removed), as
`qpi.scoring.metrics`. Preparations: the field mean only (what `qpi predict` did before: emulated with
a uniform empty field), the default (the smooth illumination estimated from the image), and `--flat`
with the simulated camera's illumination. Timings on this machine's CPU: plain, and `--uncertainty`
with the given seeds.

    .venv/bin/python benchmarks/trust_prepare.py results/srqpi/z2/models/unet_s0/best.pt \
        results/srqpi/z2/models/unet_s1/best.pt -o benchmarks/trust_prepare.json
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from qpi.families.card import Given
from qpi.optics.binning import bin_pixels
from qpi.optics.imaging import Camera, Microscope, expose, image_stack
from qpi.optics.phantoms import make_phantom
from qpi.predict import apply
from qpi.scoring import metrics


def simulate(field_px: int, seed: int, binning: int, folder: Path) -> tuple[Path, Path, np.ndarray]:
    """The binned raw +2 µm plane, an empty field of the same camera, and the exact phase."""
    scope, rng = Microscope(), np.random.default_rng(seed)
    n = field_px * scope.oversample
    phase, amplitude = make_phantom("hela", (n, n), scope.sim_pixel_um, scope.wavelength_um, rng)
    intensity = image_stack(amplitude * np.exp(1j * phase), np.array([0.0, 2.0]), scope, workers=-1)
    counts, illumination, gains = expose(intensity, Camera(), rng, scope.oversample)
    side = field_px // binning
    binned = counts[1].astype(np.int64).reshape(side, binning, side, binning).sum(axis=(1, 3))
    lr, flat = folder / "plus2_bin4.tif", folder / "empty_field.tif"
    tifffile.imwrite(lr, binned.astype(np.uint16))
    tifffile.imwrite(flat, (40_000 * bin_pixels(illumination, binning) / illumination.max()).astype(np.uint16))
    return lr, flat, bin_pixels(phase, scope.oversample)


def scores(prediction: np.ndarray, truth: np.ndarray) -> dict:
    a, b = prediction - np.nanmedian(prediction), truth - np.median(truth)
    return {"ssim": round(metrics.ssim(a, b), 4), "rmse_rad": round(float(np.sqrt(np.mean((a - b) ** 2))), 4)}


def floor(model: Path, lr: Path, truth: np.ndarray) -> float:
    """The consistency of the exact phase through the default preparation: what noise, the unit-amplitude
    assumption and the forward model's coarser grid leave unexplained of a right answer."""
    from qpi.families import get
    from qpi.training.checkpoints import read_card
    from qpi.trust import consistency

    card = read_card(model)
    family = get("srqpi")
    prepared = family.prepare(card, [lr], Given(pixel_um=0.65))
    return round(consistency.residual(family.reimage(card, prepared, {"phase": truth}))[1], 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--field-px", type=int, default=2048)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = {"case": f"hela {args.field_px}² seed 3, +2 µm plane binned 4× (uint16 sums), --pixel-um 0.65",
           "models": [str(m) for m in args.models]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lr, flat, truth = simulate(args.field_px, 3, 4, tmp)
        uniform = tmp / "uniform.tif"
        tifffile.imwrite(uniform, np.full(tifffile.imread(lr).shape, 1000, np.uint16))
        runs = {"field mean only (before)": Given(pixel_um=0.65, flat=uniform),
                "default: illumination estimated": Given(pixel_um=0.65),
                "--flat (measured empty field)": Given(pixel_um=0.65, flat=flat)}
        for name, given in runs.items():
            start = time.perf_counter()
            result = apply(args.models[0], [lr], tmp / "out.tif", device="cpu", given=given, progress=None)
            out[name] = {**scores(result.images["phase"], truth), "seconds": round(time.perf_counter() - start, 1),
                         "consistency": round(result.trust["consistency"], 3),
                         "ood": result.trust["ood"] and round(result.trust["ood"], 2)}
        out["exact phase re-imaged (the consistency floor)"] = floor(args.models[0], lr, truth)
        start = time.perf_counter()
        result = apply(args.models, [lr], tmp / "out.tif", device="cpu", given=Given(pixel_um=0.65), uncertainty=True,
                       progress=None)
        seconds = time.perf_counter() - start
        error = np.abs((result.images["phase"] - np.nanmedian(result.images["phase"])) - (truth - np.median(truth)))
        sigma = result.uncertainty["phase"]
        out["--uncertainty"] = {**scores(result.images["phase"], truth), "seconds": round(seconds, 1),
                                "ratio_to_plain": round(seconds / out["default: illumination estimated"]["seconds"], 1),
                                "samples": result.trust["samples"], "mean_sigma_rad": round(float(sigma.mean()), 4),
                                "within_2_sigma": round(float(np.mean(error <= 2 * sigma)), 3)}
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
