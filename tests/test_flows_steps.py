"""Tests for flows.steps and flows.train's torchrun command."""

from __future__ import annotations

from flows.steps import dataset_name
from flows.train import torchrun_command


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


def test_dataset_name_from_the_parameter_or_the_domains_file(tmp_path):
    toml = tmp_path / "d.toml"
    toml.write_text('name = "fromfile"\n[domains.A]\nqueries = ["a"]\n[domains.B]\nqueries = ["b"]\n')
    assert dataset_name("given", str(toml)) == "given"
    assert dataset_name(None, str(toml)) == "fromfile"
