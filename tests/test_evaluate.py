"""Full-field tiled inference, scoring and `qpi predict`."""

import numpy as np
import pandas as pd
import pytest
import torch

from qpi import io, models
from qpi.cli import main
from qpi.families import srqpi
from qpi.scoring import scores
from qpi.training import evaluate
from qpi.training.checkpoints import save_model
from qpi.training.patches import edge_fraction, extract_pairs, grid, paired_dataset, split_fields


@pytest.mark.parametrize("shape", [(40, 40), (37, 53), (16, 20)])
def test_tiled_prediction_equals_whole_image_prediction_of_a_pointwise_model(shape):
    """Blending must be exact: for a model without spatial context, tiles reassemble the whole."""
    upsample = torch.nn.Upsample(scale_factor=4, mode="nearest")
    lr = np.random.default_rng(0).random(shape, dtype=np.float32)
    tiled = evaluate.tiled_predict(upsample, lr, factor=4, tile=16, overlap=4)
    whole = upsample(torch.from_numpy(lr)[None, None])[0, 0].numpy()
    assert tiled.shape == (shape[0] * 4, shape[1] * 4)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


class _Recorder(torch.nn.Module):
    """A pointwise network that records the tiles it is given; with `norm`, an instance norm too."""

    def __init__(self, norm: bool, multiple: int = 1):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 1)
        self.norm = torch.nn.InstanceNorm2d(1) if norm else torch.nn.Identity()
        self.multiple, self.seen = multiple, []

    def forward(self, x):
        self.seen += [tuple(x.shape[-2:])] * len(x)
        return self.norm(self.conv(x))


@pytest.mark.parametrize("side,tile,overlap,largest,multiple", [(2048, 32, 8, 256, 16), (100, 32, 8, 256, 1),
                                                                 (1000, 64, 16, 300, 8), (20, 32, 8, 256, 4)])
def test_tile_side_covers_a_side_evenly_in_the_fewest_tiles(side, tile, overlap, largest, multiple):
    t = evaluate.tile_side(side, tile, overlap, largest, multiple)
    n = len(grid(max(side, t), t, t - overlap))
    fewest = max(1, -(-(side - overlap) // (largest // multiple * multiple - overlap)))
    assert t >= tile and t % multiple == 0 and t <= max(largest, tile) and n == fewest
    assert n * t <= max(side + n * (overlap + multiple), tile)  # hardly more than the side is computed


def test_a_network_that_ignores_the_tile_runs_on_few_large_tiles_and_one_with_instance_norm_on_its_own():
    """Large tiles cut the pixels computed twice (¼-tile overlaps cost 1.8×); an instance norm's
    statistics follow the field it sees, so that network keeps its training size."""
    field = np.random.default_rng(0).random((300, 500), dtype=np.float32)
    free, bound = _Recorder(norm=False, multiple=8), _Recorder(norm=True)
    tiled = evaluate.tiled_predict(free, field, factor=1, tile=32, overlap=8, largest_out=256)
    with torch.inference_mode():
        whole = free(torch.from_numpy(field)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    tiles = free.seen[:-1]  # the whole-field pass above is the last
    assert sum(h * w for h, w in tiles) <= 1.15 * field.size
    assert all(n % 8 == 0 and 32 <= n <= 256 for n in np.ravel(tiles))
    evaluate.tiled_predict(bound, field, factor=1, tile=32, overlap=8, largest_out=256)
    assert set(bound.seen) == {(32, 32)}
    evaluate.tiled_predict(free, field, factor=1, tile=32, overlap=8, grow=False)  # --tile: as given
    assert free.seen[-1] == (32, 32)


def test_blending_ramp_is_positive_and_symmetric():
    w = evaluate.ramp(32, 8)
    assert (w > 0).all() and np.allclose(w, w[::-1]) and w[16] == 1
    assert (w[:2] == evaluate.EDGE_WEIGHT).all() and (np.diff(w[:9]) >= 0).all()  # the padding's reach: ~0


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


def test_tiled_prediction_of_several_channels_and_of_a_field_smaller_than_a_tile():
    """(C, h, w) in, (C', h, w) out, blended exactly; a short side is mirror-padded to one tile."""
    torch.manual_seed(0)
    mix = torch.nn.Conv2d(2, 3, 1)
    image = np.random.default_rng(0).random((2, 37, 11), dtype=np.float32)
    tiled = evaluate.tiled_predict(mix, image, factor=1, tile=16, overlap=4)
    with torch.no_grad():
        whole = mix(torch.from_numpy(image)[None])[0].numpy()
    assert tiled.shape == (3, 37, 11)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def _carded_model(path, arch, card, **kwargs):
    """A tiny model saved with a hand-written model card (what training writes, in brief)."""
    torch.manual_seed(0)
    save_model(path, models.build(arch, **kwargs), meta={"card": {"model": arch, "condition": "c", "seed": 0, **card}})


def test_qpi_predict_refuses_an_image_of_another_pixel_size_in_one_sentence(tmp_path, capsys):
    card = {"family": "srqpi", "inputs": {"pixel_um": 0.65, "tile_px": 16, "overlap_px": 4},
            "outputs": {"upscale": 4, "channels": [{"quantity": "phase"}]}}
    _carded_model(tmp_path / "m.pt", "srqpi_unet", card, upscale=4, width=2, depth=2)
    io.write_image(tmp_path / "lr.tif", np.ones((32, 32), np.float32), pixel_um=0.325)
    status = main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "lr.tif"), "-o", str(tmp_path / "o.tif")])
    err = capsys.readouterr().err.strip()
    assert status == 1 and len(err.splitlines()) == 1 and "lr.tif: pixels of 0.325 µm" in err and "0.65 µm" in err
    assert not (tmp_path / "o.tif").exists()
    # the file's calibration overridden: it runs, on the LR grid × 4
    assert main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "lr.tif"), "-o", str(tmp_path / "o.tif"),
                 "--pixel-um", "0.65"]) == 0
    assert io.read_image(tmp_path / "o.tif")[0].shape == (128, 128)


