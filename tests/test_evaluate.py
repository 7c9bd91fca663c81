"""Full-field tiled inference, scoring and `qpi predict`."""

import numpy as np
import pandas as pd
import pytest
import torch

from qpi import evaluate, io, models, scores, srqpi
from qpi.checkpoints import save_model
from qpi.cli import main
from qpi.patches import edge_fraction, extract_pairs, grid, paired_dataset, split_fields


@pytest.mark.parametrize("shape", [(40, 40), (37, 53), (16, 20)])
def test_tiled_prediction_equals_whole_image_prediction_of_a_pointwise_model(shape):
    """Blending must be exact: for a model without spatial context, tiles reassemble the whole."""
    upsample = torch.nn.Upsample(scale_factor=4, mode="nearest")
    lr = np.random.default_rng(0).random(shape, dtype=np.float32)
    tiled = evaluate.tiled_predict(upsample, lr, factor=4, tile=16, overlap=4)
    whole = upsample(torch.from_numpy(lr)[None, None])[0, 0].numpy()
    assert tiled.shape == (shape[0] * 4, shape[1] * 4)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


def test_blending_ramp_is_positive_and_symmetric():
    w = evaluate.ramp(32, 8)
    assert (w > 0).all() and np.allclose(w, w[::-1]) and w[16] == 1


def test_score_rows_skip_missing_references_and_remove_piston():
    truth = np.random.default_rng(1).random((32, 32))
    rows = scores.wide(pd.DataFrame(srqpi.score(truth + 5.0, {"exact": truth, "tie": None}, model="m")))
    assert len(rows) == 1 and rows.loc[0, "reference"] == "exact" and rows.loc[0, "model"] == "m"
    assert rows.loc[0, "ssim"] == pytest.approx(1.0) and rows.loc[0, "mae"] == pytest.approx(0.0, abs=1e-12)


def test_qpi_predict_writes_a_phase_image_four_times_larger(tmp_path):
    torch.manual_seed(0)
    model = models.build("srqpi_unet", upscale=4, width=2, depth=2)
    save_model(tmp_path / "model.pt", model)
    io.write_image(tmp_path / "lr.tif", 1 + 0.1 * np.random.default_rng(2).random((30, 22), dtype=np.float32),
                   pixel_um=0.65)
    status = main(["predict", "--model", str(tmp_path / "model.pt"), str(tmp_path / "lr.tif"),
                   "-o", str(tmp_path / "phase.tif"), "--tile", "16"])
    phase, meta = io.read_image(tmp_path / "phase.tif")
    assert status == 0 and phase.shape == (120, 88) and np.isfinite(phase).all()
    assert meta["pixel_um"] == pytest.approx(0.65 / 4)


def test_splits_are_disjoint_reproducible_and_cover_every_field():
    names = [f"f{i}" for i in range(20)]
    split = split_fields(names, val=0.15, test=0.2, seed=3)
    assert split == split_fields(list(reversed(names)), val=0.15, test=0.2, seed=3)
    assert sorted(split) == sorted(names)
    counts = {part: list(split.values()).count(part) for part in ("train", "val", "test")}
    assert counts == {"train": 13, "val": 3, "test": 4}
    with pytest.raises(ValueError, match="too few"):
        split_fields(["a", "b"], val=0.5, test=0.5, seed=0)


def test_patch_pairs_are_aligned_and_cover_the_image():
    assert grid(10, 4, 3) == [0, 3, 6]
    assert grid(11, 4, 3) == [0, 3, 6, 7]
    lr = np.arange(64.0).reshape(8, 8)
    hr = np.kron(lr, np.ones((2, 2)))  # each LR pixel repeated 2×2
    lr_p, hr_p, origins = extract_pairs(lr, hr, factor=2, lr_size=4, stride=2)
    assert lr_p.shape == (9, 4, 4) and hr_p.shape == (9, 8, 8)
    for a, b in zip(lr_p, hr_p):
        np.testing.assert_array_equal(b[::2, ::2], a)


def test_empty_patches_are_dropped_and_no_field_spans_two_splits():
    rng = np.random.default_rng(4)
    busy = rng.random((64, 64))  # HR phase full of edges
    flat = np.zeros((64, 64))
    fields = {"busy": (rng.random((16, 16)), busy), "flat": (rng.random((16, 16)), flat),
              "held": (rng.random((16, 16)), busy)}
    split = {"busy": "train", "flat": "train", "held": "val"}
    arrays, info = paired_dataset(fields, split, factor=4, lr_size=8, stride=8, min_edge=0.05)
    assert arrays["x_train"].shape == (4, 1, 8, 8) and arrays["y_train"].shape == (4, 1, 32, 32)
    assert info["splits"]["train"]["dropped"] == 4 and info["splits"]["val"]["patches"] == 4
    assert info["splits"]["train"]["fields"] == ["busy", "flat"] and info["splits"]["val"]["fields"] == ["held"]
    assert edge_fraction(flat[None], 0.02)[0] == 0


@pytest.mark.parametrize("content", ["other family", "two-channel U-Net", "not a model", "a tensor"])
def test_qpi_predict_refuses_a_model_it_cannot_apply_with_one_clear_error(tmp_path, capsys, content):
    """A DespeckleNet's (or its U-Net baseline's) first output channel is intensity: written as phase
    it would be silently wrong."""
    if content == "other family":
        save_model(tmp_path / "model.pt", models.build("despecklenet", channels=(4, 8)))
    elif content == "two-channel U-Net":
        save_model(tmp_path / "model.pt", models.build("srqpi_unet", upscale=1, out_channels=2, width=2, depth=2))
    elif content == "a tensor":
        torch.save(torch.zeros(3), tmp_path / "model.pt")
    else:
        (tmp_path / "model.pt").write_bytes(b"not a checkpoint")
    io.write_image(tmp_path / "lr.tif", np.ones((32, 32), dtype=np.float32), pixel_um=0.65)
    status = main(["predict", "--model", str(tmp_path / "model.pt"), str(tmp_path / "lr.tif"),
                   "-o", str(tmp_path / "phase.tif")])
    err = capsys.readouterr().err
    assert status == 1 and str(tmp_path / "model.pt") in err and len(err.strip().splitlines()) == 1
    expected = {"other family": "despecklenet model", "two-channel U-Net": "srqpi_unet model with 1 input and 2 output"}
    assert expected.get(content, "not a deep-qpi model file") in err
    assert not (tmp_path / "phase.tif").exists()
