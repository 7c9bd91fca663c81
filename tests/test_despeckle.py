"""DespeckleNet family: complex residual blocks, the twin's parameter count, the paired-GAN loop."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import ndimage

from qpi import models
from qpi.io import StackError
from qpi.models.despeckle import ComplexResidualBlock
from qpi.training import losses, paired_gan
from qpi.training.checkpoints import load_model
from qpi.training.losses import npcc

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_complex_block_keeps_shape_and_lets_gradients_through():
    block = ComplexResidualBlock(8)
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    out = block(x)
    assert out.shape == x.shape
    out.square().mean().backward()
    assert x.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in block.parameters())


def test_complex_block_convolves_real_and_imaginary_halves_apart_then_fuses_them():
    block = ComplexResidualBlock(8).eval()
    grouped, fusion = block.body[0], block.body[2]
    assert grouped.weight.shape == (8, 4, 3, 3)  # each output sees only its own half: no real↔imag terms
    assert grouped.padding_mode == "reflect" and isinstance(block.body[1], torch.nn.GroupNorm)
    x = torch.randn(1, 8, 6, 6)
    y = x.clone()
    y[:, 4:] += torch.randn(1, 4, 6, 6)  # change only the imaginary half
    with torch.no_grad():
        assert torch.equal(grouped(x)[:, :4], grouped(y)[:, :4])
        assert not torch.allclose(grouped(x)[:, 4:], grouped(y)[:, 4:])
        # the 1×1 fusion mixes them: the real half of the block's output moves too
        assert not torch.allclose(block(x)[:, :4], block(y)[:, :4])
        assert torch.allclose(block(x), block.body(x) + x)  # the residual: the input is added back
    assert fusion.kernel_size == (1, 1) and fusion.groups == 1


@pytest.mark.parametrize("channels", [(10, 20, 40), (8, 16, 32, 60), (64, 128, 256, 512, 512)])
def test_real_valued_twin_has_about_despecklenets_parameter_count(channels):
    net = models.build("despecklenet", channels=channels, residual_blocks=1, complex_blocks=3)
    twin = models.build("despeckle_twin", channels=channels, residual_blocks=1, complex_blocks=3)
    blocks = sum(n_params(m) for m in net.translate if isinstance(m, ComplexResidualBlock))
    gap = abs(n_params(net) - n_params(twin)) / blocks
    assert gap < (0.001 if channels[-1] >= 512 else 0.03), gap  # the even hidden width rounds
    assert all(m.groups == 1 for m in twin.modules() if isinstance(m, torch.nn.Conv2d))


def test_generator_and_discriminator_are_the_authors_layer_for_layer():
    """hitsh95/DespeckleNet at ngf 64 on 512² inputs: 61,502,786 and 2,764,737 parameters; InstanceNorm
    without affine, no norm in the first and last encoder stage, reflect padding in the translate
    module, xavier-normal (gain 0.02) weights and zero biases."""
    g = models.build("despecklenet", channels=(64, 128, 256, 512, 512), residual_blocks=5, complex_blocks=4)
    d = models.build("patchgan", in_channels=3, width=64, layers=3)
    assert (n_params(g), n_params(d)) == (61_502_786, 2_764_737)
    norms = [type(m) for m in g.modules() if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d))]
    assert norms and set(norms) == {torch.nn.InstanceNorm2d}
    assert not any(m.affine for m in g.modules() if isinstance(m, torch.nn.InstanceNorm2d))
    first, last = g.encoder[0], g.encoder[-1]
    assert [type(m) for m in first] == [torch.nn.Conv2d, torch.nn.ReLU] and [type(m) for m in last] == [torch.nn.Conv2d]
    convs = [m for m in g.translate.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert convs and all(m.padding_mode == "reflect" and m.bias is not None for m in convs)
    weights = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, torch.nn.Conv2d)])
    assert weights.std() < 0.01 and all(m.bias.abs().max() == 0 for m in g.modules() if isinstance(m, torch.nn.Conv2d))


def test_generators_give_bounded_intensity_and_free_phase():
    x = torch.randn(2, 1, 32, 32) * 5
    for name, kwargs in (("despecklenet", {}), ("despeckle_twin", {}), ("idiffnet", {})):
        out = models.build(name, **kwargs)(x)
        assert out.shape == (2, 2, 32, 32)
    out = models.build("despecklenet")(x)
    assert out[:, 0].abs().max() <= 1  # tanh intensity head
    assert models.build("patchgan")(torch.randn(2, 3, 32, 32)).shape == (2, 1, 2, 2)  # 3 × stride 2, 2 × stride 1
    with pytest.raises(ValueError, match="divisible by 8"):
        models.build("despecklenet")(torch.randn(1, 1, 20, 20))


def test_npcc_is_minus_one_for_any_positive_affine_copy():
    t = torch.randn(3, 2, 8, 8)
    assert npcc(2.5 * t + 1, t).item() == pytest.approx(-1, abs=1e-5)
    assert npcc(-t, t).item() == pytest.approx(1, abs=1e-5)


def toy_batch(n=8, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.tanh(torch.randn(n, 2, size, size, generator=g))
    x = y[:, :1] + 0.5 * torch.randn(n, 1, size, size, generator=g)
    return x, y


def test_discriminator_learns_real_from_fake_and_the_generator_loss_responds():
    torch.manual_seed(0)
    g = models.build("despecklenet", channels=(8, 16), residual_blocks=1, complex_blocks=1)
    d = models.build("patchgan", width=8, layers=2)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), lr=2e-3, betas=(0.5, 0.999)) for m in (g, d))
    x, y = toy_batch()
    # The discriminator alone (generator frozen: lr 0) separates real from fake within a few steps...
    frozen = torch.optim.Adam(g.parameters(), lr=0.0)
    d_losses, adv = [], []
    for _ in range(8):
        step = paired_gan.gan_step(g, d, frozen, opt_d, x, y, alpha=0.35, recon=losses.loss("l1"))
        d_losses.append(step["loss_d"].item())
        adv.append(step["loss_adv"].item())
    assert d_losses[-1] < 0.8 * d_losses[0]  # 0.71 → 0.49
    with torch.no_grad():  # by telling them apart, not by calling everything fake
        d.eval()
        assert d(torch.cat([x, y], 1)).mean() > d(torch.cat([x, g(x)], 1)).mean()
        d.train()
    assert adv[-1] > adv[0]  # ...so fooling it costs the generator more
    # ...and a generator step moves the generator's output (and changes its loss).
    before = g(x).detach()
    step = paired_gan.gan_step(g, d, opt_g, opt_d, x, y, alpha=0.35, recon=losses.loss("l1"))
    assert not torch.allclose(g(x), before)
    assert not any(loss.requires_grad for loss in step.values())  # detached: read later, device not waited on
    assert step["loss"].item() == pytest.approx((step["loss_adv"] + 0.35 * step["loss_recon"]).item(), rel=1e-6)


def pairs(n, seed):
    x, y = toy_batch(n, 16, seed)
    return x.numpy(), y.numpy()


CFG = dict(epochs=3, batch_size=4, lr=1e-3, betas=(0.5, 0.999), seed=0, device="cpu", threads=1,
           discriminator={"arch": "patchgan", "width": 4, "layers": 2})
ARCH = dict(channels=(4, 8), residual_blocks=1, complex_blocks=1)


def test_paired_training_learns_and_resumes_to_the_same_weights(tmp_path):
    train, val = pairs(16, 1), pairs(4, 2)
    full = paired_gan.train_paired("despecklenet", ARCH, train, val, paired_gan.PairedConfig(**CFG), tmp_path / "full")
    paired_gan.train_paired("despecklenet", ARCH, train, val, paired_gan.PairedConfig(**CFG, max_steps=5), tmp_path / "cut")
    resumed = paired_gan.train_paired("despecklenet", ARCH, train, val, paired_gan.PairedConfig(**CFG), tmp_path / "cut")
    assert resumed["resumed"] and resumed["steps"] == full["steps"] == 12
    a, b = (load_model(tmp_path / run / "last.pt").state_dict() for run in ("full", "cut"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps = pd.read_csv(tmp_path / "cut" / "steps.csv")
    assert list(steps["step"]) == list(range(1, 13)) and steps["loss_d"].notna().all()
    assert pd.read_csv(tmp_path / "full" / "epochs.csv")["val_loss"].notna().all()


def test_a_discriminator_of_another_layout_or_shape_starts_afresh_instead_of_crashing(tmp_path):
    """A re-run after the discriminator's layout changed in the config, or its weights' shapes in a
    newer deep-qpi, trained afresh; loading the old state raised on every re-run."""
    train, val = pairs(8, 1), pairs(4, 2)
    cfg = {**CFG, "epochs": 1}
    paired_gan.train_paired("despecklenet", ARCH, train, val, paired_gan.PairedConfig(**cfg), tmp_path)
    wider = {**cfg, "discriminator": {**CFG["discriminator"], "width": 8}}
    summary = paired_gan.train_paired("despecklenet", ARCH, train, val, paired_gan.PairedConfig(**wider), tmp_path)
    assert not summary["resumed"] and summary["steps"] == 2

    payload = torch.load(tmp_path / "last.pt", weights_only=True)
    state = payload["states"]["discriminator"]
    state["body.0.0.weight"] = torch.zeros(5, *state["body.0.0.weight"].shape[1:])  # as if rebuilt since
    torch.save(payload, tmp_path / "last.pt")
    summary = paired_gan.train_paired("despecklenet", ARCH, train, val, paired_gan.PairedConfig(**wider), tmp_path)
    assert not summary["resumed"] and summary["steps"] == 2


def test_baselines_train_on_their_reconstruction_loss_alone(tmp_path):
    train, val = pairs(8, 3), pairs(4, 4)
    cfg = paired_gan.PairedConfig(**{**CFG, "epochs": 2}, adversarial=False, loss="npcc")
    summary = paired_gan.train_paired("idiffnet", dict(width=4, growth=2, layers=1, depth=2), train, val, cfg, tmp_path)
    steps = pd.read_csv(tmp_path / "steps.csv")
    assert summary["steps"] == 4 and steps["loss_d"].isna().all()
    assert (steps["loss"] >= -1).all() and (steps["loss"] <= 1).all()  # NPCC is a correlation
    with pytest.raises(ValueError, match="unknown loss"):
        losses.loss("ssim")
    assert np.isfinite(summary["best"]["val_loss"])


def test_family_data_targets_acquisition_sets_and_scores():
    from qpi.families import despeckle
    from qpi.optics.imaging import Microscope

    scope = Microscope(wavelength_um=0.55, na=0.25, magnification=10, coherence=0.3, oversample=2)
    phantom = {"kind": "natural", "params": {"max_phase_rad": 2.0, "smooth_px": 2.0}}
    specimens = despeckle.simulate_specimens(4, 16, scope, phantom, 2.0, "dct", 1e-9, [0, 1])
    assert specimens["t_phase"].shape == (4, 32, 32) and specimens["tie"].shape == (4, 1, 16, 16)
    assert np.abs(specimens["exact"].mean(axis=(1, 2, 3))).max() < 1e-5  # pistons removed
    diffuser = {"kind": "tape", "correlation_um": 0.5, "rms_rad": 3.0, "distance_um": 10.0}
    light = {"intensity": [0.7, 1.3], "angle_deg": [0.0, 3.0]}
    speckled = despeckle.acquire(specimens, 2, scope, diffuser, light, 1e4, [5])
    again = despeckle.acquire(specimens, 2, scope, diffuser, light, 1e4, [5])
    other = despeckle.acquire(specimens, 2, scope, diffuser, light, 1e4, [6])
    assert np.array_equal(speckled, again) and not np.allclose(speckled, other)  # the seed fixes the diffusers
    # one exposure per set: each set's mean is its laser's brightness, drawn from the intensity range
    means = [speckled[block].mean() for block in (slice(0, 2), slice(2, 4))]
    assert all(0.69 < m < 1.31 for m in means) and abs(means[0] - means[1]) > 1e-3
    with pytest.raises(ValueError, match="acquisition sets"):
        despeckle.acquire(specimens, 5, scope, diffuser, light, 1e4, [5])
    x, y = despeckle.network_pairs(speckled, specimens, "tie")
    assert x.shape == (4, 1, 16, 16) and y.shape == (4, 2, 16, 16)
    assert np.array_equal(y[:, 1], specimens["tie"][:, 0])
    stretched, _ = despeckle.network_pairs(speckled, specimens, "tie", power=0.3)  # the authors' stretch
    assert np.allclose(stretched + 1, (x + 1) ** 0.3, rtol=1e-5)
    # a perfect prediction scores SSIM 1 for intensity and the TIE label, less against the exact phase
    rows = pd.DataFrame(despeckle.score(y, specimens, model="m", train_condition="pooled", level="l1",
                                        correlation_um=0.5))
    table = despeckle.correlation_table(rows)
    assert len(table) == 1 and table.loc[0, "ssim_intensity"] == pytest.approx(1)
    assert table.loc[0, "ssim_phase"] == pytest.approx(1) and table.loc[0, "ssim_phase_exact"] < 1
    assert np.isnan(table.loc[0, "lpips_phase"])  # no LPIPS asked for: missing, never made up
    cross = despeckle.cross_table(rows.assign(train_condition="tape", test_condition="tissue", seed=0))
    # a sheet's measured phase is one more reference, scored and tabled beside the TIE label
    measured = pd.DataFrame(despeckle.score(y, {**specimens, "measured": specimens["exact"]}, model="m",
                                            train_condition="tape", level="tape", correlation_um=None))
    assert "ssim_phase_measured" in despeckle.correlation_table(measured)
    assert list(cross.columns) == ["family", "model", "train_condition", "test_condition", "seed", "metric", "value"]
    assert len(cross) == 9 and cross.set_index("metric").loc["ssim_intensity", "value"] == pytest.approx(1)


def test_conditions_share_equal_data_and_networks():
    from qpi.families import despeckle

    cfg = {"diffuser": {"kind": "tape", "rms_rad": 3.0}, "correlation_um": [0.5, 1.5], "example_level": 2,
           "sets": {"train": 12, "val": 2, "test": 4}, "diversity": {"sets": [6, 12]},
           "cross": {"diffusers": ["tape", "petri"]}}
    conditions = despeckle.conditions(cfg)
    assert list(conditions) == ["l1", "l2", "sets6", "sets12", "tape", "petri"]
    assert conditions["sets6"]["sets"] == {"train": 6, "val": 2, "test": 4}
    assert conditions["petri"]["diffuser"] == {"kind": "petri", "rms_rad": 3.0, "correlation_um": 1.5}
    network = ["train", "val"]
    # the example level's networks serve the diversity level with its set count and the tape type...
    assert despeckle.shared(conditions, "sets12", network) == despeckle.shared(conditions, "tape", network) == "l2"
    # ...while other set counts share only its validation and test data, and other types nothing
    assert despeckle.shared(conditions, "sets6", network) == "sets6"
    assert despeckle.shared(conditions, "sets6", ["test"]) == "l2"
    assert despeckle.shared(conditions, "petri", ["test"]) == "petri"
    assert despeckle.shared(conditions, "l1", ["test"]) == "l1"


def test_each_network_trains_once_and_is_scored_on_every_distinct_test_split():
    from qpi.families import despeckle

    cfg = {"diffuser": {"kind": "tape", "rms_rad": 3.0}, "correlation_um": [0.5, 1.5], "example_level": 2,
           "sets": {"train": 12, "val": 2, "test": 4}, "models": {"dn": {}, "twin": {}, "unet": {}},
           "diversity": {"sets": [6, 12], "models": ["dn"]}, "cross": {"diffusers": ["tape", "petri"],
                                                                     "models": ["unet", "dn"]}}
    conditions = despeckle.conditions(cfg)
    # sets12 and tape are l2's networks; models stay in config order whichever experiment asked first
    assert despeckle.trained(cfg, conditions) == {"l1": ["dn", "twin", "unet"], "l2": ["dn", "twin", "unet"],
                                                  "sets6": ["dn"], "petri": ["dn", "unet"]}
    assert despeckle.test_sets(conditions) == ["l1", "l2", "petri"]
    rows = pd.DataFrame({"train_condition": ["l1", "l1", "l2", "sets6"], "test_condition": ["l1", "l2", "l2", "l2"],
                         "model": ["dn", "dn", "twin", "dn"], "value": [1, 2, 3, 4]})
    assert despeckle.select(rows, [("l1", "l1"), ("l2", "l2")])["value"].tolist() == [1, 3]
    assert despeckle.select(rows, [("l2", "l2"), ("sets6", "l2")], ["dn"])["value"].tolist() == [4]
    assert despeckle.prediction_key("dn", "l2") != despeckle.prediction_key("dn", "l1")


def test_pooled_levels_train_one_network_per_model_on_sets_cycling_through_the_levels():
    from qpi.families import despeckle

    cfg = {"diffuser": {"kind": "tape", "rms_rad": 3.0}, "correlation_um": [0.5, 1.5, 3.0], "example_level": 2,
           "sets": {"train": 12, "val": 2, "test": 4}, "models": {"dn": {}, "unet": {}}, "levels_training": "pooled",
           "diversity": {"sets": [12], "models": ["dn"]}, "cross": {"diffusers": ["tape"], "models": ["dn"]}}
    conditions = despeckle.conditions(cfg)
    assert conditions["pooled"]["diffuser"]["correlation_um"] == [0.5, 1.5, 3.0]
    assert conditions["pooled"]["sets"] == {"train": 12, "val": 3, "test": 6}  # every level in every split
    # the sweep's networks train once, pooled; the example level keeps its own for diversity and type
    assert despeckle.trained(cfg, conditions) == {"pooled": ["dn", "unet"], "l2": ["dn"]}
    assert despeckle.test_sets(conditions) == ["l1", "l2", "l3"]
    assert [despeckle.level_training(cfg, conditions, c) for c in ("l1", "l3")] == ["pooled", "pooled"]
    assert despeckle.level_training({**cfg, "levels_training": "each"}, conditions, "l3") == "l3"


def test_a_list_of_correlation_lengths_gives_set_s_the_s_th_length():
    from qpi.families import despeckle
    from qpi.optics.imaging import Microscope

    scope = Microscope(wavelength_um=0.55, na=0.25, magnification=10, camera_pixel_um=6.5, oversample=1)
    rng = np.random.default_rng(1)
    specimens = {"t_phase": rng.uniform(0, 1, (4, 16, 16)), "t_amplitude": np.ones((4, 16, 16))}
    light = {"intensity": [1.0, 1.0], "angle_deg": [0.0, 0.0]}
    diffuser = {"kind": "tape", "rms_rad": 3.0, "distance_um": 10.0}
    pooled = despeckle.acquire(specimens, 2, scope, {**diffuser, "correlation_um": [0.5, 3.0]}, light, 1e4, [2])
    for s, length in enumerate([0.5, 3.0]):
        alone = despeckle.acquire(specimens, 2, scope, {**diffuser, "correlation_um": length}, light, 1e4, [2])
        assert np.array_equal(pooled[2 * s:2 * s + 2], alone[2 * s:2 * s + 2])
    assert not np.array_equal(pooled[2:], despeckle.acquire(specimens, 2, scope, {**diffuser, "correlation_um": 0.5},
                                                           light, 1e4, [2])[2:])


def test_affine_fit_undoes_a_per_channel_scale_and_offset():
    from qpi.families import despeckle

    y = np.random.default_rng(0).standard_normal((3, 2, 8, 8)).astype(np.float32)
    pred = y * np.array([0.2, -3.0])[None, :, None, None] + np.array([1.0, 0.5])[None, :, None, None]
    fit = despeckle.affine_fit(pred, y)
    assert fit.shape == (2, 2) and np.allclose(despeckle.affine_apply(pred, fit), y, atol=1e-4)


def test_resize_upsampling_turns_a_flat_map_into_a_flat_map_and_transposed_into_a_checkerboard():
    from qpi.models.despeckle import upsample

    flat = torch.ones(1, 4, 8, 8)
    with torch.no_grad():
        resized = upsample(4, 1, resize=True)(flat)[0, 0, 2:-2, 2:-2]  # interior: no zero-padding border
        transposed = upsample(4, 1)(flat)[0, 0, 2:-2, 2:-2]
    assert resized.shape == transposed.shape == (12, 12)
    assert resized.std() < 1e-6  # every output pixel sees the same kernel taps
    # a random 4×4 stride-2 kernel weighs the four output phases with different taps: a period-2 pattern
    assert transposed.std() > 1e-3 and torch.allclose(transposed[:-2], transposed[2:])
    net = models.build("despecklenet", channels=(4, 8), residual_blocks=1, complex_blocks=1, resize=True)
    twin = models.build("despeckle_twin", channels=(4, 8, 20), residual_blocks=1, complex_blocks=1, resize=True)
    assert net(torch.randn(2, 1, 16, 16)).shape == (2, 2, 16, 16) and twin(torch.randn(1, 1, 16, 16)).shape[1] == 2
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())


def test_a_network_trained_without_the_gan_is_not_given_the_gans_settings():
    """Snakemake re-runs a job whose params change: a new discriminator or alpha must re-run only the GANs."""
    from qpi.families.despeckle import train_settings
    cfg = {"train": {"epochs": 8, "lr": 1e-3, "betas": [0.5, 0.999], "alpha": 100.0,
                     "discriminator": {"arch": "patchgan", "width": 16, "layers": 3}},
           "models": {"despecklenet": {"arch": "despecklenet", "adversarial": True},
                      "unet": {"arch": "srqpi_unet", "adversarial": False, "train": {"epochs": 16}}}}
    assert train_settings(cfg, "despecklenet") == cfg["train"]
    assert train_settings(cfg, "unet") == {"epochs": 16, "lr": 1e-3, "betas": [0.5, 0.999]}


# ----------------------------------------------------------------------------- a sample sheet's speckle images
def _speckle_rows(fields: int, diffusers=("tape",), split=None) -> dict[str, dict]:
    return {f"f{i}_{d}": {"kind": "speckle", "field": f"f{i}", "diffuser": d, "split": split if i == 0 else None}
            for i in range(fields) for d in diffusers}


def test_a_sheets_diffusers_are_the_conditions_and_several_add_a_pooled_one():
    from qpi.families.despeckle import user

    assert user.conditions(_speckle_rows(2)) == {"tape": ["f0_tape", "f1_tape"]}
    both = user.conditions(_speckle_rows(2, ("tape", "petri")))
    assert list(both) == ["petri", "tape", "pooled"] and len(both["pooled"]) == 4
    assert user.conditions({"lo": {"kind": "lowres", "field": "f0"}}) == {}


def test_speckle_fields_split_whole_when_enough_else_by_blocks_with_a_guard_band():
    from qpi.families.despeckle import user
    from qpi.training import tiles

    spec = {"val": 0.15, "test": 0.2}
    whole = user.split(_speckle_rows(6, ("tape", "petri")), spec, seed=0)
    assert whole["by"] == "fields" and sorted(set(whole["fields"].values())) == ["test", "train", "val"]
    pinned = user.split(_speckle_rows(6, split="test"), spec, seed=0)
    assert pinned["fields"]["f0"] == "test"
    blocks = user.split(_speckle_rows(2), spec, seed=0)
    assert blocks["by"] == "blocks" and "too few" in blocks["why"]
    parts = tiles.tile_parts(blocks, "f0", (9, 9))
    assert {"train", "val", "test"} <= set(parts.ravel())
    near = ndimage.binary_dilation(parts == "test", np.ones((3, 3), bool))
    assert not (near & (parts == "train")).any()  # a tile next to a test tile never trains
    with pytest.raises(ValueError, match="clear the sample sheet's split column"):
        user.split(_speckle_rows(2, split="test"), spec, seed=0)


def test_speckle_tiles_are_cut_with_their_targets_inside_the_label_only():
    from qpi.families.despeckle import user

    rng = np.random.default_rng(0)
    speckle, intensity = rng.random((64, 64)) * 3000 + 10, rng.random((64, 64)) + 1
    label = rng.random((64, 64))
    label[:32, :32] = np.nan  # outside a field stop
    parts = np.full((4, 4), "train", dtype=object)
    parts[3, 3] = "test"
    out = user.cut("s.tif", speckle, intensity, {"tie": label}, parts, "train", 16)
    assert out["speckle"].shape == (11, 1, 16, 16)  # 15 train tiles, 4 in the NaN corner
    assert np.allclose(out["tie"].mean(axis=(2, 3)), 0, atol=1e-6)
    assert out["speckle"].mean() == pytest.approx(1, rel=0.1) and out["intensity"].mean() == pytest.approx(1, rel=0.1)
    assert len(user.cut("s.tif", speckle, intensity, {"tie": label}, parts, "val", 16)["speckle"]) == 0
    with pytest.raises(StackError, match="same camera grid"):
        user.cut("s.tif", speckle[:32], intensity, {"tie": label}, parts, "train", 16)
