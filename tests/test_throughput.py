"""GPU throughput switches: their selection per device, their CPU behaviour (ignored, same weights),
loss scaling and autocast in a step, and the prefetching batch stream."""

import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from toys import sr_pairs, train_config

from qpi import models
from qpi.core import device
from qpi.training import accel, batches, cycle_gan, loop, losses, paired_gan, supervised
from qpi.training.accel import Accel

MODEL = {"width": 4, "depth": 2}  # tiny U-Net (with batch norm): 8×8 LR → 32×32 HR
ALL_ON = {"amp": "bf16", "channels_last": True, "compile": True, "pin_memory": True}


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)




# --- selection --------------------------------------------------------------------------------


def test_precision_follows_the_selected_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    gpu = device.select_device("auto")
    assert device.autocast_dtype("bf16", gpu) == torch.bfloat16
    assert device.autocast_dtype("fp16", gpu) == torch.float16
    assert device.autocast_dtype("off", gpu) is None and device.autocast_dtype(False, gpu) is None  # YAML `off`
    assert device.grad_scaler(torch.float16).is_enabled()  # fp16 needs loss scaling, bf16 does not
    assert not device.grad_scaler(torch.bfloat16).is_enabled() and not device.grad_scaler(None).is_enabled()

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cpu = device.select_device("auto")
    assert device.autocast_dtype("fp16", cpu) is None and device.autocast_dtype("bf16", cpu) is None
    with pytest.raises(ValueError, match="unknown amp 'fp8'; available: off, bf16, fp16"):
        device.autocast_dtype("fp8", cpu)


def test_switches_apply_on_cuda_and_are_ignored_on_cpu_with_one_log_line(caplog):
    cfg = train_config(**ALL_ON)
    assert accel.accel_for(cfg, torch.device("cuda")) == Accel(torch.bfloat16, True, True, True)
    assert accel.accel_for(train_config(amp="fp16"), torch.device("cuda")).dtype == torch.float16
    with caplog.at_level(logging.INFO, logger="qpi"):
        assert accel.accel_for(cfg, torch.device("cpu")) == Accel()
        assert accel.accel_for(train_config(), torch.device("cpu")) == Accel()  # nothing asked: nothing logged
    assert [r.getMessage() for r in caplog.records] == [
        "GPU switches amp=bf16, channels_last=True, compile=True, pin_memory=True ignored on cpu"]
    with pytest.raises(ValueError, match="unknown amp"):
        accel.accel_for(train_config(amp="half"), torch.device("cpu"))


@pytest.mark.parametrize("switch", [{"amp": "bf16"}, {"amp": "fp16"}, {"channels_last": True},
                                    {"compile": True}, {"pin_memory": True}])
def test_each_switch_on_cpu_trains_to_the_same_weights_as_off(tmp_path, switch):
    """The CPU path stays the reproducible float32 one whatever the GPU switches say."""
    supervised.train_supervised("srqpi_unet", MODEL, sr_pairs(8, 0), sr_pairs(2, 1), train_config(), tmp_path / "off")
    supervised.train_supervised("srqpi_unet", MODEL, sr_pairs(8, 0), sr_pairs(2, 1), train_config(**switch), tmp_path / "on")
    off, on = (torch.load(tmp_path / d / "last.pt", weights_only=True)["state_dict"] for d in ("off", "on"))
    assert all(torch.equal(off[k], on[k]) for k in off)
    assert torch.load(tmp_path / "on" / "last.pt", weights_only=True)["states"].keys() == {"optimizer"}


