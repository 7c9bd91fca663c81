"""Trust signs of a prediction (`qpi.trust`, `qpi predict`): input preparation as training had it,
uncertainty, physics consistency against analytic and simulated answers, out-of-distribution scores."""

import logging

import numpy as np
import pytest
import tifffile
import torch
from toys import train_config

from qpi import io, models
from qpi.cli import main
from qpi.families import card as cards
from qpi.families.srqpi import family as srqpi_family
from qpi.optics.binning import bin_pixels
from qpi.optics.imaging import Microscope, camera_intensity, illumination_profile
from qpi.optics.phantoms import make_phantom
from qpi.predict import Result, apply
from qpi.tie.brightness import illumination_surface
from qpi.training.checkpoints import complete_card, save_model
from qpi.trust import consistency, ood, uncertainty


@pytest.mark.parametrize("turns, flip", uncertainty.DIHEDRAL)
def test_each_dihedral_transform_is_undone_on_a_non_square_image(turns, flip):
    a = np.arange(2 * 5 * 7, dtype=float).reshape(2, 5, 7)
    np.testing.assert_array_equal(uncertainty.untransform(uncertainty.transform(a, turns, flip), turns, flip), a)
    assert len(set(uncertainty.DIHEDRAL)) == 8


def test_an_equivariant_predictor_has_no_spread_and_one_that_is_not_has_some():
    x = np.random.default_rng(0).random((1, 12, 16))
    blur = lambda a: (a + np.roll(a, 1, -1) + np.roll(a, -1, -1) + np.roll(a, 1, -2) + np.roll(a, -1, -2)) / 5  # noqa: E731
    mean, sigma = uncertainty.spread([s[0] for s in uncertainty.samples([blur], x)])
    np.testing.assert_allclose(sigma, 0, atol=1e-12) and np.testing.assert_allclose(mean, blur(x)[0], atol=1e-6)
    shifted = lambda a: np.roll(a, 1, -1)  # noqa: E731  (not equivariant to turns and flips)
    assert uncertainty.spread([s[0] for s in uncertainty.samples([shifted], x)])[1].mean() > 0.1


def test_a_phase_piston_between_ensemble_members_is_not_uncertainty():
    phase = np.random.default_rng(1).random((8, 8))
    mean, sigma = uncertainty.spread([phase, phase + 3.0, phase - 1.0], piston=True)
    np.testing.assert_allclose(sigma, 0, atol=1e-6) and np.testing.assert_allclose(mean, phase, atol=1e-6)
    assert uncertainty.spread([phase, phase + 3.0])[1].mean() == pytest.approx(1.5)


def test_an_input_unlike_the_training_inputs_scores_above_one_and_names_what_differs():
    rng = np.random.default_rng(2)
    train = 1 + 0.05 * rng.standard_normal((500, 1, 16, 16))
    summary = ood.summarise(train)
    assert summary["tile_px"] == 16 and summary["tiles"] == 500 and len(summary["median"]) == len(ood.FEATURES)
    alike, differ = ood.score(1 + 0.05 * rng.standard_normal((1, 128, 96)), summary)
    assert alike < 1 and differ == []
    brighter, differ = ood.score(1 + 0.2 * rng.standard_normal((1, 128, 96)), summary)
    assert brighter > 3 and any(d.startswith("contrast higher") for d in differ)
    from scipy import ndimage
    smooth, differ = ood.score(1 + ndimage.gaussian_filter(rng.standard_normal((1, 128, 96)), (0, 3, 3)), summary)
    assert smooth > 1 and any(d.startswith("fine lower") for d in differ)


def test_ood_tiles_leave_out_what_lies_outside_a_field_stop():
    x = np.ones((1, 40, 40))
    x[:, :, 30:] = np.nan
    tiles = ood.tiles_of(x, 16)
    assert tiles.shape == (3, 1, 16, 16) and np.isfinite(tiles).all()  # the left column's three: the rest hold NaN


def test_the_illumination_surface_of_one_simulated_defocused_field_is_its_true_illumination():
    """The simulator's camera illumination (vignetting + tilt), estimated from one defocused HeLa image."""
    scope, rng = Microscope(), np.random.default_rng(3)
    n = 192
    phase, amplitude = make_phantom("hela", (n * 2, n * 2), scope.sim_pixel_um, scope.wavelength_um, rng)
    image = camera_intensity(amplitude * np.exp(1j * phase), np.array([2.0]), scope)[0]
    truth = illumination_profile((n, n), 0.15, rng)
    surface = illumination_surface(image * truth)
    assert np.abs(surface / truth - 1).max() < 0.03  # the 15 % fall-off to within 3 %
    assert np.ptp(illumination_surface(image)) < 0.03  # and little where there is none
    assert np.ptp(illumination_surface(1 + 0.05 * rng.standard_normal((64, 64)))) == 0  # noise: nothing to correct


