"""Tests for model.engine: a real training step, the batched forward, non-finite losses, state round trip, no host
sync inside a step, fp16 from an fp32/bf16 checkpoint, DDP wrapped before compile."""

from __future__ import annotations

import io
import math

import pytest
import torch

from model.config import TrainConfig, cpu_has_bf16, resolve
from model.engine import LOSS_NAMES, CycleGANTrainer, DistInfo, LossLog, NonFiniteLossError, loss_dict
from tests.support.host_reads import HostReadError, host_reads_allowed, on_device

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
    losses = loss_dict(trainer.train_step(torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1))
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


def test_a_non_finite_loss_applies_no_update_and_stops_when_the_losses_are_read():
    trainer = CycleGANTrainer(tiny(precision="fp32"), CPU)
    with torch.no_grad():
        trainer.model.G_AB.model[1].weight[0, 0, 0, 0] = float("nan")
    before = _params(trainer)
    log = LossLog()
    log.add(trainer.train_step(torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)), step=7, epoch=2, iteration=3)
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) or torch.isnan(before[k]).any() for k in before)
    assert all(int(s["step"]) == 0 for s in trainer.opt_G.state.values())  # skipped on the device, step not counted
    with pytest.raises(NonFiniteLossError, match=r"generator.* loss .* at step 7 \(epoch 2, iteration 3\)"):
        log.read()
    assert len(log) == 0


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
        assert torch.equal(t1.train_step(a, b), t2.train_step(a, b))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_a_step_reads_nothing_back_from_the_device(precision):
    """The batch is marked as device memory (tests.support.host_reads): every value derived from it (activations,
    losses, the pool's images, the skip flag) raises if the step reads it on the host (.item(), .cpu(), bool(), ...),
    the reads that make the CPU wait for a GPU. The losses stay on the device until a LossLog reads them."""
    trainer = CycleGANTrainer(tiny(precision=precision, pool_size=1), CPU)
    log = LossLog()
    for step in range(1, 4):  # the pool fills, then swaps
        a, b = (on_device(torch.rand(1, 3, 32, 32) * 2 - 1) for _ in range(2))
        losses = trainer.train_step(a, b)
        log.add(losses, step=step)
    with pytest.raises(HostReadError):
        losses.tolist()
    with host_reads_allowed():
        rows = log.read()
    assert [m["step"] for m, _ in rows] == [1, 2, 3] and all(math.isfinite(v) for v in rows[-1][1].values())


@pytest.mark.parametrize(("saved", "loaded"), [("fp32", "fp16"), ("bf16", "fp16"), ("fp16", "fp32")])
def test_a_checkpoint_loads_into_a_trainer_of_another_precision(saved, loaded):
    """fp16 from an fp32/bf16 checkpoint starts with a fresh GradScaler (the saved one is empty); fp16 emulated on
    the CPU (autocast + GradScaler), as `--precision` on resume allows."""
    a, b = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    src = CycleGANTrainer(tiny(precision="fp32").replace(precision=saved), CPU)
    src.train_step(a, b)
    state = src.state_dict()
    assert bool(state["scaler"]) == (saved == "fp16")
    dst = CycleGANTrainer(tiny(precision="fp32").replace(precision=loaded), CPU)
    dst.load_state_dict(state)
    assert all(math.isfinite(v) for v in loss_dict(dst.train_step(a, b)).values())
    assert dst.scaler.is_enabled() == (loaded == "fp16")
    assert all(g["fused"] for opt in (dst.opt_G, dst.opt_D) for g in opt.param_groups)


def test_ddp_wraps_each_network_before_it_is_compiled(tmp_path):
    """torch.compile(DDP(net)), as PyTorch's DDP notes ask; the generator step's frozen discriminators stay plain
    (compiled, no DDP hooks). A one-process gloo group stands in for torchrun (nothing is compiled until a step)."""
    import torch.distributed as torch_dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    torch_dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        trainer = CycleGANTrainer(tiny(precision="fp32", compile=True), CPU, DistInfo(rank=0, world=2, local_rank=0))
    finally:
        torch_dist.destroy_process_group()
    for name in ("G_AB", "G_BA", "D_A", "D_B"):
        net = getattr(trainer, name)
        assert isinstance(net, torch._dynamo.eval_frame.OptimizedModule) and isinstance(net._orig_mod, DDP), name
        assert net._orig_mod.module is getattr(trainer.model, name)
    assert trainer.D_A_frozen._orig_mod is trainer.model.D_A


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
        losses = loss_dict(trainer.train_step(a.to(cuda), b.to(cuda)))
        assert all(math.isfinite(v) for v in losses.values()), losses
    after = trainer.model.state_dict()
    assert all(not torch.equal(before[k], after[k]) for k in before if k.endswith("weight"))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp16", "bf16", "fp32"])
def test_cuda_step_never_waits_for_the_gpu(precision):
    """CUDA's sync debug mode turns every host sync (a .item(), a device-to-host copy, a data-dependent shape) inside
    the steps into an error; the batch is already on the GPU, as pinned memory makes it."""
    cuda = torch.device("cuda")
    base = dict(dataset="d", image_size=64, load_size=64, ngf=16, ndf=16, n_blocks=3, pool_size=2)
    trainer = CycleGANTrainer(resolve(TrainConfig(**base, precision=precision), cuda)[0], cuda)
    a, b = (torch.rand(1, 3, 64, 64, device=cuda) * 2 - 1 for _ in range(2))
    log = LossLog()
    trainer.train_step(a, b)  # first step: lazy initialisations (cuDNN, the scaler) may sync once
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(4):
            log.add(trainer.train_step(a, b), step=step)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert len(log.read()) == 4
