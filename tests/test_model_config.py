"""Tests for model.config: validation, profiles, device and precision choice."""

from __future__ import annotations

import pytest
import torch

from core.config import ConfigError
from model.config import TrainConfig, cpu_has_bf16, pick_device, pick_precision, resolve

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