def _srqpi_card(pixel_lr=0.65, z=2.0, factor=4):
    return {"family": "srqpi", "model": "unet", "condition": "z2",
            "inputs": {"channels": [{"quantity": "intensity", "defocus_um": z}], "binning": factor,
                       "pixel_um": pixel_lr, "wavelength_um": 0.55, "na": 0.65, "coherence": 0.3,
                       "illumination": "divided out",
                       "tile_px": 16, "overlap_px": 4},
            "outputs": {"channels": [{"quantity": "phase", "unit": "rad"}], "upscale": factor}}


def test_the_exact_phase_re_images_to_its_measured_input_and_a_wrong_one_does_not():
    """DL-SRQPI's forward model: the exact phase of a simulated HeLa field explains its binned defocused
    image; half of it, a flat phase or the exact one with its sign flipped, do not."""
    scope, rng = Microscope(), np.random.default_rng(4)
    n, factor = 128, 4
    phase, _ = make_phantom("hela", (n * 2, n * 2), scope.sim_pixel_um, scope.wavelength_um, rng)
    lr = bin_pixels(camera_intensity(np.exp(1j * phase), np.array([2.0]), scope)[0], factor)
    hr_phase = bin_pixels(phase, 2)
    prepared = cards.Prepared(x=(lr / lr.mean())[None].astype(np.float32), factor=factor,
                              pixel_um=scope.pixel_um, z_um=[2.0])

    def score(candidate):
        return consistency.residual(srqpi_family.reimage(_srqpi_card(), prepared, {"phase": candidate}))[1]

    exact, flat = score(hr_phase), score(np.zeros_like(hr_phase))
    assert exact < 0.15 and flat == pytest.approx(1.0, abs=0.05)
    assert score(0.5 * hr_phase) > 3 * exact and score(-hr_phase) > 1.5
    with pytest.raises(consistency.Unknown, match="names no na"):
        srqpi_family.reimage({**_srqpi_card(), "inputs": {"pixel_um": None, "wavelength_um": 0.55}}, prepared,
                             {"phase": hr_phase})


def test_a_defocus_or_pixel_taken_from_the_card_is_noted_and_one_far_from_it_refused(tmp_path):
    tifffile.imwrite(tmp_path / "plain.tif", np.ones((16, 16), np.uint16))  # a camera's file: no calibration
    read = cards.read_input(tmp_path / "plain.tif", _srqpi_card(), cards.Given())
    assert read.pixel_um == 0.65 and read.z_um == 2.0
    assert any("pixel size 0.65 µm assumed from the model card" in n for n in read.notes)
    assert any("defocus [2] µm assumed from the model card" in n for n in read.notes)
    assert cards.read_input(tmp_path / "plain.tif", _srqpi_card(), cards.Given(z_um=[2.1], pixel_um=0.65)).notes == []
    with pytest.raises(io.StackError, match=r"recorded at \+4 µm defocus, but the network was trained at \[2\] µm"):
        cards.read_input(tmp_path / "plain.tif", _srqpi_card(), cards.Given(z_um=[4.0]))


def _carded(path, seed, card=None, **kwargs):
    torch.manual_seed(seed)
    net = models.build("srqpi_unet", upscale=4, width=2, depth=2)
    full = complete_card(card or _srqpi_card(), train_config(seed=seed), "digest",
                         1 + 0.05 * np.random.default_rng(seed).standard_normal((64, 1, 16, 16)))
    save_model(path, net, {"card": full})
    return net.eval()


def _field_with_a_stop(rng, n=48):
    yy, xx = np.mgrid[:n, :n]
    stop = np.hypot(yy - n / 2, xx - n / 2) < 0.4 * n
    image = np.where(stop, 1000 * (1 + 0.05 * rng.standard_normal((n, n))), 3.0).astype(np.float32)
    return image, stop


def test_predict_with_two_seeds_writes_uncertainty_and_residual_pages_nan_outside_a_field_stop(tmp_path, caplog):
    caplog.set_level(logging.INFO, "qpi.predict")
    for seed in (0, 1):
        _carded(tmp_path / "runs" / f"unet_s{seed}" / "best.pt", seed)
    image, stop = _field_with_a_stop(np.random.default_rng(5))
    io.write_image(tmp_path / "lr.tif", image, pixel_um=0.65, defocus_um=2.0)
    result = apply(tmp_path / "runs", [tmp_path / "lr.tif"], tmp_path / "out.tif", device="cpu", uncertainty=True,
                   progress=None)
    assert isinstance(result, Result) and result.trust["samples"] == 16 and len(result.trust["models"]) == 2
    pages, meta = io.read_channels(tmp_path / "out.tif")
    assert list(pages) == ["phase", "phase uncertainty", "consistency residual"]
    outside = ~np.repeat(np.repeat(stop, 4, 0), 4, 1)
    for page in pages.values():
        assert page.shape == (192, 192) and np.isnan(page[outside]).all() and np.isfinite(page[~outside]).all()
    assert (pages["phase uncertainty"][~outside] > 0).all()
    assert meta["consistency"] > 0 and meta["ood"] > 0 and meta["phase_sigma_mean"] > 0
    assert any("a field stop found" in n for n in meta["assumed"])
    assert "consistency: the prediction re-imaged leaves" in caplog.text


