"""DespeckleNet on a researcher's files, as a lab records them: for each field, a through-focus stack
under the lamp (16-bit, ImageJ metadata) and one laser image through each diffuser (16-bit, bare),
listed in one sample sheet and run with `config/user.yaml`. The fields come from the virtual
microscope, whose exact phase the test keeps and no user has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml

from qpi.families import despeckle
from qpi.optics.imaging import Camera, Microscope
from qpi.optics.simulate import acquire
from test_user_data import run

SCOPE = Microscope(magnification=10, na=0.25, coherence=0.5)  # the demo's DespeckleNet microscope
DIFFUSERS = {"tape": 1.5, "petri": 3.0}  # label: correlation length (µm), as the demo's levels
FIELD_PX = 256
DZ_UM = 2.0


def record(folder, fields: int, diffusers: dict[str, float] = DIFFUSERS, seed: int = 0):
    """`fields` fields: a stack (−dz, 0, +dz) and a speckle image through each diffuser; the sheet naming
    them; the exact phase of each field (what only the test has). Confluent cells (20–30 a field), so
    that most tiles hold cells, as a lab chooses its fields."""
    phantom = {"kind": "hela", "params": {"n_cells": (20, 30)}, "absorption_ratio": 0.1}
    rows = ["name\tpath\tkind\tfield\tpixel_um\twavelength_um\tz_um\tdiffuser"]
    truths = {}
    for i in range(fields):
        rng = np.random.default_rng([seed, i])
        shape = (FIELD_PX * SCOPE.oversample,) * 2
        phase, amplitude = despeckle.specimen(phantom, shape, SCOPE, rng)
        stack, truth, _ = acquire(phase, amplitude, [-DZ_UM, 0, DZ_UM], SCOPE, Camera(bit_depth=16), rng)
        path = folder / f"field{i}.tif"
        tifffile.imwrite(path, stack.data, imagej=True, resolution=(1 / SCOPE.pixel_um,) * 2,
                         metadata={"unit": "um", "spacing": DZ_UM})
        rows.append(f"field{i}\t{path}\tstack\t\t\t{SCOPE.wavelength_um}\t{-DZ_UM:g},0,{DZ_UM:g}\t")
        truths[f"field{i}"] = truth
        for d, (label, correlation_um) in enumerate(diffusers.items()):
            diffuser = {"kind": "tape", "rms_rad": 3.0, "distance_um": 10.0, "thickness_um": 20.0, "layers": 4,
                        "correlation_um": correlation_um}
            image = despeckle.acquire({"t_phase": phase[None], "t_amplitude": amplitude[None]}, 1, SCOPE, diffuser,
                                      {"intensity": [0.7, 1.3], "angle_deg": [0.0, 3.0]}, 2000, [seed, i, d])
            speckle = folder / f"field{i}_{label}.tif"
            tifffile.imwrite(speckle, np.clip(image[0, 0] * 2000, 0, 65535).astype(np.uint16))  # counts, bare
            rows.append(f"field{i}_{label}\t{speckle}\tspeckle\tfield{i}\t{SCOPE.pixel_um}\t\t\t{label}")
    sheet = folder / "sheet.tsv"
    sheet.write_text("\n".join(rows) + "\n")
    return sheet, truths


def against_truth(results, diffuser: str, truths: dict[str, np.ndarray], models) -> dict[str, float]:
    """Phase RMSE (rad, tile means removed) against the exact phase on a diffuser's test tiles: of its own
    networks' predictions, of the TIE label they were trained on and of a flat phase (the trivial answer)."""
    from qpi.training.patches import load_dataset

    specimens = load_dataset(results / "despeckle" / diffuser / "specimens" / "test.npz")
    rows = yaml.safe_load((results / "despeckle" / diffuser / "specimens" / "test.json").read_text())["rows"]
    predictions = np.load(results / "despeckle" / diffuser / "eval" / "s0.npz")
    tile = specimens["tie"].shape[-1]
    exact = []
    for (y, x), r in zip(specimens["origin"].astype(int), specimens["row"].astype(int)):
        t = truths[rows[r].rsplit("_", 1)[0]][y : y + tile, x : x + tile]
        exact.append(t - t.mean())
    exact = np.asarray(exact)

    def rmse(phase):
        phase = phase - phase.mean(axis=(-2, -1), keepdims=True)
        return float(np.sqrt(np.mean((phase - exact) ** 2)))

    out = {"label": rmse(specimens["tie"][:, 0]), "zero": rmse(np.zeros_like(exact))}
    for model in models:
        out[model] = rmse(despeckle.outputs(predictions[despeckle.prediction_key(model, diffuser)])["phase"])
    return out


@pytest.mark.claims  # six 256² fields through two diffusers, 12 trainings of 200 steps: about 4 min on 2 cores
def test_despecklenet_trains_per_diffuser_and_pooled_on_a_labs_files(tmp_path):
    sheet, truths = record(tmp_path, 6)
    result = run(tmp_path, sheet, families=("srqpi", "despeckle", "contrans"))
    assert result.returncode == 0, result.stderr[-4000:]
    assert "DespeckleNet: skipped" not in result.stderr and "ContransGAN: skipped (the sample sheet has no lowres rows)" \
        in result.stderr
    tables = tmp_path / "results" / "tables"
    table = pd.read_csv(tables / "despeckle_correlation.csv")
    models = ["despecklenet", "twin", "unet", "idiffnet"]
    trained = {(m, t, lv) for m, t, lv in zip(table["model"], table["train_condition"], table["level"])}
    assert trained == {(m, t, lv) for m in models for t, lv in
                       [("tape", "tape"), ("petri", "petri"), ("pooled", "tape"), ("pooled", "petri")]}
    assert table["ssim_phase"].notna().all() and table["ssim_phase_exact"].isna().all()  # no exact phase: none
    own = table[table["train_condition"] == table["level"]].set_index(["level", "model"])
    print(own[["ssim_intensity", "ssim_phase", "nrmse_phase"]].round(3).to_string())
    # every network learns from a lab's few fields (the simulated demo: phase SSIM 0.29–0.36)
    assert (own["ssim_intensity"] > 0.25).all() and (own["ssim_phase"] > 0.15).all(), own
    for diffuser in DIFFUSERS:
        errors = against_truth(tmp_path / "results", diffuser, truths, models)
        print(diffuser, {k: round(v, 3) for k, v in errors.items()})
        assert errors["label"] < 0.3  # the TIE label holds against the truth (0.25 rad measured)...
        assert all(errors[m] < errors["zero"] for m in models)  # ...and every network beats a flat phase
        # DespeckleNet holds its own against the baselines at this budget (not ahead: see the closing notes)
        best = max(own.loc[(diffuser, m), "ssim_phase"] for m in models if m != "despecklenet")
        assert own.loc[(diffuser, "despecklenet"), "ssim_phase"] > 0.7 * best
    summary = pd.read_csv(tables / "summary.csv")
    assert set(summary["family"]) == {"srqpi", "despeckle"}  # every family that ran, and only those
    assert (tmp_path / "results" / "figures" / "despeckle_examples.png").stat().st_size > 10_000  # the panel, drawn
    cross = pd.read_csv(tables / "despeckle_cross.csv")
    assert {"tape", "petri", "pooled"} == set(cross["train_condition"])
    assert {"tape", "petri"} == set(cross["test_condition"])
