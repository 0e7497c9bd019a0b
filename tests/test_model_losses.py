"""Tests for model.losses: LSGAN over the patch map, cycle L1, the lr schedule, the image pool."""

from __future__ import annotations

import pytest
import torch

from model.losses import ImagePool, cycle_loss, diff_augment, lr_factor, lsgan_loss


def test_lsgan_is_taken_over_the_whole_patch_map():
    pred = torch.tensor([[[[2.0, 0.0], [0.0, 0.0]]]])  # (1, 1, 2, 2)
    # per-patch: mean((p - 1)^2) = (1 + 1 + 1 + 1) / 4 = 1; averaging the map first would give (0.5 - 1)^2 = 0.25
    assert lsgan_loss(pred, True).item() == pytest.approx(1.0)
    assert lsgan_loss(pred, False).item() == pytest.approx(1.0)


def test_cycle_loss_is_l1_in_fp32():
    a = torch.zeros(1, 3, 4, 4, dtype=torch.bfloat16)
    assert cycle_loss(a + 0.5, a).dtype == torch.float32
    assert cycle_loss(a + 0.5, a).item() == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, 1.0), (24, 1.0), (25, 1.0), (26, 0.96), (37, 0.52), (49, 0.04), (50, 0.0)]
)
def test_lr_constant_then_linear_decay(epoch, expected):
    assert lr_factor(epoch, epochs=50, decay_epoch=25) == pytest.approx(expected)


def test_pool_fills_then_swaps_and_restores_exactly():
    pool = ImagePool(3, seed=1)
    imgs = [torch.full((1, 2, 2, 2), float(i)) for i in range(20)]
    for x in imgs[:3]:
        assert torch.equal(pool.query(x), x)  # filling: returns the new image
    state = pool.state_dict()
    outs = [pool.query(x) for x in imgs[3:]]
    assert any(not torch.equal(o, x) for o, x in zip(outs, imgs[3:], strict=True))  # some old ones come back
    restored = ImagePool(0)
    restored.load_state_dict(state)
    again = [restored.query(x) for x in imgs[3:]]
    assert all(torch.equal(a, b) for a, b in zip(outs, again, strict=True))


def test_pool_of_size_zero_passes_through():
    x = torch.randn(2, 3, 4, 4)
    assert ImagePool(0).query(x) is x


def test_diff_augment_shifts_and_cuts_out_per_image_and_passes_gradients():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(4, 3, 32, 32) + 0.5).requires_grad_(True)  # no zeros of its own
    y = diff_augment(x, g)
    assert y.shape == x.shape
    zeros = (y == 0).all(1).float().mean((1, 2))  # share of each image cut out or shifted in
    assert ((zeros > 0.05) & (zeros < 0.6)).all() and len({round(z, 4) for z in zeros.tolist()}) > 1
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    again = diff_augment(x.detach(), torch.Generator().manual_seed(0))
    assert torch.equal(again, y.detach())  # a pure function of the generator's state
