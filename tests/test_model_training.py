"""Tests for model.training: a real short run that learns the mapping, its outputs, exact resume, NaN stop."""

from __future__ import annotations

import csv
import io
import json
import math
import random

import pytest
import torch

from core.config import ConfigError
from model import TrainConfig, TranslateConfig, train, translate
from model.checkpoint import load, load_checkpoint, load_generator
from model.data import NoImagesLeftError, domain_dirs, list_images
from model.engine import NonFiniteLossError
from model.metrics import DomainClassifier, load_stack, share
from model.networks import CycleGAN, NetConfig
from model.training import _resume_state, ddp_backend, setup_distributed
from tests.support.model_data import TINY, make_dataset, street_image


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    root = make_dataset(tmp_path_factory.mktemp("streets"), n_train=24, n_test=8, size=(40, 40), seed=1)
    cfg = TrainConfig(dataset_dir=str(root), run="learn", **{**TINY, "ngf": 16, "ndf": 16}, epochs=4, decay_epoch=2)
    steps = []
    result = train(cfg, progress=lambda step, total, info: steps.append((step, total, info["epoch"])))
    return root, result, steps


@pytest.mark.slow
def test_short_run_learns_the_mapping(learned):
    root, result, _ = learned
    m = result.metrics
    assert m["classifier_accuracy"] >= 0.9
    assert m["real_A_as_B"] <= 0.2 and m["real_B_as_A"] <= 0.2
    assert m["A2B_as_B"] >= 0.6 and m["B2A_as_A"] >= 0.6  # translated images are taken for the other domain
    # ... and not because anything a generator puts out is: an untrained generator scores low.
    clf = DomainClassifier()
    clf.load_state_dict(torch.load(result.run_dir / "domain_classifier.pt", weights_only=True))
    clf.eval()
    test_A = load_stack(list_images(domain_dirs(root, "test")[0])[0], 32)
    untrained = CycleGAN(NetConfig(ngf=16, ndf=16, n_blocks=2))
    with torch.no_grad():
        assert share(clf, untrained.G_AB(test_A), 1) <= 0.2
        trained, _ = load_generator(result.run_dir, "A2B")
        fake_B = trained(test_A)
    red_minus_green = lambda x: (x[:, 0] - x[:, 1]).mean().item()  # noqa: E731 - pink canopies: red > green
    assert red_minus_green(fake_B) > red_minus_green(test_A) + 0.2


@pytest.mark.slow
def test_run_writes_logs_checkpoints_and_metrics(learned):
    _, result, steps = learned
    run = result.run_dir
    assert result.epochs_completed == 4 and result.global_step == 96
    assert [s for s, _, _ in steps] == list(range(1, 97)) and steps[-1][1] == 96
    rows = list(csv.DictReader((run / "losses.csv").open()))
    assert len(rows) == 96 and {"G_GAN", "G_cycle", "G_identity", "D_A", "D_B", "lr"} <= set(rows[0])
    assert all(math.isfinite(float(r["G_cycle"])) for r in rows)
    first = sum(float(r["G_cycle"]) for r in rows[:24]) / 24
    last = sum(float(r["G_cycle"]) for r in rows[-24:]) / 24
    assert last < first  # reconstructions improve
    assert float(rows[-1]["lr"]) < float(rows[0]["lr"])  # linear decay from epoch 2
    assert sorted(p.name for p in (run / "samples").iterdir()) == [f"epoch_{e:03d}.png" for e in range(1, 5)]
    assert (run / "plots" / "losses.png").stat().st_size > 1000
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3, 4]
    assert metrics["final"]["fid_kid"]["skipped"].startswith("no InceptionV3 weights")
    best = max(metrics["epochs"], key=lambda e: e["domain_score"])
    assert metrics["best"]["epoch"] == best["epoch"]
    assert load_checkpoint(run / "checkpoints" / "best.pt")["epoch"] == best["epoch"]
    last_ckpt = load_checkpoint(result.last_checkpoint)
    assert (last_ckpt["epoch"], last_ckpt["iteration"], last_ckpt["global_step"]) == (4, 0, 96)
    assert {"G_AB", "G_BA", "D_A", "D_B", "opt_G", "opt_D", "sched_G", "sched_D", "scaler", "ranks"} <= set(last_ckpt)
    assert {"pool_A", "pool_B", "rng"} <= set(last_ckpt["ranks"][0]) and last_ckpt["config"]["ngf"] == 16
    for d in ("A2B", "B2A"):
        assert load(result.generators[d])["direction"] == d


def _weights(path):
    state = load_checkpoint(path)
    return {f"{n}.{k}": v for n in ("G_AB", "G_BA", "D_A", "D_B") for k, v in state[n].items()}, state


class _Interrupt(Exception):
    pass