@pytest.mark.parametrize("switch", [{"amp": "fp16"}, {"channels_last": True}, {"compile": True}])
def test_each_switch_on_cpu_trains_the_paired_gan_to_the_same_weights_as_off(tmp_path, switch):
    x = np.random.default_rng(0).normal(size=(8, 1, 16, 16)).astype(np.float32)
    pairs = (x, np.concatenate([np.tanh(x), x], 1))
    cfg = dict(epochs=1, batch_size=4, device="cpu", threads=1, discriminator={"arch": "patchgan", "width": 4, "layers": 2})
    arch = dict(channels=(4, 8), residual_blocks=1, complex_blocks=1)
    for name, extra in (("off", {}), ("on", switch)):
        paired_gan.train_paired("despecklenet", arch, pairs, pairs, paired_gan.PairedConfig(**cfg, **extra), tmp_path / name)
    off, on = (torch.load(tmp_path / d / "last.pt", weights_only=True) for d in ("off", "on"))
    assert all(torch.equal(off["state_dict"][k], on["state_dict"][k]) for k in off["state_dict"])
    assert on["states"].keys() == {"optimizer", "discriminator", "optimizer_d"}


# --- one step ---------------------------------------------------------------------------------


def _step_setup(seed=0):
    torch.manual_seed(seed)
    model = models.build("srqpi_unet", upscale=4, **MODEL)
    x, y = (torch.from_numpy(a) for a in sr_pairs(4, 2))
    return model, torch.optim.SGD(model.parameters(), lr=0.1), x, y


def test_a_scaled_step_equals_an_unscaled_one_and_an_overflow_skips_the_step():
    """Scaling by a power of two and unscaling is exact, so the weights match bit for bit."""
    plain, opt, x, y = _step_setup()
    scaled, opt_scaled, _, _ = _step_setup()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)  # the CUDA scaler's logic, testable on CPU
    loss = supervised.queue_step(plain, opt, F.mse_loss, x, y)
    loss_scaled = supervised.queue_step(scaled, opt_scaled, F.mse_loss, x, y, scaler=scaler)
    assert torch.equal(loss, loss_scaled) and not loss_scaled.requires_grad
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), scaled.state_dict().values()))

    before = {k: v.clone() for k, v in scaled.state_dict().items() if k.endswith("weight")}
    overflow = torch.amp.GradScaler("cpu", init_scale=2.0**100)

    def huge_loss(pred, target):  # its gradients, scaled by 2¹⁰⁰, overflow float32
        return 1e10 * F.mse_loss(pred, target)

    supervised.queue_step(scaled, opt_scaled, huge_loss, x, y, scaler=overflow)
    assert all(torch.equal(before[k], scaled.state_dict()[k]) for k in before)  # step skipped
    assert overflow.get_scale() == 2.0**99  # and the scale halved


def _gan_step(scaler):
    """One paired-GAN step (DespeckleNet + PatchGAN) from fixed weights; every weight after it."""
    torch.manual_seed(0)
    g = models.build("despecklenet", channels=(4, 8), residual_blocks=1, complex_blocks=1)
    d = models.build("patchgan", width=4, layers=2)
    opt_g, opt_d = (torch.optim.SGD(m.parameters(), lr=0.1) for m in (g, d))
    x = torch.randn(2, 1, 16, 16)
    y = torch.cat([torch.tanh(x), x], 1)
    paired_gan.gan_step(g, d, opt_g, opt_d, x, y, 0.35, losses.loss("l1"), scaler=scaler)
    return [*g.state_dict().values(), *d.state_dict().values()]


def _cycle_step(scaler):
    """One cycle-GAN step (two tiny U-Nets, two PatchGANs, image pools) from fixed weights."""
    torch.manual_seed(0)
    g_ab, g_ba = (models.build("contrans_unet", width=4, depth=1) for _ in range(2))
    d_a, d_b = (models.build("patchgan", width=4, layers=2, in_channels=1) for _ in range(2))
    nets = cycle_gan.CycleGAN(g_ab, g_ba, d_a, d_b)
    opt_g = torch.optim.SGD([*g_ab.parameters(), *g_ba.parameters()], lr=0.1)
    opt_d = torch.optim.SGD([*d_a.parameters(), *d_b.parameters()], lr=0.1)
    a, b = torch.randn(2, 1, 16, 16), 3 * torch.randn(2, 1, 16, 16)
    pools = (cycle_gan.ImagePool(4), cycle_gan.ImagePool(4))
    cycle_gan.cycle_step(nets, opt_g, opt_d, pools, a, b, 1.0, 3.0, 10.0, scaler=scaler)
    return list(nets.state_dict().values())


