"""The shared vocabulary: the block factories, the losses by name, seeds, stack names, the acquisition chain."""

import numpy as np
import pytest
import torch
from torch import nn

from qpi.core import plan
from qpi.core.seeds import dataset_seed, field_seed
from qpi.models.layers import conv, make_activation, make_norm
from qpi.optics.binning import bin_pixels
from qpi.optics.imaging import Microscope, camera_intensity, image_stack, shot_noise
from qpi.training import losses


@pytest.mark.parametrize("kind, cls", [("batch", nn.BatchNorm2d), ("instance", nn.InstanceNorm2d),
                                       ("group", nn.GroupNorm)])
def test_norm_factory_builds_each_kind_and_affine_means_the_same_for_all(kind, cls):
    assert isinstance(make_norm(kind, 8), cls) and make_norm(kind, 8).affine
    assert not make_norm(kind, 8, affine=False).affine
    assert make_norm("none", 8) is None
    with pytest.raises(ValueError, match="unknown normalisation 'layer'"):
        make_norm("layer", 8)


def test_activation_factory():
    assert isinstance(make_activation("leaky", 0.1), nn.LeakyReLU) and make_activation("leaky", 0.1).negative_slope == 0.1
    assert isinstance(make_activation("tanh"), nn.Tanh) and make_activation("none") is None
    with pytest.raises(ValueError, match="unknown activation"):
        make_activation("gelu")


def test_conv_block_orders_its_layers_and_drops_the_bias_a_norm_supplies():
    block = conv(4, 6)
    assert [type(m) for m in block] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU] and block[0].bias is None
    assert conv(4, 6, norm="none", act="none")[0].bias is not None and len(conv(4, 6, norm="none", act="none")) == 1
    pre = conv(4, 6, order="norm-act-conv")
    assert [type(m) for m in pre] == [nn.BatchNorm2d, nn.ReLU, nn.Conv2d] and pre[0].num_features == 4
    assert [type(m) for m in conv(4, 6, act="leaky", order="conv-act-norm")] == [nn.Conv2d, nn.LeakyReLU, nn.BatchNorm2d]
    down = conv(3, 5, 4, 2, padding=1)
    assert down(torch.zeros(1, 3, 16, 16)).shape == (1, 5, 8, 8)
    up = conv(3, 5, layer=nn.ConvTranspose2d(3, 5, 2, stride=2))
    assert up(torch.zeros(1, 3, 8, 8)).shape == (1, 5, 16, 16)
    with pytest.raises(ValueError, match="unknown block order"):
        conv(3, 5, order="act-conv")


def test_losses_by_name_and_the_two_gan_losses():
    x, y = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    assert losses.loss("l1")(x, y).item() == 1 and losses.loss("mse")(x, 2 * y).item() == 4
    assert set(losses.LOSSES) == {"mse", "l1", "l1_per_channel", "multiscale_l1", "npcc"}
    two = torch.stack([torch.zeros(2, 4, 4), torch.full((2, 4, 4), 3.0)], dim=1)  # channel MAEs 1 and 2
    assert losses.loss("l1_per_channel")(two, torch.ones_like(two)).item() == 3  # L1_I + L1_P; plain l1: 1.5
    with pytest.raises(ValueError, match="unknown loss 'ssim'; available: mse, l1, l1_per_channel, multiscale_l1"):
        losses.loss("ssim")
    logits = torch.zeros(3)  # D = ½ on everything: −log ½ either way
    assert losses.bce_gan(logits, True).item() == pytest.approx(np.log(2)) == losses.bce_gan(logits, False).item()
    assert losses.lsgan(torch.full((3,), 0.25), True).item() == pytest.approx(0.5625)


def test_seeds_depend_on_the_name_only():
    assert dataset_seed(0, "l1/test") == dataset_seed(0, "l1/test") != dataset_seed(0, "l2/test")
    assert dataset_seed(1, "x")[1] == dataset_seed(2, "x")[1] and field_seed(7, 3) == [7, 3]


def test_stack_names_are_built_and_read_back_by_one_pair():
    names = plan.simulated_stacks({"hela": 2, "micro_spheres": 1})
    assert names == ["hela_000", "hela_001", "micro_spheres_000"]
    assert [plan.parse_stack_name(n) for n in names] == [("hela", 0), ("hela", 1), ("micro_spheres", 0)]
    assert plan.stack_seed(5, "hela_001") == field_seed(5, 1)
    with pytest.raises(ValueError, match="'my_cells' is not a simulated stack name"):
        plan.parse_stack_name("my_cells")


def test_camera_intensity_is_the_binned_image_and_shot_noise_has_poisson_statistics():
    scope = Microscope(oversample=2)
    t = np.exp(1j * 0.3 * np.random.default_rng(0).random((32, 32)))
    z = np.array([-1.0, 1.0])
    assert np.array_equal(camera_intensity(t, z, scope), bin_pixels(image_stack(t, z, scope), 2))
    flat = np.full((200, 200), 0.5)
    noisy = shot_noise(flat, 400, np.random.default_rng(1))
    assert noisy.mean() == pytest.approx(0.5, rel=0.01)
    assert noisy.var() == pytest.approx(0.5 / 400, rel=0.05)  # Poisson: variance = mean / photons
    assert (shot_noise(-flat, 400, np.random.default_rng(1)) == 0).all()  # negative intensity clipped