@pytest.mark.slow
@pytest.mark.parametrize("upsample", ["deconv", "resize"])
def test_resume_continues_exactly(tmp_path, upsample):
    root = make_dataset(tmp_path / "ds", n_train=8, n_test=2, size=(40, 40))
    common = dict(
        dataset_dir=str(root),
        epochs=2,
        decay_epoch=1,
        checkpoint_every=3,
        pool_size=4,
        evaluate=False,
        **TINY,
        upsample=upsample,
    )
    train(TrainConfig(run="straight", **common))

    def stop_at_step_11(step, total, info):
        if step == 11:  # a crash in epoch 2, after the checkpoint at step 9
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(TrainConfig(run="broken", **common), progress=stop_at_step_11)
    mid = load_checkpoint(root / "runs" / "broken" / "checkpoints" / "last.pt")
    assert (mid["epoch"], mid["iteration"], mid["global_step"]) == (1, 1, 9)
    result = train(TrainConfig(run="broken", resume=True, **{**common, "num_workers": 1}))
    assert result.global_step == 16
    straight, s1 = _weights(root / "runs" / "straight" / "checkpoints" / "last.pt")
    resumed, s2 = _weights(root / "runs" / "broken" / "checkpoints" / "last.pt")
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    assert all(
        torch.equal(a, b)
        for a, b in zip(s1["ranks"][0]["pool_A"]["images"], s2["ranks"][0]["pool_A"]["images"], strict=True)
    )
    losses = [
        [
            {k: v for k, v in r.items() if k != "seconds"}
            for r in csv.DictReader((root / "runs" / n / "losses.csv").open())
        ]
        for n in ("straight", "broken")
    ]
    assert losses[0] == losses[1] and len(losses[0]) == 16
    assert s2["config"]["upsample"] == upsample
    G, info = load_generator(root / "runs" / "broken", "A2B")  # the exported generator, with its upsampling
    assert info["net_config"]["upsample"] == upsample
    out = translate(TranslateConfig(dataset_dir=str(root), run="broken", progress_bar=False))
    assert len(out.written["A2B"]) == 2 and out.metrics["checkerboard"] > 0


@pytest.mark.slow
def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    root = make_dataset(tmp_path / "ds", n_train=4, n_test=2, size=(40, 40))
    common = dict(dataset_dir=str(root), run="r", epochs=2, decay_epoch=2, evaluate=False, **TINY)

    def stop_in_epoch_2(step, total, info):
        if info["epoch"] == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(TrainConfig(**common), progress=stop_in_epoch_2)
    path = root / "runs" / "r" / "checkpoints" / "last.pt"
    state = load_checkpoint(path)
    for s in state["opt_G"]["state"].values():  # make the next Adam update produce NaN weights
        s["exp_avg_sq"].fill_(-1.0)
    torch.save(state, path)
    good = path.read_bytes()
    with pytest.raises(NonFiniteLossError) as e:
        train(TrainConfig(resume=True, **common))
    msg = str(e.value)
    assert "non-finite" in msg and "epoch 2" in msg and str(path) in msg
    assert path.read_bytes() == good  # nothing was written after the bad step


def _truncated_jpeg(path):
    buf = io.BytesIO()
    street_image("A", (40, 40), random.Random(9)).save(buf, "JPEG", quality=95)
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return path


@pytest.mark.slow
def test_an_image_that_fails_in_a_worker_is_skipped_named_and_counted(tmp_path, capsys):
    root = make_dataset(tmp_path / "ds", n_train=5, n_test=2, size=(40, 40))
    bad = _truncated_jpeg(root / "train" / "A" / "A_bad.jpg")
    assert bad in list_images(root / "train" / "A")[0]  # it opens; only decoding it fails, in the worker
    cfg = TrainConfig(dataset_dir=str(root), run="r", epochs=1, decay_epoch=1, **{**TINY, "num_workers": 1})
    result = train(cfg)
    assert result.global_step == 6  # every index of A still trains, the bad one replaced by the next image
    skipped = [s for s in result.skipped_images if s.path == str(bad)]
    assert len(skipped) == 1 and "truncated" in skipped[0].reason
    assert f"warning: skipping {bad}" in capsys.readouterr().err
    assert json.loads((result.run_dir / "metrics.json").read_text())["final"]["skipped_train_images"] == 1


@pytest.mark.slow
def test_when_no_image_of_a_domain_loads_training_stops_and_keeps_the_last_checkpoint(tmp_path):
    root = make_dataset(tmp_path / "ds", n_train=4, n_test=2, size=(40, 40))
    cfg = TrainConfig(dataset_dir=str(root), run="r", epochs=2, decay_epoch=2, evaluate=False,
                      **{**TINY, "num_workers": 1})  # fmt: skip

    def break_every_A_image_after_epoch_1(step, total, info):
        if step == 4:
            for p in (root / "train" / "A").iterdir():
                p.write_bytes(b"\x89PNG\r\n\x1a\n broken")

    with pytest.raises(NoImagesLeftError) as e:
        train(cfg, progress=break_every_A_image_after_epoch_1)
    last = root / "runs" / "r" / "checkpoints" / "last.pt"
    msg = str(e.value)
    assert "domain A" in msg and str(root / "train" / "A") in msg and f"Last checkpoint: {last}" in msg
    assert "\n" not in msg and "Traceback" not in msg
    state = load_checkpoint(last)
    assert (state["epoch"], state["global_step"]) == (1, 4)  # the epoch-1 checkpoint, nothing written after