def test_qpi_predict_takes_an_mcnn_networks_planes_by_z_from_a_stack_or_plane_files(tmp_path, capsys):
    card = {"family": "mcnn", "inputs": {"channels": [{"quantity": "intensity", "z_um": z} for z in (-2.0, 2.0)],
                                         "pixel_um": 0.5, "wavelength_um": 0.55, "tile_px": 16, "overlap_px": 4},
            "outputs": {"channels": [{"quantity": "phase"}, {"quantity": "amplitude"}]}}
    _carded_model(tmp_path / "m.pt", "mcnn", card, in_channels=2, out_channels=2, width=4, depth=2, heads=1)
    planes = 1 + 0.1 * np.random.default_rng(1).random((3, 24, 24), dtype=np.float32)
    io.write_stack(tmp_path / "s.tif", io.Stack(data=planes, z_um=np.array([-2.0, 0.0, 2.0]), wavelength_um=0.55,
                                                pixel_um=0.5), dtype="float32")
    assert main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "s.tif"), "-o", str(tmp_path / "a.tif"),
                 "--normalise", "none"]) == 0
    images, meta = io.read_channels(tmp_path / "a.tif")
    assert list(images) == ["phase", "amplitude"] and images["phase"].shape == (24, 24) and meta["pixel_um"] == 0.5
    for z, plane in zip((-2, 2), planes[[0, 2]]):  # the same two planes as files, z given on the command line
        io.write_image(tmp_path / f"p{z}.tif", plane, pixel_um=0.5)
    assert main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "p-2.tif"), str(tmp_path / "p2.tif"),
                 "-o", str(tmp_path / "b.tif"), "--normalise", "none", "--z-um=-2,2"]) == 0
    np.testing.assert_array_equal(io.read_channels(tmp_path / "b.tif")[0]["phase"], images["phase"])
    capsys.readouterr()
    status = main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "p-2.tif"), str(tmp_path / "p2.tif"),
                   "-o", str(tmp_path / "c.tif"), "--z-um=-2,1"])
    err = capsys.readouterr().err.strip()
    assert status == 1 and len(err.splitlines()) == 1 and "needs the planes at z = [-2, 2] µm, the input has z = [-2, 1] µm" in err
    assert not (tmp_path / "c.tif").exists()


def test_qpi_predict_on_a_missing_cuda_is_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    save_model(tmp_path / "model.pt", models.build("srqpi_unet", upscale=4, width=2, depth=2))
    io.write_image(tmp_path / "lr.tif", np.ones((32, 32), dtype=np.float32), pixel_um=0.65)
    status = main(["predict", "--model", str(tmp_path / "model.pt"), str(tmp_path / "lr.tif"), "-o",
                   str(tmp_path / "phase.tif"), "--device", "cuda"])
    err = capsys.readouterr().err
    assert status == 1 and "--device cuda" in err and "CUDA is not available" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "phase.tif").exists()


def test_a_field_of_several_grown_tiles_equals_one_pass_and_shows_no_seam():
    """A U-Net (no instance norm: its output ignores the tile but for the zero padding's reach) over a field
    of 3×3 tiles: within 1 % of the output's range of one pass everywhere, and no step along the seams."""
    torch.manual_seed(0)
    model = models.build("srqpi_unet", upscale=4, width=4, depth=3).eval()
    from scipy import ndimage

    field = (1 + 0.1 * ndimage.gaussian_filter(np.random.default_rng(3).standard_normal((160, 160)), 1.5)).astype(np.float32)
    one = evaluate.tiled_predict(model, field, factor=4, tile=32, overlap=8, largest_out=1024)
    tiled = evaluate.tiled_predict(model, field, factor=4, tile=32, overlap=8, largest_out=256)
    assert np.abs(tiled - one).max() < 0.01 * np.ptp(one)
    step = np.abs(np.diff(tiled - one, axis=1)).mean(axis=0)  # a seam: a column where the difference jumps
    assert step.max() < 0.002 * np.ptp(one)
