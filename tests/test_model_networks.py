"""Tests for model.networks: architecture, parameter counts, public key layout, init."""

from __future__ import annotations

import random

import pytest
import torch

from core.config import ConfigError
from model.data import to_tensor
from model.metrics import checkerboard_energy
from model.networks import (
    CycleGAN,
    NetConfig,
    PatchDiscriminator,
    ResizeConv,
    ResnetGenerator,
    count_parameters,
    init_weights,
)
from tests.support.model_data import street_image


def test_default_parameter_counts_match_the_reference():
    assert count_parameters(ResnetGenerator()) == 11_378_179
    assert count_parameters(PatchDiscriminator()) == 2_764_737
    assert NetConfig().upsample == "deconv"


def test_resize_upsampling_has_the_same_parameter_count_and_layer_places():
    deconv, resize = ResnetGenerator(NetConfig()), ResnetGenerator(NetConfig(upsample="resize"))
    assert count_parameters(resize) == count_parameters(deconv) == 11_378_179
    assert isinstance(resize.model[19], ResizeConv) and isinstance(deconv.model[19], torch.nn.ConvTranspose2d)
    assert {k.replace(".conv.", ".") for k in resize.state_dict()} == set(deconv.state_dict())


@pytest.mark.parametrize("seed", range(3))
def test_resize_upsampling_has_no_checkerboard_at_init(seed):
    """Freshly initialised generators on street images: transposed convolutions put energy at the 2- and 4-pixel
    periods (measured 8-25x the input's), resize-convolutions about as much as the input has (0.5-1.9x)."""
    rng = random.Random(seed)
    x = torch.stack([to_tensor(street_image("A", (64, 64), rng)) for _ in range(4)])
    energy = {}
    for kind in ("deconv", "resize"):
        torch.manual_seed(seed)
        net = init_weights(ResnetGenerator(NetConfig(ngf=8, n_blocks=1, upsample=kind)))
        with torch.no_grad():
            energy[kind] = checkerboard_energy(x, net(x)).log().mean().exp().item()
    assert energy["deconv"] > 5 and energy["resize"] < 2.5, energy


@pytest.mark.parametrize("n_blocks", [6, 9])
def test_generator_keys_follow_the_public_layout(n_blocks):
    keys = set(ResnetGenerator(NetConfig(ngf=8, n_blocks=n_blocks)).state_dict())
    assert {"model.1.weight", "model.4.weight", "model.7.weight", "model.10.conv_block.1.weight"} <= keys
    assert f"model.{9 + n_blocks}.conv_block.5.weight" in keys
    assert f"model.{10 + n_blocks}.weight" in keys  # first ConvTranspose after the blocks
    assert f"model.{10 + n_blocks + 7}.weight" in keys  # the final 7x7 conv


@pytest.mark.parametrize("upsample", ["deconv", "resize"])
@pytest.mark.parametrize(("size", "n_layers", "patch"), [(256, 3, 30), (128, 3, 14), (64, 2, 14), (64, 3, 6)])
def test_shapes(size, n_layers, patch, upsample):
    cfg = NetConfig(ngf=8, ndf=8, n_blocks=2, n_layers_d=n_layers, upsample=upsample)
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        y = ResnetGenerator(cfg)(x)
        d = PatchDiscriminator(cfg)(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert d.shape == (2, 1, patch, patch)  # a map of patch scores, not one number


def test_init_is_normal_0_002():
    net = init_weights(ResnetGenerator(NetConfig(ngf=32, n_blocks=3)))
    w = torch.cat([p.flatten() for n, p in net.named_parameters() if n.endswith("weight")])
    assert abs(w.mean().item()) < 1e-3
    assert w.std().item() == pytest.approx(0.02, rel=0.05)
    assert all((p == 0).all() for n, p in net.named_parameters() if n.endswith("bias"))


def test_instance_norm_has_no_state():
    m = CycleGAN(NetConfig(ngf=8, ndf=8, n_blocks=1))
    assert not any("running" in k for k in m.state_dict())


@pytest.mark.parametrize(
    "bad", [{"ngf": 0}, {"n_blocks": 0}, {"in_channels": 2}, {"n_layers_d": 9}, {"upsample": "bilinear"}]
)
def test_bad_config_raises(bad):
    with pytest.raises(ConfigError):
        NetConfig(**bad)


def test_masked_output_keeps_the_input_where_the_mask_is_closed():
    """A masked generator passes the input through exactly where its mask is 0 and paints where it is 1."""
    G = init_weights(ResnetGenerator(NetConfig(ngf=8, n_blocks=2, output="masked"))).eval()
    last = G.model[-2]  # the 7x7 convolution: 3 content channels and the mask's logit
    assert last.out_channels == 4 and isinstance(G.model[-1], torch.nn.Identity)
    x = torch.rand(2, 3, 32, 24) * 2 - 1
    with torch.no_grad():
        last.bias[3] = -100.0  # mask closed everywhere
        assert torch.allclose(G(x), x, atol=1e-6) and G.mask(x).max() < 1e-6
        last.bias[3] = 100.0  # mask open: the tanh image alone
        out = G(x)
        assert out.abs().max() < 1 and not torch.allclose(out, x, atol=0.1)


def test_masked_generator_keeps_the_public_layout_before_its_last_layer():
    image, masked = (ResnetGenerator(NetConfig(ngf=8, n_blocks=3, output=o)).state_dict() for o in ("image", "masked"))
    assert image.keys() == masked.keys()
    last = max(int(k.split(".")[1]) for k in image)
    assert {k for k in image if image[k].shape != masked[k].shape} == {f"model.{last}.weight", f"model.{last}.bias"}
