"""ContransGAN family: Swin pieces, generators, the cycle-GAN loss and trainer, unpaired data, acquisition, heights."""

import numpy as np
import pandas as pd
import pytest
import torch

from qpi import models
from qpi.families import contrans
from qpi.models.contrans import (
    PatchEmbed,
    PatchExpand,
    SwinBlock,
    WindowAttention,
    relative_position_index,
    shift_mask,
    window_partition,
    window_reverse,
)
from qpi.optics.imaging import Microscope
from qpi.optics.phantoms import microspheres_with_centres
from qpi.scoring import metrics
from qpi.training import checkpoints, cycle_gan, losses, optim

GENERATORS = {
    "contrans": {"width": 4, "depth": 2, "window": 4, "head_dim": 4},
    "contrans_unet": {"width": 4, "depth": 2},
    # width 8: its 4×4 patch tokens must carry 16 pixels (4 channels, 3 after LayerNorm, cannot)
    "contrans_swin": {"width": 8, "depth": 2, "window": 4, "head_dim": 4},
}


pytestmark = pytest.mark.usefixtures("torch_one_thread")


# --- Swin pieces -----------------------------------------------------------------------------------


def test_window_partition_cuts_row_major_windows_and_reverse_undoes_it():
    x = torch.arange(2 * 8 * 12 * 3, dtype=torch.float32).reshape(2, 8, 12, 3)
    windows = window_partition(x, 4)
    assert windows.shape == (2 * 2 * 3, 16, 3)
    # window 4 of the first image is row 1, column 1 of the window grid; its token 5 is pixel (1, 1) inside
    assert torch.equal(windows[4, 5], x[0, 4 + 1, 4 + 1])
    assert torch.equal(window_reverse(windows, 4, 8, 12), x)


def test_relative_position_index_depends_only_on_the_offset():
    index = relative_position_index(3)
    assert index.shape == (9, 9) and index.min() == 0 and index.max() == 24
    # (0,0)→(1,2) and (1,0)→(2,2) have the same offset, hence the same bias entry
    assert index[0, 5] == index[3, 8]
    assert index[0, 5] != index[5, 0]


def test_shift_mask_blocks_attention_across_the_wrapped_borders():
    h = w = 8
    window, shift = 4, 2
    mask = shift_mask(h, w, window, shift)
    assert mask.shape == (4, 16, 16) and mask.all(dim=0).diagonal().all()
    # where each token of the rolled map came from in the original map
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    origin = torch.stack([ys, xs], -1).roll((-shift, -shift), dims=(0, 1))
    origin = window_partition(origin[None].float(), window).long()  # (nW, N, 2)
    for k in range(4):
        oy, ox = origin[k, :, 0], origin[k, :, 1]
        # tokens that are neighbours in the original map only through the wrap lie > window apart
        wrapped = ((oy[:, None] - oy[None]).abs() >= window) | ((ox[:, None] - ox[None]).abs() >= window)
        assert torch.equal(mask[k], ~wrapped), f"window {k}: the mask is not 'same side of the wrap'"
    assert mask[0].all()  # the top-left window holds no wrapped tokens
    assert not mask[3].all()  # the bottom-right one holds tokens of all four corners


def test_masked_attention_weights_are_zero_across_regions_and_rows_sum_to_one():
    attention = WindowAttention(dim=8, window=4, heads=2)
    mask = shift_mask(8, 8, 4, 2)
    tokens = torch.randn(4, 16, 8)
    weights, _ = attention.weights(tokens, mask)
    assert torch.allclose(weights.sum(-1), torch.ones(4, 2, 16))
    blocked = ~mask[:, None].expand_as(weights)
    assert weights[blocked].abs().max() == 0


def test_shifted_block_output_at_a_pixel_ignores_a_change_across_the_wrap():
    torch.manual_seed(1)
    block = SwinBlock(dim=4, heads=1, window=4, shift=2).eval()
    x = torch.randn(1, 8, 8, 4)
    y = x.clone()
    y[0, 0, 0] += 10.0  # top-left pixel: after the roll it shares a window with the bottom-right corner
    with torch.no_grad():
        changed = (block(x) - block(y)).abs().sum(-1)[0]
    assert changed[7, 7] == 0 and changed[0, 0] > 0
    assert changed[0, 1] > 0  # its own window still sees it


