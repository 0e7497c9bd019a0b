"""Tests for flows.steps and flows.train's torchrun command: parameters -> stage configs."""

from __future__ import annotations

import pytest

from curation import CurationConfig
from flows.steps import build_config, check_steps
from flows.train import torchrun_command
from sakura.config import ConfigError


def test_build_config_merges_options_and_fixed_values():
    cfg = build_config(CurationConfig, {"threshold": 6, "workers": 1}, dataset="x", min_side=None, test_fraction=0.2)
    assert (cfg.dataset, cfg.threshold, cfg.workers, cfg.test_fraction, cfg.min_side) == ("x", 6, 1, 0.2, 256)


def test_build_config_names_unknown_options():
    with pytest.raises(ConfigError, match=r"CurationConfig options: got \['thresold'\]; allowed: .*threshold"):
        build_config(CurationConfig, {"thresold": 6}, dataset="x")


def test_build_config_keeps_the_stage_validation():
    with pytest.raises(ConfigError, match="threshold"):
        build_config(CurationConfig, {"threshold": 99}, dataset="x")


def test_check_steps():
    assert check_steps(None) == set() and check_steps(["train", "curate"]) == {"train", "curate"}
    with pytest.raises(ConfigError, match="force: got \\['deploy'\\]"):
        check_steps(["deploy", "train"])


def test_torchrun_command_passes_every_setting():
    cmd = torchrun_command(
        {
            "dataset": "d",
            "run": "r1",
            "epochs": 5,
            "compile": True,
            "channels_last": False,
            "ngf": None,
            "resume": False,
        },
        gpus=4,
    )
    assert cmd[1:6] == ["--standalone", "--nproc_per_node=4", "-m", "sakura", "train"]
    args = cmd[6:]
    assert args[args.index("--dataset") + 1] == "d" and args[args.index("--run-name") + 1] == "r1"
    assert "--compile" in args and "--no-channels-last" in args and "--epochs" in args
    assert "--ngf" not in args and "--resume" not in args and "--no-resume" not in args