@pytest.mark.parametrize("gan_step", [_gan_step, _cycle_step], ids=["paired", "cycle"])
def test_a_scaled_gan_step_equals_an_unscaled_one(gan_step):
    """Both updates of a GAN step go through one loss scaler, unscaled exactly (powers of two)."""
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    assert all(torch.equal(a, b) for a, b in zip(gan_step(None), gan_step(scaler)))
    assert scaler.get_scale() == 2.0**12  # updated once per step, no overflow: unchanged


def test_an_autocast_step_runs_in_reduced_precision_with_a_float32_loss():
    model, opt, x, y = _step_setup()
    reference, _, _, _ = _step_setup()
    loss = supervised.queue_step(model, opt, F.mse_loss, x, y, dtype=torch.bfloat16)
    with torch.no_grad():
        exact = F.mse_loss(reference.train()(x), y)
    assert loss.dtype == torch.float32
    assert loss.item() != exact.item() and loss.item() == pytest.approx(exact.item(), rel=0.05)


# --- batch stream -----------------------------------------------------------------------------


def test_prefetching_batches_trains_on_the_plan_in_order():
    """Losses and weights equal a plain loop over the same (indices, op) plan: no batch shifted."""
    x, y = (torch.from_numpy(a) for a in sr_pairs(12, 0))
    plan = list(zip(*batches.epoch_plan(12, 4, seed=3, epoch=0)))
    cpu = torch.device("cpu")
    streamed, opt, _, _ = _step_setup()
    load = batches.batch_loader((x, y), cpu, augment=True)
    steps = list(loop.prefetched(plan, load, lambda batch: {"loss": supervised.queue_step(streamed, opt, F.mse_loss, *batch)}))
    plain, opt_plain, _, _ = _step_setup()
    expected = [supervised.train_step(plain, opt_plain, F.mse_loss, batches.dihedral(x[i], op), batches.dihedral(y[i], op))
                for i, op in plan]
    assert [losses["loss"] for losses, _ in steps] == expected and len(steps) == 3
    assert all(seconds > 0 for _, seconds in steps)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), streamed.state_dict().values()))


def test_the_loader_gathers_every_tensor_alike_and_only_the_input_goes_channels_last():
    x, y = torch.arange(2 * 3 * 4 * 4.0).reshape(2, 3, 4, 4), -torch.arange(2 * 2 * 4 * 4.0).reshape(2, 2, 4, 4)
    load = batches.batch_loader((x, y), torch.device("cpu"), augment=True, accel=Accel(channels_last=True))
    xb, yb = load((np.array([1]), 5))
    assert torch.equal(xb, batches.dihedral(x[[1]], 5)) and torch.equal(yb, batches.dihedral(y[[1]], 5))
    xb, yb = load((np.array([0, 1]), 0))  # the identity: memory layouts as gathered
    assert xb.is_contiguous(memory_format=torch.channels_last) and not xb.is_contiguous()
    assert yb.is_contiguous() and torch.equal(yb, y)


def test_steps_after_a_mid_epoch_validation_train_in_training_mode(tmp_path):
    """Batch norm's running statistics count every step, also those after validations between steps."""
    supervised.train_supervised("srqpi_unet", MODEL, sr_pairs(8, 0), sr_pairs(2, 1), train_config(val_every_steps=1), tmp_path)
    state = torch.load(tmp_path / "last.pt", weights_only=True)["state_dict"]
    tracked = [v.item() for k, v in state.items() if k.endswith("num_batches_tracked")]
    assert tracked and set(tracked) == {4}  # 2 epochs × 2 steps
