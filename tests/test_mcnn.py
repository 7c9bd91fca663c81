"""MCNN family: heads and their sizes, the multi-scale loss, data simulation, TIE baseline, tables, toy task."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from qpi import models
from qpi.core.seeds import dataset_seed
from qpi.families import mcnn
from qpi.models.mcnn import MCNN
from qpi.optics.imaging import Microscope
from qpi.scoring import metrics
from qpi.training import checkpoints, supervised
from qpi.training.config import TrainConfig
from qpi.training.losses import multiscale_l1, pool_target

SCOPE = Microscope(magnification=10, na=0.25, coherence=0.0)  # 0.65 µm pixels, coherent


pytestmark = pytest.mark.usefixtures("torch_one_thread")


# --- model ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("depth", "heads", "size"), [(3, 4, 32), (3, 3, 64), (2, 1, 16), (4, 2, 48)])
def test_head_k_is_2_to_the_k_times_smaller_in_train_mode(depth, heads, size):
    model = MCNN(in_channels=3, out_channels=2, width=4, depth=depth, heads=heads).train()
    outputs = model(torch.rand(2, 3, size, size))
    assert [tuple(o.shape) for o in outputs] == [(2, 2, size >> k, size >> k) for k in range(heads)]


def test_eval_mode_returns_only_the_full_resolution_output():
    model = MCNN(in_channels=2, width=4, depth=3, heads=4).eval()
    x = torch.rand(1, 2, 24, 40)
    out = model(x)
    assert isinstance(out, torch.Tensor) and out.shape == (1, 1, 24, 40)
    assert torch.equal(out, model.forward_all(x)[0])


def test_inputs_are_divided_by_the_training_std_per_channel():
    torch.manual_seed(5)
    scaled = MCNN(in_channels=2, width=4, depth=2, input_std=[0.5, 4.0]).eval()
    plain = MCNN(in_channels=2, width=4, depth=2).eval()
    plain.load_state_dict(scaled.state_dict())
    x = torch.rand(1, 2, 16, 16)
    assert torch.allclose(scaled(x), plain(x / torch.tensor([0.5, 4.0]).view(1, 2, 1, 1)))
    assert mcnn.input_std(np.stack([np.full((4, 4), 3.0), np.arange(16.0).reshape(4, 4)])[None]) == \
        pytest.approx([1e-6, np.arange(16.0).std()])  # a constant channel is not blown up


def test_head_count_and_sizes_are_checked():
    with pytest.raises(ValueError, match="1 to 4 heads"):
        MCNN(depth=3, heads=5)
    with pytest.raises(ValueError, match="divisible by 8"):
        MCNN(width=4, depth=3).eval()(torch.rand(1, 1, 20, 24))
    with pytest.raises(ValueError, match="unknown normalisation 'group'"):
        MCNN(norm="group")
    with pytest.raises(ValueError, match="one value per input channel"):
        MCNN(in_channels=2, input_std=[1.0])


def test_unet_baseline_is_the_mcnn_trunk_with_one_head():
    torch.manual_seed(3)
    mcnn_net = MCNN(width=4, depth=2, heads=3)
    torch.manual_seed(3)
    unet = MCNN(width=4, depth=2, heads=1)
    trunk = {k: v for k, v in mcnn_net.state_dict().items() if not k.startswith(("heads.1", "heads.2"))}
    assert trunk.keys() == unet.state_dict().keys()
    assert all(torch.equal(v, unet.state_dict()[k]) for k, v in trunk.items())  # same seed ⇒ same start
    x = torch.rand(2, 1, 16, 16)
    assert torch.equal(mcnn_net.eval()(x), unet.eval()(x))


@pytest.mark.parametrize("norm", ["none", "batch", "instance"])
def test_gradients_reach_the_first_layer_and_every_head(norm):
    model = MCNN(width=4, depth=2, heads=3, norm=norm).train()
    multiscale_l1(model(torch.rand(2, 1, 16, 16)), torch.rand(2, 1, 16, 16)).backward()
    first = model.encoder[0].units[0][0]  # the 3×3 unit's first conv
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0
    assert all(h[-1].weight.grad.abs().sum() > 0 for h in model.heads)
    has_norm = any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)) for m in model.modules())
    assert has_norm == (norm != "none")


def test_mcnn_overfits_one_batch():
    model = MCNN(in_channels=2, out_channels=2, width=8, depth=2, heads=3).train()
    x = F.avg_pool2d(torch.rand(4, 2, 18, 18), 3, stride=1)
    y = torch.cat([torch.sin(6 * x[:, :1] - 3 * x[:, 1:]), x[:, :1] * x[:, 1:]], dim=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        optimizer.zero_grad()
        loss = multiscale_l1(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 5, f"loss only fell from {losses[0]:.3g} to {losses[-1]:.3g}"


def test_registry_builds_mcnn_and_a_saved_model_reloads_identically(tmp_path):
    model = models.build("mcnn", in_channels=2, out_channels=2, width=4, depth=2, heads=2)
    assert model.config == {"in_channels": 2, "out_channels": 2, "width": 4, "depth": 2, "heads": 2,
                            "norm": "instance", "slope": 0.2, "head_width": None, "input_std": None}
    checkpoints.save_model(tmp_path / "m.pt", model)
    loaded = checkpoints.load_model(tmp_path / "m.pt")
    x = torch.rand(1, 2, 16, 16)
    assert torch.equal(model.eval()(x), loaded(x))


# --- multi-scale loss ----------------------------------------------------------------------------


def test_targets_are_pooled_to_block_means():
    target = torch.arange(2 * 16 * 16, dtype=torch.float32).reshape(1, 2, 16, 16)
    blocks = target.numpy().reshape(1, 2, 4, 4, 4, 4).mean(axis=(3, 5))  # 4×4 block means by hand
    assert np.allclose(pool_target(target, (4, 4)).numpy(), blocks)
    assert pool_target(target, (16, 16)) is target
    with pytest.raises(ValueError, match="integer factor"):
        pool_target(target, (5, 5))


def test_multiscale_loss_is_the_sum_of_each_heads_mae_against_its_pooled_target():
    target = torch.rand(2, 1, 16, 16)
    outputs = [torch.rand(2, 1, 16, 16), torch.rand(2, 1, 8, 8), torch.rand(2, 1, 4, 4)]
    by_hand = sum(
        np.abs(o.numpy() - target.numpy().reshape(2, 1, o.shape[-2], 16 // o.shape[-2], o.shape[-1],
                                                  16 // o.shape[-1]).mean(axis=(3, 5))).mean()
        for o in outputs
    )
    assert multiscale_l1(outputs, target).item() == pytest.approx(by_hand, rel=1e-5)


def test_multiscale_loss_with_one_head_is_the_plain_mae():
    model = MCNN(width=4, depth=2, heads=1).train()
    x, y = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    torch.manual_seed(1)
    outputs = model(x)
    assert len(outputs) == 1
    assert multiscale_l1(outputs, y).item() == pytest.approx(F.l1_loss(outputs[0], y).item(), rel=1e-6)
    assert multiscale_l1(outputs[0], y).item() == pytest.approx(F.l1_loss(outputs[0], y).item(), rel=1e-6)


def test_trainer_validates_mcnn_with_the_plain_mae_of_its_full_resolution_output(tmp_path):
    x, y = mcnn.laplacian_toy(8, 16, 2.0, seed=0)
    cfg = TrainConfig(epochs=1, batch_size=8, loss="multiscale_l1", device="cpu", threads=1)
    supervised.train_supervised("mcnn", {"width": 4, "depth": 2, "heads": 3}, (x, y), (x[:4], y[:4]), cfg, tmp_path)
    val_loss = float(pd.read_csv(tmp_path / "epochs.csv")["val_loss"].iloc[-1])
    model = checkpoints.load_model(tmp_path / "best.pt")
    with torch.no_grad():
        mae = F.l1_loss(model(torch.from_numpy(x[:4])), torch.from_numpy(y[:4])).item()
    assert val_loss == pytest.approx(mae, rel=1e-5)


# --- data ----------------------------------------------------------------------------------------


def test_planes_are_given_in_units_of_the_spacing_and_tie_needs_symmetric_pairs():
    conditions = {"a": {"z": [1]}, "b": {"z": [-2, -1, 1, 2]}}
    assert mcnn.condition_planes([-2, 1], 1.5).tolist() == [-3.0, 1.5]
    assert mcnn.union_planes(conditions, 2.0).tolist() == [-4.0, -2.0, 2.0, 4.0]
    assert [mcnn.tie_possible(z) for z in ([2.0], [-2, 2], [-4, -2, 2, 4], [-2, 4])] == [False, True, True, False]


def test_an_empty_field_images_to_one_with_the_configured_noise():
    params = {"max_phase_rad": 0.0, "amplitude_range": (1.0, 1.0)}
    clean = mcnn.acquire("natural", 1, 32, SCOPE, np.array([-4.0, 4.0]), [0], 1e12, 0.0, params)
    assert np.allclose(clean["planes"], 1.0, atol=1e-5) and np.allclose(clean["phase"], 0.0)
    noisy = mcnn.acquire("natural", 4, 32, SCOPE, np.array([-4.0, 4.0]), [0], 400.0, 0.03, params)
    assert np.std(noisy["planes"]) == pytest.approx(np.sqrt(1 / 400 + 0.03**2), rel=0.05)  # 0.058


def test_sets_are_reproducible_and_dataset_seeds_differ_by_name():
    args = ("natural", 2, 32, SCOPE, np.array([-2.0, 2.0]))
    a = mcnn.acquire(*args, dataset_seed(0, "train"), 2000, 0.005)
    b = mcnn.acquire(*args, dataset_seed(0, "train"), 2000, 0.005)
    c = mcnn.acquire(*args, dataset_seed(0, "val"), 2000, 0.005)
    assert np.array_equal(a["planes"], b["planes"]) and not np.allclose(a["phase"], c["phase"])
    assert a["planes"].shape == (2, 2, 32, 32) and a["phase"].shape == a["amplitude"].shape == (2, 1, 32, 32)
    assert np.allclose(a["phase"].mean(axis=(1, 2, 3)), 0, atol=1e-5)  # the piston is not observable
    assert 0.69 < a["amplitude"].min() and a["amplitude"].max() <= 1.0


def test_network_pairs_take_the_conditions_planes_as_channels_and_stack_amplitude():
    data = {"planes": np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1) * np.ones((1, 3, 8, 8), np.float32),
            "z_um": np.array([-2.0, 2.0, 4.0], np.float32),
            "phase": np.full((1, 1, 8, 8), 0.5, np.float32), "amplitude": np.full((1, 1, 8, 8), 0.9, np.float32)}
    x, y = mcnn.network_pairs(data, np.array([4.0, -2.0]), amplitude=True)
    assert x[0, :, 0, 0].tolist() == [1.0, -1.0]  # planes 2 and 0, as contrast I − 1
    assert y.shape == (1, 2, 8, 8) and y[0, :, 0, 0].tolist() == pytest.approx([0.5, -0.1])  # A − 1
    assert mcnn.network_pairs(data, np.array([2.0]), amplitude=False)[1].shape == (1, 1, 8, 8)
    with pytest.raises(ValueError, match=r"planes \[1.0\] µm are not in the dataset"):
        mcnn.network_pairs(data, np.array([1.0]), amplitude=False)


def test_predict_returns_phase_and_the_amplitude_not_its_contrast():
    contrast = np.stack([np.full((4, 4), 0.3), np.full((4, 4), -0.2)])[None].astype(np.float32)
    out = mcnn.predict(torch.nn.Identity(), contrast)
    assert out[0, 0, 0, 0] == pytest.approx(0.3) and out[0, 1, 0, 0] == pytest.approx(0.8)


def test_two_plane_tie_recovers_a_weak_microsphere_and_one_plane_gives_none():
    params = {"diameter_um": 8.0, "delta_n": 0.01, "count": 1}
    data = mcnn.acquire("microspheres", 2, 48, SCOPE, np.array([-1.0, 1.0, 2.0]), [0], 1e12, 0.0, params)
    assert mcnn.tie_baseline(data, np.array([2.0]), SCOPE, "dct", 1e-15) is None
    out = mcnn.tie_baseline(data, np.array([-1.0, 1.0]), SCOPE, "dct", 1e-15)
    assert out.shape == (2, 2, 48, 48)
    for tie_phase, truth in zip(out[:, 0], data["phase"][:, 0]):
        assert metrics.score(tie_phase, truth)["nrmse"] < 0.08
    assert np.abs(out[:, 1] - 1).max() < 0.05  # √Ī of a pure phase object ≈ 1


# --- tables --------------------------------------------------------------------------------------


def _rows():
    pred = np.zeros((2, 2, 16, 16), np.float32)
    data = {"phase": np.random.default_rng(0).standard_normal((2, 1, 16, 16)).astype(np.float32),
            "amplitude": np.ones((2, 1, 16, 16), np.float32)}
    data["amplitude"][1] += 0.5 * np.linspace(0, 1, 16, dtype=np.float32)  # image 0 flat, image 1 a ramp
    labels = {"family": "mcnn", "train_condition": "n2", "test_condition": "hela", "planes": 2}
    return pd.DataFrame(mcnn.score(pred, data, model="mcnn", seed=1, **labels)
                        + mcnn.score(pred[:, :1], data, model="tie", seed=0, **labels))


def test_scores_are_tidy_per_image_quantity_and_metric():
    rows = _rows()
    # mcnn: 2 images × phase × 4 metrics + amplitude (flat image 0: MAE only; image 1: 4); tie: phase
    assert len(rows) == 2 * 4 + 1 + 4 + 2 * 4
    flat = rows[(rows["quantity"] == "amplitude") & (rows["image"] == 0)]
    assert flat["metric"].tolist() == ["mae"]  # SSIM/PSNR/NRMSE need a truth with a range
    phase_mae = rows[(rows["model"] == "mcnn") & (rows["quantity"] == "phase") & (rows["metric"] == "mae")]
    phase = np.random.default_rng(0).standard_normal((2, 16, 16))
    expected = np.abs(phase - phase.mean(axis=(1, 2), keepdims=True)).mean(axis=(1, 2))  # zero prediction
    assert phase_mae["value"].to_numpy() == pytest.approx(expected, rel=1e-5)
    amplitude_mae = rows[(rows["quantity"] == "amplitude") & (rows["metric"] == "mae")]["value"]
    assert amplitude_mae.tolist() == pytest.approx([1.0, 1.25])  # amplitude keeps its level: no piston removed


def test_transfer_table_has_the_cross_condition_shape_and_means_over_images():
    rows = _rows()
    table = mcnn.transfer_table(rows, "mcnn", "natural")
    assert list(table.columns) == ["family", "model", "train_condition", "test_condition", "seed", "metric", "value"]
    assert set(table.loc[table["model"] == "tie", "train_condition"]) == {"none"}
    assert set(table.loc[table["model"] == "mcnn", "metric"]) == {
        "ssim", "psnr", "nrmse", "mae", "amplitude_ssim", "amplitude_psnr", "amplitude_nrmse", "amplitude_mae"}
    mae = table[(table["model"] == "mcnn") & (table["metric"] == "mae")]["value"].item()
    expected = rows[(rows["model"] == "mcnn") & (rows["quantity"] == "phase") & (rows["metric"] == "mae")]
    assert mae == pytest.approx(expected["value"].mean())
    summary = mcnn.seed_summary(table)
    assert list(summary.columns) == ["model", "train_condition", "test_condition", "ssim", "mae"] and len(summary) == 2


def test_convergence_table_reports_the_validation_loss_as_mae():
    curve = pd.DataFrame({"epoch": [1, 2], "step": [5, 10], "val_loss": [0.5, 0.3], "val_ssim": [0.1, 0.2],
                          "val_psnr": [10.0, 12.0]})
    table = mcnn.convergence_table({("trunk", 1): curve, ("mcnn", 0): curve})
    assert table[["model", "seed"]].drop_duplicates().values.tolist() == [["mcnn", 0], ["trunk", 1]]
    assert table["val_mae"].tolist() == [0.5, 0.3, 0.5, 0.3]


# --- the paper's toy task ------------------------------------------------------------------------


def _toy_curve(heads: int, seed: int, x, y, vx, vy, steps: int, every: int = 25) -> list[float]:
    """Validation MAE every `every` steps of a small MCNN (or U-Net, heads=1) on phase-from-Laplacian."""
    torch.manual_seed(seed)
    model = MCNN(width=8, depth=3, heads=heads)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(seed)
    curve = []
    for step in range(1, steps + 1):
        index = torch.from_numpy(rng.choice(len(x), 16, replace=False))
        model.train()
        optimizer.zero_grad()
        multiscale_l1(model(x[index]), y[index]).backward()
        optimizer.step()
        if step % every == 0:
            with torch.no_grad():
                curve.append(F.l1_loss(model.eval()(vx), vy).item())
    return curve


@pytest.mark.claims  # 6 trainings of the authors' layout: 3 min on 2 cores
def test_mcnn_learns_phase_from_its_laplacian_faster_than_the_plain_unet():
    # Measured with the earlier 3×3 layout over 10 seeds at this budget: MCNN's validation MAE after 150
    # steps was lower in 10 of 10 (ratio 0.71–0.96). The authors' layout (9×9 multi-kernel blocks) passes
    # at seeds 0–2; at width 4 and batch 8 it shows no advantage (ratios 1.07, 1.00, 0.91): not a setting
    # to shrink this test to.
    x, y = map(torch.from_numpy, mcnn.laplacian_toy(256, 32, 3.0, seed=0))
    vx, vy = map(torch.from_numpy, mcnn.laplacian_toy(64, 32, 3.0, seed=1))
    final = {heads: np.mean([_toy_curve(heads, seed, x, y, vx, vy, steps=150)[-1] for seed in range(3)])
             for heads in (1, 4)}
    assert final[4] < 0.95 * final[1], f"MCNN {final[4]:.3f} vs U-Net {final[1]:.3f} rad after 150 steps"


def _stack(z_um, na=0.25, pixel_um=0.65, coherence=None, size=96):
    from qpi.io import Stack

    rng = np.random.default_rng(0)
    return Stack(data=(1 + 0.05 * rng.standard_normal((len(z_um), size, size))).astype(np.float32),
                 z_um=np.asarray(z_um, float), wavelength_um=0.55, pixel_um=pixel_um, na=na, coherence=coherence,
                 magnification=10)


def test_a_labs_stacks_give_mcnn_one_microscope_or_one_sentence_naming_two_that_differ():
    from qpi.core.errors import StackError
    from qpi.families.mcnn import user

    scope = user.microscope({"a": _stack([-2, 0, 2]), "b": _stack([-2, 0, 2])}, coherence=0.0)
    assert scope["camera_pixel_um"] == pytest.approx(6.5) and scope["na"] == 0.25 and scope["coherence"] == 0.0
    given = user.microscope({"a": _stack([0, 2], coherence=0.3), "b": _stack([0, 2], coherence=0.3)}, coherence=0.0)
    assert given["coherence"] == 0.3  # the condenser every stack names, not the paper's coherent default
    with pytest.raises(StackError, match=r"^a and b: pixel_um 0.65 and 0.325; .*one objective and camera"):
        user.microscope({"a": _stack([0, 2]), "b": _stack([0, 2], pixel_um=0.325)}, coherence=0.0)
    with pytest.raises(StackError, match=r"^b: .*no NA; add na to its row of the sample sheet"):
        user.microscope({"a": _stack([0, 2]), "b": _stack([0, 2], na=None)}, coherence=0.0)


def test_mcnn_takes_the_defocused_planes_every_stack_holds_or_those_asked_for():
    from qpi.core.errors import StackError
    from qpi.families.mcnn import user

    z = {"a": np.array([-4.0, -2, 0, 2, 4]), "b": np.array([-2.0, 0, 2, 4])}
    assert user.input_planes(z, None) == [-2, 2, 4]
    assert user.input_planes(z, [2, -2]) == [-2, 2]
    with pytest.raises(StackError, match=r"^b: mcnn.user.planes_um asks for planes at \[-4\] µm"):
        user.input_planes(z, [-4, 4])
    with pytest.raises(StackError, match="defocused planes that every stack holds"):
        user.input_planes({"a": np.array([0.0, 2]), "b": np.array([0.0, -2])}, None)


def test_a_stacks_tiles_hold_its_planes_at_the_empty_field_level_and_its_label_inside_the_stop():
    from qpi.families.mcnn import user

    stack = _stack([-2, 0, 2])
    stack.data *= 800  # camera counts
    label = np.random.default_rng(1).random((96, 96)).astype(np.float32)
    label[:48, :48] = np.nan  # outside a field stop
    parts = np.full((2, 2), "train", dtype=object)
    parts[1, 1] = "test"
    out = user.field_tiles(stack, label, [-2, 2], label * 2, parts, "train", 48)
    assert out["planes"].shape == (2, 2, 48, 48) and out["amplitude"].shape == (2, 1, 48, 48)
    assert out["planes"].mean() == pytest.approx(1, abs=0.01)  # relative to the field, as the simulated planes
    assert np.allclose(out["phase"].mean(axis=(2, 3)), 0, atol=1e-6) and out["tie"].shape == out["phase"].shape
    assert out["origin"].tolist() == [[0, 48], [48, 0]]
    assert np.allclose(out["planes"][0, 1], stack.plane(2)[:48, 48:] / np.nanmean(stack.plane(2)[np.isfinite(label)]),
                       rtol=1e-5)


def test_fine_tuning_starts_from_the_given_weights(tmp_path):
    from qpi import models
    from qpi.training.checkpoints import load_model
    from qpi.training.config import TrainConfig
    from qpi.training.supervised import train_supervised

    kwargs = {"in_channels": 2, "out_channels": 1, "width": 4, "depth": 2, "heads": 1, "input_std": [1.0, 1.0]}
    start = models.build("mcnn", **kwargs).state_dict()
    x, y = np.zeros((4, 2, 16, 16), np.float32), np.zeros((4, 1, 16, 16), np.float32)
    cfg = TrainConfig.from_dict({"epochs": 1, "batch_size": 4, "lr": 0.0, "loss": "multiscale_l1", "device": "cpu",
                                 "seed": 3})
    train_supervised("mcnn", kwargs, (x, y), (x, y), cfg, tmp_path, init_state=start)
    tuned = load_model(tmp_path / "best.pt").state_dict()
    assert all(torch.equal(tuned[k].cpu(), v) for k, v in start.items())  # lr 0: still the given weights
