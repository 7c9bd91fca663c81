"""Metrics on cases with known answers; LPIPS only from a cached AlexNet trunk."""

import math

import numpy as np
import pytest

from qpi.scoring import metrics


def _phase(n=64):
    """A smooth test phase (rad): a Gaussian bump on a tilt."""
    y, x = np.mgrid[:n, :n] / n
    return 1.5 * np.exp(-((x - 0.5) ** 2 + (y - 0.4) ** 2) / 0.02) + 0.3 * x


def test_identical_images_score_perfectly():
    truth = _phase()
    s = metrics.score(truth, truth)
    assert s["ssim"] == pytest.approx(1.0)
    assert s["psnr"] == math.inf
    assert s["nrmse"] == 0 and s["mae"] == 0


def test_psnr_of_a_known_error():
    truth = _phase()
    r = float(truth.max() - truth.min())
    noise = np.where(np.indices(truth.shape).sum(0) % 2, 0.05, -0.05)  # MSE exactly 0.0025
    assert metrics.psnr(truth + noise, truth) == pytest.approx(10 * math.log10(r**2 / 0.0025), rel=1e-5)
    assert metrics.nrmse(truth + noise, truth) == pytest.approx(0.05 / r, rel=1e-5)
    assert metrics.mae(truth + noise, truth) == pytest.approx(0.05, rel=1e-5)


def test_phase_scores_ignore_the_piston():
    truth, pred = _phase(), _phase() + 0.1 * np.random.default_rng(0).standard_normal((64, 64))
    shifted = metrics.score(pred + 2.7, truth - 1.0)
    assert shifted == pytest.approx(metrics.score(pred, truth))
    assert metrics.score(truth + 2.7, truth)["nrmse"] == pytest.approx(0, abs=1e-12)


def test_intensity_scores_keep_the_offset():
    truth = _phase()
    s = metrics.score(truth + 0.5, truth, phase=False)
    assert s["mae"] == pytest.approx(0.5)
    assert s["nrmse"] == pytest.approx(0.5 / s["data_range"])
    assert s["ssim"] < 0.999


def test_ssim_uses_the_truth_range_and_falls_with_noise():
    truth = _phase()
    noise = np.random.default_rng(1).standard_normal(truth.shape)
    values = [metrics.ssim(truth + a * noise, truth) for a in (0.01, 0.05, 0.2)]
    assert values[0] > values[1] > values[2]
    # Scaling both images scales R with them: SSIM is unchanged.
    assert metrics.ssim(3 * (truth + 0.05 * noise), 3 * truth) == pytest.approx(values[1], rel=1e-9)


def test_constant_truth_gives_nan_not_a_number_from_zero_range():
    flat = np.zeros((32, 32))
    s = metrics.score(flat + 0.1, flat)
    assert math.isnan(s["ssim"]) and math.isnan(s["psnr"]) and math.isnan(s["nrmse"])


def test_single_sample_channel_axes_are_accepted_but_shapes_must_match():
    truth = _phase()
    assert metrics.ssim(truth[None, None], truth) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.mae(truth[:32], truth)


def _empty_torch_home(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path / "hub" / "checkpoints" / metrics.ALEXNET_TRUNK


def test_lpips_is_nan_with_a_note_when_the_trunk_is_not_cached(monkeypatch, tmp_path):
    trunk = _empty_torch_home(monkeypatch, tmp_path)
    available, note = metrics.lpips_available()
    assert not available
    assert note == f"LPIPS missing: AlexNet trunk weights not in torch hub cache ({trunk})"
    lp = metrics.Lpips()
    assert lp.net is None and lp.note == note
    assert math.isnan(lp(_phase(), _phase()))
    assert not trunk.exists()  # nothing was downloaded


def test_lpips_loads_the_trunk_from_the_cache_file(monkeypatch, tmp_path):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    trunk = _empty_torch_home(monkeypatch, tmp_path)
    trunk.parent.mkdir(parents=True)
    features = torchvision.models.alexnet().features.state_dict()  # stand-in weights, checked by identity
    torch.save({f"features.{k}": v for k, v in features.items()}, trunk)
    lp = metrics.Lpips()
    assert lp.available
    assert torch.equal(getattr(lp.net.net.slice3, "6").weight, features["6.weight"])
    truth = _phase()
    assert lp(truth + 0.3, truth) == pytest.approx(0, abs=1e-6)  # piston removed
    assert lp(truth + 0.3 * np.random.default_rng(2).random(truth.shape), truth) > 1e-4


def test_pearson_is_blind_to_piston_and_scale_and_minus_one_for_an_inverted_image():
    truth = _phase()
    assert metrics.pearson(3.0 * truth + 1.0, truth) == pytest.approx(1.0)
    assert metrics.pearson(truth.max() - truth, truth) == pytest.approx(-1.0)
    assert metrics.score(-truth, truth)["pearson"] == pytest.approx(-1.0)
    assert math.isnan(metrics.pearson(truth, np.ones_like(truth)))


def test_a_block_cut_diagonally_by_a_field_stop_is_scored_on_the_largest_rectangle_it_holds():
    yy, xx = np.mgrid[:64, :64]
    truth = np.where(xx + yy < 80, np.sin(xx / 3.0) + np.cos(yy / 4.0), np.nan)  # the stop's edge: a diagonal
    pred, kept = metrics.inside(truth + 0.01, truth)
    assert np.isfinite(kept).all() and kept.size >= 1500  # the best rectangle under x + y < 80: 40 × 40
    box = metrics.largest_rectangle(np.isfinite(truth))
    assert np.isfinite(truth[box]).all() and truth[box].size == kept.size
    mask = np.zeros((5, 6), bool)
    mask[1:4, 2:6] = True
    mask[0, 0] = True
    assert metrics.largest_rectangle(mask) == np.s_[1:4, 2:6]


def test_a_large_mask_is_swept_on_blocks_and_its_rectangle_stays_inside_it():
    yy, xx = np.mgrid[:1000, :1000] - 500
    octagon = (np.abs(xx) < 470) & (np.abs(yy) < 470) & (np.abs(xx) + np.abs(yy) < 660)
    coarse, exact = metrics.largest_rectangle(octagon), metrics.largest_rectangle(octagon, sweep_px=1000)
    assert octagon[coarse].all() and octagon[coarse].size > 0.98 * octagon[exact].size