def test_a_cancelled_training_is_marked_unfinished_and_nothing_picks_it_up(tmp_path):
    from model.layout import RunDir

    root = make_dataset(tmp_path / "ds", n_train=4, n_test=2, size=(40, 40))
    common = dict(dataset_dir=str(root), epochs=2, decay_epoch=2, evaluate=False, **TINY)
    train(TrainConfig(run="done", **common))

    def cancel_in_epoch_2(step, total, info):
        if info["epoch"] == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(TrainConfig(run="cancelled", **common), progress=cancel_in_epoch_2)
    cancelled = RunDir.of(root, "cancelled")
    assert cancelled.unfinished and cancelled.has_generators  # epoch 1 exported its generators, the run did not end
    assert RunDir.newest(root).name == "done" and not RunDir.of(root, "done").unfinished
    train(TrainConfig(run="cancelled", resume=True, **common))  # --resume continues it; ended well, it counts
    assert not cancelled.unfinished and RunDir.newest(root).name == "cancelled"


@pytest.fixture
def crashed_fp32_run(tmp_path):
    """A CPU fp32 run (no channels_last) that crashed at step 3 of 4, after its checkpoint at step 2."""
    root = make_dataset(tmp_path / "ds", n_train=4, n_test=2, size=(40, 40))
    common = dict(dataset_dir=str(root), run="r", epochs=1, decay_epoch=1, checkpoint_every=2, evaluate=False, **TINY)

    def crash_at_step_3(step, total, info):
        if step == 3:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(TrainConfig(**common, precision="fp32", channels_last=False), progress=crash_at_step_3)
    return root, common


@pytest.mark.slow
def test_precision_and_channels_last_given_on_resume_take_effect(crashed_fp32_run):
    root, common = crashed_fp32_run
    common = {k: v for k, v in common.items() if k != "num_workers"}  # unset: this machine's default
    with pytest.raises(ConfigError, match="fp16"):
        train(TrainConfig(**common, resume=True, precision="fp16"))  # fp16 needs CUDA, also on resume
    result = train(TrainConfig(**common, resume=True, precision="bf16", channels_last=True))
    assert result.global_step == 4
    assert "as asked: precision fp32 -> bf16, channels_last False -> True" in result.explanation
    stored = load_checkpoint(result.last_checkpoint)
    assert (stored["config"]["precision"], stored["config"]["channels_last"]) == ("bf16", True)
    assert stored["extra"]["device_type"] == "cpu" and stored["config"]["num_workers"] == 0


def test_a_cpu_run_resumed_on_cuda_chooses_its_device_settings_anew(crashed_fp32_run, monkeypatch):
    """Resolved as a new run on that GPU would be (its capability faked), unless given again."""
    root, common = crashed_fp32_run
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None: (8, 0))
    cuda = torch.device("cuda:0")
    cfg = TrainConfig(dataset_dir=str(root), run="r", resume=True, device="cuda")
    merged, _, why = _resume_state(cfg, cuda, world=1)
    assert (merged.precision, merged.channels_last, merged.device) == ("bf16", True, "cuda")
    assert "on cuda, trained on cpu: precision fp32 -> bf16, channels_last False -> True" in why
    assert (merged.image_size, merged.ngf) == (TINY["image_size"], TINY["ngf"])  # the numbers stay the run's
    merged, _, _ = _resume_state(cfg.replace(precision="fp32", channels_last=False), cuda, world=1)
    assert (merged.precision, merged.channels_last) == ("fp32", False)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None: (7, 5))  # a T4: fp16 + GradScaler
    assert _resume_state(cfg, cuda, world=1)[0].precision == "fp16"


@pytest.mark.parametrize(
    ("device", "backend_env", "backend", "current"),
    [("cuda", None, "nccl", "cuda:1"), ("auto", None, "nccl", "cuda:1"), ("cpu", None, "gloo", None),
     ("cuda", "gloo", "gloo", "cuda:1"), ("cpu", "nccl", "refused", None), ("cuda:0", None, "refused", None)],
)  # fmt: skip
def test_each_rank_takes_its_backend_and_gpu_from_the_device_asked_for(monkeypatch, device, backend_env, backend,
                                                                        current):  # fmt: skip
    """Rank 1 of 2 under torchrun on a machine with two (faked) GPUs: the backend follows --device (not whether CUDA
    exists), the rank's GPU is made current whatever the backend, a fixed cuda:N is refused."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    if backend_env:
        monkeypatch.setenv("SAKURA_DDP_BACKEND", backend_env)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    seen = {}
    monkeypatch.setattr(torch.cuda, "set_device", lambda d: seen.update(current=str(d)))
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda backend, device_id=None: seen.update(
        backend=backend, device_id=device_id))  # fmt: skip
    if backend == "refused":
        with pytest.raises(ConfigError):
            setup_distributed(device)
        return
    info = setup_distributed(device)
    assert (info.rank, info.world, info.local_rank) == (1, 2, 1)
    assert seen.get("backend") == backend and seen.get("current") == current
    assert (seen["device_id"] is not None) == (backend == "nccl")
    assert ddp_backend(torch.device("cpu"), None) == "gloo"