def test_an_ensemble_of_two_different_models_is_one_sentence(tmp_path, capsys):
    _carded(tmp_path / "a.pt", 0)
    _carded(tmp_path / "b.pt", 1, {**_srqpi_card(), "model": "srcnn"})
    io.write_image(tmp_path / "lr.tif", np.ones((32, 32), np.float32), pixel_um=0.65)
    status = main(["predict", "--model", str(tmp_path / "a.pt"), "--model", str(tmp_path / "b.pt"),
                   str(tmp_path / "lr.tif"), "-o", str(tmp_path / "o.tif")])
    err = capsys.readouterr().err.strip()
    assert status == 1 and len(err.splitlines()) == 1 and "b.pt: differs from" in err and "in its model" in err
    assert not (tmp_path / "o.tif").exists()


def test_a_flat_field_image_is_divided_out_and_a_wrong_sized_one_refused(tmp_path, capsys):
    net = _carded(tmp_path / "m.pt", 0)
    rng = np.random.default_rng(6)
    specimen = (1 + 0.05 * rng.standard_normal((32, 32))).astype(np.float32)
    flat = np.linspace(600, 1400, 32, dtype=np.float32)[None].repeat(32, 0)
    io.write_image(tmp_path / "lr.tif", specimen * flat, pixel_um=0.65, defocus_um=2.0)
    tifffile.imwrite(tmp_path / "flat.tif", flat)
    assert main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "lr.tif"), "-o", str(tmp_path / "o.tif"),
                 "--flat", str(tmp_path / "flat.tif")]) == 0
    with torch.no_grad():
        expected = net(torch.from_numpy(specimen / specimen.mean())[None, None]).numpy()[0, 0]
    np.testing.assert_allclose(io.read_channels(tmp_path / "o.tif")[0]["phase"], expected, atol=1e-4)
    tifffile.imwrite(tmp_path / "small.tif", flat[:16])
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "m.pt"), str(tmp_path / "lr.tif"), "-o", str(tmp_path / "p.tif"),
                 "--flat", str(tmp_path / "small.tif")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "small.tif: an empty-field image of 16×32 pixels" in err


def test_calibration_numbers_say_when_sigma_tracks_the_error_and_the_ood_score_separates():
    from qpi.trust import calibration

    rng = np.random.default_rng(7)
    rows = []
    for i in range(20):  # the error grows with σ image by image; the other condition's inputs score higher
        sigma = 0.05 * (1 + i)
        rows.append({"test_condition": "own" if i < 10 else "far", "rmse": sigma * (1 + 0.1 * rng.random()),
                     "sigma": sigma, "consistency": 0.5, "ood": i, "pixel_spearman": 0.8, "within_2_sigma": 0.9})
    out = calibration.summarise(rows, "own")
    assert out["image_spearman_sigma"] > 0.95 and out["ood_auroc"] == 1.0 and out["images"] == 20
    assert np.isnan(out["image_spearman_consistency"])  # a constant residual ranks nothing
    assert calibration.auroc([0, 1], [0, 1]) == 0.5 and np.isnan(calibration.auroc([], [1]))


def test_a_heavy_tailed_feature_does_not_hide_a_departure_in_another():
    """Training tiles of one contrast band, 2 % of them across a steep edge (their coarse-power share far out):
    an input of a third of training's contrast is still out of distribution (each feature has its own limit)."""
    rng = np.random.default_rng(8)
    tiles = rng.standard_normal((600, 1, 16, 16))
    tiles[:12] += 8 * np.linspace(-1, 1, 16)[None, None, None, :]  # the edge tiles: the same contrast, below
    tiles = 1 + rng.uniform(0.04, 0.06, (600, 1, 1, 1)) * (tiles - tiles.mean(axis=(2, 3), keepdims=True)) / tiles.std(
        axis=(2, 3), keepdims=True)
    summary = ood.summarise(tiles)
    faint = 1 + 0.017 * rng.standard_normal((1, 96, 96))
    value, differ = ood.score(faint, summary)
    assert value > 1 and any(d.startswith("contrast lower") for d in differ)
    assert ood.score(1 + 0.05 * rng.standard_normal((1, 96, 96)), summary)[0] < 1
