"""Tests for model.engine: a real training step, the batched forward, non-finite losses, state round trip."""

from __future__ import annotations

import io
import math

import pytest
import torch

from model.config import TrainConfig, cpu_has_bf16, resolve
from model.engine import LOSS_NAMES, CycleGANTrainer, NonFiniteLossError

CPU = torch.device("cpu")
PRECISIONS = ["fp32", pytest.param("bf16", marks=pytest.mark.skipif(not cpu_has_bf16(), reason="no CPU bf16"))]


def tiny(**kw) -> TrainConfig:
    base = dict(dataset="d", image_size=32, load_size=32, ngf=8, ndf=8, n_blocks=2, epochs=2, decay_epoch=1)
    return resolve(TrainConfig(**{**base, **kw}), CPU)[0]


def _params(trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("lambda_identity", [0.5, 0.0])
def test_one_step_changes_every_network_and_losses_are_finite(precision, lambda_identity):
    trainer = CycleGANTrainer(tiny(precision=precision, lambda_identity=lambda_identity), CPU)
    before = _params(trainer)
    losses = trainer.train_step(torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1)
    assert set(losses) == set(LOSS_NAMES) and all(math.isfinite(v) for v in losses.values())
    assert (losses["G_identity"] > 0) == (lambda_identity > 0)
    after = trainer.model.state_dict()
    for net in ("G_AB", "G_BA", "D_A", "D_B"):
        changed = [k for k in before if k.startswith(net) and not torch.equal(before[k], after[k])]
        assert changed, f"{net} did not change"


def test_batched_generator_forward_equals_separate_calls():
    trainer = CycleGANTrainer(tiny(precision="fp32"), CPU)
    a, b = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    G_AB, G_BA = trainer.model.G_AB, trainer.model.G_BA
    with torch.no_grad():
        out = trainer.generator_forward(a, b)
        fake_B, fake_A = G_AB(a), G_BA(b)
        ref = {
            "fake_B": fake_B,
            "fake_A": fake_A,
            "rec_A": G_BA(fake_B),
            "rec_B": G_AB(fake_A),
            "idt_A": G_BA(a),
            "idt_B": G_AB(b),
        }
    for k, v in ref.items():
        assert torch.allclose(out[k], v, atol=1e-5), k


def test_non_finite_loss_stops_before_the_update():
    trainer = CycleGANTrainer(tiny(precision="fp32"), CPU)
    with torch.no_grad():
        trainer.model.G_AB.model[1].weight[0, 0, 0, 0] = float("nan")
    before = _params(trainer)
    with pytest.raises(NonFiniteLossError, match="generator loss"):
        trainer.train_step(torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32))
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) or torch.isnan(before[k]).any() for k in before)


@pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")
def test_lr_schedule_steps_per_epoch():
    trainer = CycleGANTrainer(tiny(epochs=4, decay_epoch=2, lr=1e-3), CPU)
    lrs = []
    for _ in range(4):
        lrs.append(trainer.lr())
        trainer.end_epoch()
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-3, 0.5e-3])


def test_state_round_trip_gives_identical_next_steps():
    a, b = torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)
    t1 = CycleGANTrainer(tiny(precision="fp32", pool_size=2), CPU)
    for _ in range(3):
        t1.train_step(a, b)
    buf = io.BytesIO()
    torch.save({"state": t1.state_dict(), "rank": t1.rank_state()}, buf)  # as a checkpoint file would hold them
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    state, rank = saved["state"], saved["rank"]
    t2 = CycleGANTrainer(tiny(precision="fp32", pool_size=2, seed=5), CPU)
    t2.load_state_dict(state)
    t2.load_rank_state(rank)
    for _ in range(3):
        assert t1.train_step(a, b) == t2.train_step(a, b)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp16", "bf16", "fp32"])
def test_cuda_steps_in_every_precision_stay_finite_and_learn(precision):
    """fp16 runs with a GradScaler, channels_last on CUDA: 20 steps, every loss finite, every network updated."""
    cuda = torch.device("cuda")
    base = dict(dataset="d", image_size=64, load_size=64, ngf=16, ndf=16, n_blocks=3, epochs=2, decay_epoch=1)
    cfg = resolve(TrainConfig(**base, precision=precision), cuda)[0]
    assert cfg.channels_last
    trainer = CycleGANTrainer(cfg, cuda)
    before = _params(trainer)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        a, b = (torch.rand(2, 3, 64, 64, generator=g) * 2 - 1 for _ in range(2))
        losses = trainer.train_step(a.to(cuda), b.to(cuda))
        assert all(math.isfinite(v) for v in losses.values()), losses
    after = trainer.model.state_dict()
    assert all(not torch.equal(before[k], after[k]) for k in before if k.endswith("weight"))