def test_swin_block_pads_any_size_and_keeps_the_shape():
    block = SwinBlock(dim=8, heads=2, window=4, shift=2)
    for h, w in [(5, 7), (4, 4), (9, 3), (1, 1)]:
        assert block(torch.randn(2, h, w, 8)).shape == (2, h, w, 8)


@pytest.mark.parametrize(("h", "w", "patch"), [(8, 8, 2), (7, 10, 2), (1, 3, 2), (9, 16, 4)])
def test_patch_embedding_divides_the_size_by_its_patch(h, w, patch):
    out = PatchEmbed(6, 12, patch)(torch.randn(2, 6, h, w))
    assert out.shape == (2, -(-h // patch), -(-w // patch), 12)


def test_patch_embedding_sees_exactly_its_own_patch():
    embed = PatchEmbed(1, 1, 2)
    x = torch.zeros(1, 1, 4, 4, requires_grad=True)
    embed(x)[0, 1, 0, 0].backward()  # patch row 1, column 0: pixels rows 2–3, columns 0–1
    assert torch.equal(x.grad[0, 0] != 0, torch.tensor([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]).bool())


def test_patch_expand_multiplies_the_size_by_its_scale():
    assert PatchExpand(8)(torch.randn(2, 3, 5, 8)).shape == (2, 6, 10, 4)
    assert PatchExpand(8, scale=4, out_dim=8)(torch.randn(2, 3, 5, 8)).shape == (2, 12, 20, 8)


def test_one_position_bias_table_is_shared_by_the_heads_unless_asked():
    assert WindowAttention(dim=8, window=4, heads=2).bias_table.shape == (49, 1)
    assert WindowAttention(dim=8, window=4, heads=2, bias_per_head=True).bias_table.shape == (49, 2)
    assert WindowAttention(dim=8, window=4, heads=2).qkv.bias is None


# --- generators --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("size", [(37, 50), (40, 40), (5, 9)])
def test_generators_keep_sizes_that_are_not_multiples_of_the_window(name, size):
    model = models.build(name, **GENERATORS[name])
    assert model(torch.rand(2, 1, *size)).shape == (2, 1, *size)


def test_contrans_fuses_both_branches():
    model = models.build("contrans", **GENERATORS["contrans"])
    x = torch.rand(2, 1, 24, 24)
    model(x).square().mean().backward()
    swin_first = model.swin.embeds[0].proj.weight.grad
    cnn_first = model.unet.inc[0][0].weight.grad
    assert swin_first.abs().sum() > 0 and cnn_first.abs().sum() > 0
    # the U-Net's own skips are not used: the Swin stages are the skips (the authors' layout)
    unused = [name for name, p in model.named_parameters() if p.grad is None]
    assert not unused, unused


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_start_from_the_authors_init_unless_asked(name):
    convs = lambda m: torch.cat([c.weight.detach().flatten() for c in m.modules() if isinstance(c, torch.nn.Conv2d)])  # noqa: E731
    theirs, default = (models.build(name, **GENERATORS[name], init=i) for i in ("normal", "default"))
    assert convs(theirs).std().item() == pytest.approx(0.02, rel=0.15) and convs(default).std().item() > 0.04
    norms = [m.weight for m in theirs.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all((w.detach() - 1).abs().max() < 0.2 and (w != 1).any() for w in norms)  # N(1, 0.02)


def test_contrans_takes_its_skips_from_the_swin_branch_at_the_decoder_levels():
    """The authors' layout: Swin stage s (H/2^(s+2), width·2^s channels) up-sampled ×4 joins decoder
    level s; the CNN encoder reaches the decoder only through its bottleneck."""
    model = models.build("contrans", width=4, depth=3, window=4, head_dim=4).eval()
    x = torch.rand(1, 1, 32, 32)
    features = model.swin(x)
    assert [tuple(f.shape[1:]) for f in features] == [(4, 8, 8), (8, 4, 4), (16, 2, 2)]
    seen = []
    hooks = [up.register_forward_hook(lambda m, args, out: seen.append(args[1].shape)) for up in model.unet.ups]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    assert [tuple(s[1:]) for s in seen] == [(16, 8, 8), (8, 16, 16), (4, 32, 32)]


def test_generator_scales_map_raw_units_to_output_units():
    torch.manual_seed(2)
    scaled = models.build("contrans_unet", width=4, depth=1, in_scale=0.2, out_scale=5.0).eval()
    plain = models.build("contrans_unet", width=4, depth=1).eval()
    plain.load_state_dict(scaled.state_dict())
    x = torch.rand(1, 1, 16, 16)
    assert torch.allclose(scaled(x), 5.0 * plain(x / 0.2), atol=1e-5)
    with pytest.raises(ValueError, match="data scales must be positive"):
        models.build("contrans_unet", in_scale=0.0)


def test_a_saved_generator_reloads_identically(tmp_path):
    model = models.build("contrans", **GENERATORS["contrans"], in_scale=0.3, out_scale=2.0)
    checkpoints.save_model(tmp_path / "g.pt", model)
    loaded = checkpoints.load_model(tmp_path / "g.pt")
    x = torch.rand(1, 1, 20, 20)
    assert torch.equal(model.eval()(x), loaded(x))


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_overfits_one_batch(name):
    model = models.build(name, **GENERATORS[name])
    x = torch.nn.functional.avg_pool2d(torch.rand(2, 1, 22, 22), 3, stride=1)
    y = torch.sin(6 * x) + x.roll(3, dims=-1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        optimizer.zero_grad()
        loss = torch.nn.functional.l1_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 3, f"{name}: loss only fell from {losses[0]:.3g} to {losses[-1]:.3g}"


# --- cycle GAN ---------------------------------------------------------------------------------------


class Scale(torch.nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return self.factor * x


def test_cycle_loss_is_zero_for_inverse_generators_and_l1_otherwise():
    a, b = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    assert cycle_gan.cycle_loss(Scale(2.0), Scale(0.5), a, b).item() == pytest.approx(0.0)
    # G_BA∘G_AB = 1.5·id: the cycle errors are 0.5·mean|a| + 0.5·mean|b|
    expected = 0.5 * a.abs().mean() + 0.5 * b.abs().mean()
    assert cycle_gan.cycle_loss(Scale(3.0), Scale(0.5), a, b).item() == pytest.approx(expected.item(), rel=1e-6)


def test_lsgan_targets_one_for_real_and_zero_for_fake():
    d = torch.full((2, 1, 3, 3), 0.25)
    assert losses.lsgan(d, True).item() == pytest.approx(0.5625)
    assert losses.lsgan(d, False).item() == pytest.approx(0.0625)


def test_image_pool_fills_then_swaps_and_round_trips_its_state():
    torch.manual_seed(0)
    pool = cycle_gan.ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: returned as they come
    out = pool.query(torch.full((64, 1, 1, 1), 9.0))
    swapped = (out != 9.0).sum().item()
    assert 0 < swapped <= 4  # some queries came back as stored earlier images
    other = cycle_gan.ImagePool(4)
    other.load_state_dict(pool.state_dict())
    assert torch.equal(torch.stack(other.images), torch.stack(pool.images))
    assert torch.equal(cycle_gan.ImagePool(0).query(first), first)


def test_linear_decay_is_constant_then_falls_to_zero():
    cfg = cycle_gan.CycleConfig(epochs=6, lr=1.0, lr_schedule={"name": "linear", "constant_epochs": 2})
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = optim.make_scheduler(optimizer, cfg)
    rates = []
    for _ in range(6):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([1.0, 1.0, 0.8, 0.6, 0.4, 0.2])
    with pytest.raises(ValueError, match="constant_epochs < epochs"):
        optim.make_scheduler(optimizer, cycle_gan.CycleConfig(epochs=2, lr_schedule={"name": "linear",
                                                                                               "constant_epochs": 2}))


def _domains(n=8, size=16, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.1, (n, 1, size, size)).astype(np.float32)
    b = rng.normal(0, 2.0, (n, 1, size, size)).astype(np.float32)
    return a, b, np.arange(n), 1000 + np.arange(n)


def _cfg(**kw):
    return cycle_gan.CycleConfig(**{"epochs": 2, "batch_size": 4, "lr": 1e-3, "device": "cpu", "threads": 1,
                                   "discriminator": {"arch": "patchgan", "width": 4, "layers": 2}, **kw})


def test_cycle_training_writes_logs_a_scaled_generator_and_resumes_exactly(tmp_path):
    a, b, fa, fb = _domains()
    kwargs = {"width": 4, "depth": 1, "window": 4, "head_dim": 4}
    whole = cycle_gan.train_cycle("contrans", kwargs, a, b, fa, fb, _cfg(epochs=3), tmp_path / "whole")
    assert whole["steps"] == 6
    steps = pd.read_csv(tmp_path / "whole" / "steps.csv")
    assert len(steps) == 6 and np.isfinite(steps[["loss_g", "loss_cycle", "loss_d_a", "loss_d_b"]].to_numpy()).all()
    generator = checkpoints.load_model(tmp_path / "whole" / "generator.pt")
    assert generator.in_scale == pytest.approx(a.std(), rel=1e-4)
    assert generator.out_scale == pytest.approx(b.std(), rel=1e-4)
    # stopped after 3 steps (mid-epoch), then resumed to the end: the same weights
    cycle_gan.train_cycle("contrans", kwargs, a, b, fa, fb, _cfg(epochs=3, max_steps=3), tmp_path / "split")
    resumed = cycle_gan.train_cycle("contrans", kwargs, a, b, fa, fb, _cfg(epochs=3), tmp_path / "split")
    assert resumed["resumed"] and resumed["steps"] == 6
    again = checkpoints.load_model(tmp_path / "split" / "generator.pt")
    for (name, p), q in zip(generator.state_dict().items(), again.state_dict().values()):
        assert torch.equal(p, q), name
    assert pd.read_csv(tmp_path / "split" / "steps.csv")["step"].tolist() == list(range(1, 7))


def test_cycle_gan_learns_to_reconstruct_through_the_other_domain(tmp_path):
    # A: smooth images; B: images of the same kind ×5 from other draws. The cycle error must fall.
    from scipy import ndimage

    rng = np.random.default_rng(3)

    def smooth(n):
        return ndimage.gaussian_filter(rng.normal(size=(n, 1, 16, 16)), (0, 0, 2, 2)).astype(np.float32)

    a, b = smooth(16), 5 * smooth(16)
    # 120 steps: from the authors' N(0, 0.02) init Adam moves the output conv ≤ lr per step, so the
    # cycle error falls steadily but slowly (1.69 → 1.11 after 40 steps, 0.42 after 120)
    cycle_gan.train_cycle("contrans_unet", {"width": 4, "depth": 1}, a, b, np.arange(16), 100 + np.arange(16),
                         _cfg(epochs=30, lr=3e-3), tmp_path)
    steps = pd.read_csv(tmp_path / "steps.csv")
    first, last = steps["loss_cycle"].iloc[:4].mean(), steps["loss_cycle"].iloc[-4:].mean()
    assert last < first / 2, f"cycle loss only fell from {first:.3g} to {last:.3g}"


# --- unpaired data -----------------------------------------------------------------------------------


def test_unpaired_plan_never_pairs_a_field_of_view_with_itself():
    fov_a = np.arange(10)
    fov_b = 100 + np.arange(13)
    cycle_gan.check_unpaired(fov_a, fov_b)
    seen_a, seen_b = set(), set()
    for epoch in range(5):
        plan = cycle_gan.unpaired_plan(len(fov_a), len(fov_b), 4, seed=0, epoch=epoch)
        assert len(plan) == 13 // 4
        for index_a, op_a, index_b, op_b in plan:
            assert len(index_a) == len(index_b) == 4
            assert not set(fov_a[index_a]) & set(fov_b[index_b])
            seen_a |= set(index_a.tolist())
            seen_b |= set(index_b.tolist())
    assert seen_a == set(range(10)) and seen_b == set(range(13))
    # the two domains are shuffled independently: the pairing changes from epoch to epoch
    plans = [cycle_gan.unpaired_plan(10, 10, 10, seed=0, epoch=e)[0] for e in range(2)]
    assert not np.array_equal(plans[0][0] - plans[0][2], plans[1][0] - plans[1][2])


def test_training_domains_sharing_a_field_of_view_are_refused():
    with pytest.raises(ValueError, match="share 1 fields of view"):
        cycle_gan.check_unpaired(np.array([1, 2, 3]), np.array([3, 4]))
    a, b, fa, _ = _domains()
    with pytest.raises(ValueError, match="different fields of view"):
        cycle_gan.train_cycle("contrans_unet", {"width": 4, "depth": 1}, a, b, fa, fa, _cfg(), "/nonexistent/never")


SCOPE = dict(wavelength_um=0.55, camera_pixel_um=6.5, oversample=2, medium_index=1.33, source_step=0.3)


@pytest.fixture(scope="module")
def acquired():
    objectives = {name: Microscope(**SCOPE, magnification=m, na=na, coherence=0.6)
                  for name, m, na in [("4x", 4, 0.1), ("40x", 40, 0.65)]}
    label = Microscope(**SCOPE, magnification=40, na=0.65, coherence=0.3)
    spec = {"kind": "microspheres", "params": {"diameter_um": 3.0, "delta_n": 0.05, "count": [3, 5]}}
    args = (spec, objectives, label, 3.0, 2, 20, 2, 1e5, "dct", 1e-9)
    return {part: contrans.acquire(part, 2, *args, seed=[0, i], min_phase_rad=0.2)
            for i, part in enumerate(contrans.PARTS)}


def test_acquired_parts_hold_their_domains_on_disjoint_fields_of_view(acquired):
    a, b, test = acquired["train_a"], acquired["train_b"], acquired["test"]
    assert set(a) == {"fov", "lr_4x", "lr_40x"} and set(b) == {"fov", "tie", "exact"}
    assert set(test) == {"fov", "lr_4x", "lr_40x", "tie", "exact"}
    assert a["lr_4x"].shape[1:] == (1, 4, 4) and a["lr_40x"].shape[1:] == (1, 40, 40)  # 13 µm of 1.625 / 0.1625
    assert b["tie"].shape[1:] == (1, 20, 20)
    assert not set(a["fov"]) & set(b["fov"]) and not set(a["fov"]) & set(test["fov"])
    assert np.ptp(test["exact"], axis=(1, 2, 3)).min() >= 0.2  # empty tiles dropped


def test_tie_label_recovers_weak_spheres_and_inputs_reach_the_hr_grid(acquired):
    test = acquired["test"]
    ssim = [metrics.ssim(t[0] - t.mean(), e[0] - e.mean()) for t, e in zip(test["tie"], test["exact"])]
    assert np.mean(ssim) > 0.8  # weak spheres (Δn 0.05): TIE at 40×/0.65, ±3 µm is close to exact
    for name in ("lr_4x", "lr_40x"):
        x = contrans.network_input(test[name], 20)
        assert x.shape == (len(test["fov"]), 1, 20, 20) and abs(x.mean()) < 0.2
    with pytest.raises(ValueError, match="not a whole number"):
        contrans.network_input(np.ones((1, 1, 6, 6)), 20)


def test_tile_grid_mismatch_is_one_clear_error():
    scope = Microscope(magnification=4, na=0.1, camera_pixel_um=6.5)
    with pytest.raises(ValueError, match="not a whole number"):
        contrans.tile_px(64, 0.325, scope)  # 20.8 µm is 12.8 pixels of 1.625 µm
    assert contrans.tile_px(40, 0.325, scope) == 8


def test_fourier_resampling_keeps_a_band_limited_field():
    n = 64
    y, x = np.mgrid[:n, :n] / n
    field = np.exp(1j * (0.8 * np.cos(2 * np.pi * x) + 0.5 * np.sin(2 * np.pi * y)))  # harmonics die before 8
    coarse = contrans.resample(field, 4)
    assert coarse.shape == (16, 16)
    assert np.allclose(coarse, field[::4, ::4], atol=1e-3)


# --- sphere heights and tables ------------------------------------------------------------------------


def test_sphere_heights_of_the_exact_phase_are_the_diameter():
    rng = np.random.default_rng(4)
    phase, _, centres = microspheres_with_centres((120, 120), 0.1625, 0.55, rng, diameter_um=3.0, delta_n=0.26,
                                                  count=3)
    found = contrans.sphere_heights(phase, 0.1625, 0.55, 0.26, 3.0)
    inner = [c for c in centres if (c > 1.5 + 0.1625).all() and (c < 120 * 0.1625 - 1.5 - 0.1625).all()]
    assert len(found) == len(inner) >= 1
    assert np.allclose(found["height_um"], 3.0, atol=0.03)
    summary = contrans.height_summary(found["height_um"], 3.0)
    assert summary["relative_error"] < 0.01 and summary["count"] == len(found)
    assert contrans.sphere_heights(np.zeros((20, 20)), 0.1625, 0.55, 0.26, 3.0).empty


def test_objectives_table_puts_the_papers_values_beside_ours_and_the_spread_over_seeds():
    rows = []
    for objective, value in (("4x", 0.5), ("10x", 0.7)):
        for seed, shift in ((0, -0.02), (1, 0.02)):
            for reference in ("tie", "exact"):
                for i, offset in enumerate((-0.1, 0.1)):
                    rows.append({"specimen": "hela", "model": "contrans", "train_objective": objective,
                                 "test_objective": objective, "reference": reference, "image": i, "seed": seed,
                                 "ssim": value + shift + offset, "psnr": 20 + 10 * offset,
                                 "pearson": 0.8 if seed == 0 else -0.5})
    rows.append({**rows[0], "test_objective": "10x"})  # cross-objective rows stay out of Table 1
    table = contrans.objectives_table(pd.DataFrame(rows))
    assert table["objective"].tolist() == ["4x", "10x"]
    first = table.iloc[0]
    assert (first["seeds"], first["n_images"]) == (2, 2)
    assert first["ssim"] == pytest.approx(0.5) and first["ssim_seed_std"] == pytest.approx(0.02)
    assert first["ssim_std"] == pytest.approx(np.sqrt(0.1**2 + 0.02**2))  # tiles of every seed pooled
    assert first["psnr_seed_std"] == pytest.approx(0.0)
    assert (first["paper_ssim"], first["paper_psnr"]) == (0.898, 31.751)
    assert first["pearson"] == pytest.approx(0.15) and first["inverted_seeds"] == 1  # seed 1 learnt −φ
    markdown = contrans.objectives_markdown(table)
    assert "0.500 ± 0.102" in markdown and "0.020" in markdown


def test_cross_table_keeps_each_seed_and_eval_paths_name_every_seed():
    rows = pd.DataFrame([{"specimen": "hela", "model": "contrans", "train_objective": "4x", "test_objective": t,
                          "reference": "tie", "image": i, "seed": seed, "ssim": 0.1 * seed + i, "psnr": 20.0}
                         for t in ("4x", "10x") for seed in (0, 1) for i in (0, 1)])
    cross = contrans.cross_table(rows)
    assert len(cross) == 4 and cross[cross["seed"] == 1]["ssim"].tolist() == pytest.approx([0.6, 0.6])
    paths = contrans.eval_paths([("hela", "4x", "contrans")], [0, 1])
    assert paths == ["results/contrans/hela/4x/eval/contrans_s0.csv", "results/contrans/hela/4x/eval/contrans_s1.csv"]


def test_scores_carry_the_correlation_that_flags_an_inverted_phase(acquired):
    test = acquired["test"]
    inverted = test["tie"].max() - test["tie"]
    rows = contrans.score(inverted, test, family="contrans", model="m", seed=0, train_condition="4x",
                          test_condition="4x", specimen="s")
    assert {r["metric"] for r in rows} == {"ssim", "psnr", "nrmse", "mae", "pearson"}
    assert contrans.tile_mean(rows, "pearson", "4x") == pytest.approx(-1.0)
    assert contrans.tile_mean(contrans.score(test["tie"] + 1.0, test, family="contrans", model="m", seed=0,
                                             train_condition="4x", test_condition="4x", specimen="s"),
                              "pearson", "4x") == pytest.approx(1.0)


def _lab_rows(fields, lowres=(), stacks=(), split=None):
    rows = {f"{f}_10x": {"kind": "lowres", "field": f, "objective": "10x"} for f in lowres}
    stack_fields = {f: {"field": f, "split": (split or {}).get(f)} for f in stacks}
    return rows, stack_fields


def test_a_labs_fields_are_tested_with_both_kinds_and_train_one_domain_each():
    from qpi.families.contrans import user

    images, stacks = _lab_rows(8, lowres=[f"f{i}" for i in range(6)], stacks=[f"f{i}" for i in range(3, 9)])
    parts = user.split(images, stacks, test=0.3, seed=0)
    both = {"f3", "f4", "f5"}
    assert {f for f, p in parts.items() if p == "test"} <= both and "test" in parts.values()
    assert all(parts[f] == "a" for f in ("f0", "f1", "f2")) and all(parts[f] == "b" for f in ("f6", "f7", "f8"))
    pinned = user.split(images, {**stacks, "f4": {"field": "f4", "split": "test"}}, test=0.3, seed=0)
    assert pinned["f4"] == "test"
    with pytest.raises(ValueError, match="no field has both a low-NA image and a stack"):
        user.split(*_lab_rows(2, lowres=["f0"], stacks=["f1"]), test=0.3, seed=0)
    with pytest.raises(ValueError, match=r"no training field gives a stack \(domain B\)"):
        user.split(*_lab_rows(2, lowres=["f0", "f1"], stacks=["f1"]), test=0.3, seed=0)


def test_a_low_na_frame_is_registered_onto_its_fields_stack_to_a_fraction_of_its_pixel():
    from scipy import ndimage

    from qpi.core.errors import StackError
    from qpi.families.contrans import user
    from qpi.optics.binning import bin_pixels

    rng = np.random.default_rng(4)
    slide = 1 + 0.1 * ndimage.gaussian_filter(rng.standard_normal((384, 384)), 3)  # the high-NA grid
    y, x = 37, 90  # the stack's frame in the slide: 9.25 and 22.5 low-NA pixels
    planes = np.stack([slide[y : y + 240, x : x + 240]] * 2)
    low = bin_pixels(slide, 4) + 0.002 * rng.standard_normal((96, 96))
    crop, found = user.register(low, 4, planes, "low.tif", "f0")
    assert np.allclose(found["offset_px"], (y, x), atol=0.5) and found["correlation"] > 0.8  # binned off-grid
    assert crop.shape == (60, 60)
    assert np.corrcoef(crop.ravel(), bin_pixels(planes[0], 4).ravel())[0, 1] > 0.97
    with pytest.raises(StackError, match="^low.tif: no part of the low-NA image matches the stack of its field f0"):
        user.register(1 + 0.01 * rng.standard_normal((96, 96)), 4, planes, "low.tif", "f0")
    with pytest.raises(StackError, match="^low.tif: its low-NA frame covers 40×40 pixels, less than"):
        user.register(low[:40, :40], 4, planes, "low.tif", "f0")


def test_low_na_tiles_of_camera_noise_alone_are_left_out_of_domain_a():
    from qpi.families.contrans import user

    rng = np.random.default_rng(0)
    tiles = 1 + 0.02 * rng.standard_normal((2, 1, 20, 20))
    tiles[1] += 0.05 * np.sin(np.arange(20) / 2)  # a tile with structure
    assert user.holds_specimen(tiles, 0.02).tolist() == [False, True]
