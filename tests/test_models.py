"""Models: shapes, gradients, overfitting one batch, registry and config round trips."""

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from qpi import models
from qpi.models.srqpi import SRCNN, UNet

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.parametrize(
    ("lr_shape", "upscale", "depth"),
    [((8, 8), 4, 2), ((8, 12), 4, 3), ((16, 16), 2, 4), ((32, 16), 1, 2)],
)
def test_unet_output_is_the_input_grid_times_upscale(lr_shape, upscale, depth):
    model = UNet(upscale=upscale, width=4, depth=depth)
    out = model(torch.rand(2, 1, *lr_shape))
    assert out.shape == (2, 1, lr_shape[0] * upscale, lr_shape[1] * upscale)


def test_unet_channels_double_per_level_and_heads_are_configurable():
    model = UNet(in_channels=2, out_channels=3, upscale=2, width=4, depth=3, up_mode="bilinear")
    bottom = model.downs[-1][1][1][0]  # Down → DoubleConv → second conv_bn_relu → Conv2d
    assert bottom.out_channels == 4 * 2**3
    assert model(torch.rand(1, 2, 8, 8)).shape == (1, 3, 16, 16)


def test_unet_rejects_sizes_the_pooling_cannot_halve():
    with pytest.raises(ValueError, match="divisible by 8"):
        UNet(upscale=1, width=4, depth=3)(torch.rand(1, 1, 20, 24))


@pytest.mark.parametrize(("lr_shape", "upscale"), [((8, 8), 4), ((6, 10), 3), ((16, 16), 1)])
def test_srcnn_keeps_the_interpolated_size(lr_shape, upscale):
    model = SRCNN(upscale=upscale, channels=(8, 4))
    assert model(torch.rand(3, 1, *lr_shape)).shape == (3, 1, lr_shape[0] * upscale, lr_shape[1] * upscale)


@pytest.mark.parametrize(
    "make", [lambda: UNet(width=4, depth=2), lambda: SRCNN(channels=(8, 4))], ids=["unet", "srcnn"]
)
def test_gradients_reach_the_first_layer(make):
    model = make()
    loss = model(torch.rand(2, 1, 8, 8)).square().mean()
    loss.backward()
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first.weight.grad is not None
    assert torch.isfinite(first.weight.grad).all()
    assert first.weight.grad.abs().sum() > 0


def _smooth_pair(n=4, lr=8, upscale=4):
    """LR intensities and a phase that is a fixed non-linear function of their interpolation."""
    x = F.avg_pool2d(torch.rand(n, 1, lr + 2, lr + 2), 3, stride=1)
    up = F.interpolate(x, scale_factor=upscale, mode="bicubic", align_corners=False)
    y = torch.sin(6 * up) - torch.sin(6 * up).mean()
    return x, y


@pytest.mark.parametrize(
    ("make", "lr"),
    [(lambda: UNet(width=4, depth=2), 1e-2), (lambda: SRCNN(channels=(16, 8)), 1e-2)],
    ids=["unet", "srcnn"],
)
def test_each_model_overfits_one_batch(make, lr):
    model = make()
    x, y = _smooth_pair()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    while len(losses) < 100 and (not losses or losses[-1] > losses[0] / 10):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10, f"loss only fell from {losses[0]:.3g} to {losses[-1]:.3g}"


def test_registry_lists_builds_and_records_config():
    assert {"srqpi_unet", "srcnn"} <= set(models.available())
    model = models.build("srqpi_unet", width=4, depth=2)
    assert isinstance(model, UNet)
    assert model.registry_name == "srqpi_unet"
    assert model.config == {
        "in_channels": 1, "out_channels": 1, "upscale": 4, "width": 4, "depth": 2,
        "interpolation": "bicubic", "up_mode": "transpose",
    }


def test_the_builtin_table_names_each_network_by_the_module_that_registers_it():
    import importlib

    from qpi.models import registry

    for module in set(models.BUILTIN.values()):
        importlib.import_module(f"qpi.models.{module}")
    modules = {name: registry.lookup(name).__module__ for name in registry.registered()}
    ours = {name: module for name, module in modules.items() if module.startswith("qpi.models.")}
    assert ours == {name: f"qpi.models.{module}" for name, module in models.BUILTIN.items()}


def test_listing_the_networks_imports_no_torch():  # what every snakemake call does while planning
    code = ("import sys; from qpi import models; names = models.available(); "
            "assert 'torch' not in sys.modules, 'torch imported'; print(len(names))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(models.BUILTIN)


def test_config_rebuilds_an_identical_model():
    model = models.build("srcnn", upscale=2, channels=(8, 4))
    rebuilt = models.build(model.registry_name, **model.config)
    rebuilt.load_state_dict(model.state_dict())
    x = torch.rand(1, 1, 8, 8)
    assert torch.equal(model(x), rebuilt(x))


def test_unknown_model_names_the_available_ones():
    with pytest.raises(ValueError, match="available models: .*srqpi_unet"):
        models.build("no-such-net")


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="already registered"):

        @models.register("srqpi_unet")
        class Other(nn.Module):
            pass
