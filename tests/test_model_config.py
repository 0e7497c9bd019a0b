"""Tests for model.config: validation, profiles, device and precision choice."""

from __future__ import annotations

import pytest
import torch

from core.config import ConfigError
from model.config import TrainConfig, cpu_has_bf16, default_workers, pick_device, pick_precision, resolve

CPU = torch.device("cpu")


@pytest.mark.parametrize(
    "bad",
    [
        {"profile": "fast"},
        {"precision": "fp8"},
        {"image_size": 30},
        {"image_size": 64, "load_size": 32},
        {"epochs": 10, "decay_epoch": 11},
        {"batch_size": 0},
        {"device": "tpu"},
        {"dataset": "Bad Name"},
        {"run": "../escape"},
    ],
)
def test_bad_values_raise_naming_the_field(bad):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**{"dataset": "d", **bad})
    assert list(bad)[-1].split("_")[0] in str(e.value)


def test_dataset_defaults_to_the_domains_files(tmp_path, monkeypatch):
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path))
    (tmp_path / "domains.toml").write_text(
        'name = "mine"\n[domains.A]\nqueries = ["a"]\n[domains.B]\nqueries = ["b"]\n'
    )
    assert TrainConfig().data_dir() == tmp_path / "mine"
    assert TrainConfig(dataset="other").data_dir() == tmp_path / "other"


@pytest.mark.parametrize(
    ("profile", "size", "blocks", "ngf", "upsample"),
    [("auto", 64, 6, 32, "resize"), ("cpu", 64, 6, 32, "resize"), ("paper", 256, 9, 64, "deconv")],
)
def test_profiles_fill_unset_values(profile, size, blocks, ngf, upsample):
    cfg, why = resolve(TrainConfig(dataset="d", profile=profile), CPU)
    assert (cfg.image_size, cfg.n_blocks, cfg.ngf, cfg.upsample) == (size, blocks, ngf, upsample)
    assert cfg.net_config().upsample == upsample and f"{upsample} upsampling" in why
    assert cfg.profile in ("cpu", "paper") and cfg.profile in why
    assert ("automatically" in why) == (profile == "auto")


def test_explicit_values_override_the_profile():
    cfg, _ = resolve(TrainConfig(dataset="d", profile="paper", image_size=128, n_blocks=6, epochs=4), CPU)
    assert (cfg.image_size, cfg.n_blocks, cfg.epochs, cfg.load_size, cfg.decay_epoch) == (128, 6, 4, 286, 4)


def test_paper_profile_defaults_follow_the_seed_schedule():
    cfg, _ = resolve(TrainConfig(dataset="d", profile="paper"), CPU)
    assert (cfg.epochs, cfg.decay_epoch, cfg.load_size, cfg.lr, cfg.pool_size) == (50, 25, 286, 2e-4, 50)
    assert (cfg.lambda_cycle, cfg.lambda_identity, cfg.beta1, cfg.beta2) == (10.0, 0.5, 0.5, 0.999)


def test_round_trips_through_a_plain_dict():
    cfg, _ = resolve(TrainConfig(dataset="d"), CPU)
    d = cfg.to_dict()
    assert all(isinstance(v, int | float | str | bool | type(None)) for v in d.values())
    assert TrainConfig.from_dict(d) == cfg
    with pytest.raises(ConfigError):
        TrainConfig.from_dict({**d, "nope": 1})


def test_precision_and_device_choice():
    assert pick_precision("auto", CPU) == ("bf16" if cpu_has_bf16() else "fp32")
    assert pick_precision("fp32", CPU) == "fp32"
    with pytest.raises(ConfigError, match="fp16"):
        pick_precision("fp16", CPU)
    assert pick_device("cpu") == CPU
    if not torch.cuda.is_available():
        assert pick_device("auto") == CPU
        with pytest.raises(ConfigError, match="CUDA"):
            pick_device("cuda")


def test_a_checkpoint_config_from_before_the_upsample_setting_is_deconv():
    stored = resolve(TrainConfig(dataset="d", profile="cpu"), CPU)[0].to_dict()
    del stored["upsample"]
    assert TrainConfig.from_dict(stored).net_config().upsample == "deconv"


# (name, compute capability): what `auto` must choose on each, asked of the device given, not the current one
GPUS = {0: ("V100", (7, 0)), 1: ("T4", (7, 5)), 2: ("A100", (8, 0)), 3: ("H100", (9, 0)), 4: ("P100", (6, 0))}


@pytest.fixture
def fake_gpus(monkeypatch):
    """CUDA as seen by model.config with the GPUs above: capability per device index; is_bf16_supported says True
    for every one (as PyTorch's default, which counts emulation) and must not be what decides."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(GPUS))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None: GPUS[torch.device(d).index or 0][1])
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)  # the H100 is current; the others are asked for


@pytest.mark.parametrize(("index", "expected"), [(0, "fp16"), (1, "fp16"), (2, "bf16"), (3, "bf16"), (4, "fp32")])
def test_auto_precision_follows_the_capability_of_the_device_asked_for(fake_gpus, index, expected):
    device = torch.device("cuda", index)
    assert pick_precision("auto", device) == expected
    assert resolve(TrainConfig(dataset="d"), device)[0].precision == expected
    assert pick_precision("fp32", device) == "fp32" and pick_precision("fp16", device) == "fp16"


def test_torchrun_puts_each_process_on_its_own_gpu(fake_gpus):
    assert pick_device("cuda", local_rank=2, world=4) == torch.device("cuda:2")
    assert pick_device("auto", local_rank=1, world=4) == torch.device("cuda:1")
    assert pick_device("cuda:3", local_rank=0, world=1) == torch.device("cuda:3")  # one process: as asked
    with pytest.raises(ConfigError, match="cuda:0.*torchrun with 4 processes.*cuda or auto"):
        pick_device("cuda:0", local_rank=1, world=4)
    with pytest.raises(ConfigError, match="LOCAL_RANK=5 has no GPU: 5 visible"):
        pick_device("cuda", local_rank=5, world=8)


@pytest.mark.parametrize(
    ("device", "world", "cores", "expected"),
    [("cuda", 1, 16, 8), ("cuda", 8, 16, 1), ("cuda", 2, 16, 7), ("cuda", 4, 4, 0), ("cpu", 1, 2, 0),
     ("cpu", 1, 16, 4), ("cpu", 2, 16, 2), ("cpu", 4, 16, 0)],
)  # fmt: skip
def test_dataloader_workers_are_a_share_of_the_cores_per_process(device, world, cores, expected):
    assert default_workers(torch.device(device), world, cores) == expected
    assert world * (default_workers(torch.device(device), world, cores) + 1) <= max(cores, world)
