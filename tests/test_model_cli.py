"""Tests for model.cli: `sakura train` and `sakura translate` end to end on a tiny dataset."""

from __future__ import annotations

import sys

import pytest

from model.cli import torchrun_command
from model.config import TrainConfig
from sakura.cli import build_parser, main
from tests.support.model_data import TINY as TINY_SETTINGS
from tests.support.model_data import as_flags, make_dataset

TINY = as_flags(TINY_SETTINGS)


def test_commands_are_registered():
    action = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"train", "translate"} <= set(action.choices)


@pytest.mark.slow
def test_train_then_translate(tmp_path, capsys):
    root = make_dataset(tmp_path / "ds", n_train=4, n_test=2, size=(40, 40), layout="official")
    assert main(["train", "--dataset-dir", str(root), "--run", "cli", "--epochs", "1", *TINY]) == 0
    out = capsys.readouterr()
    assert "profile cpu chosen automatically" in out.err and "training on the CPU" in out.err
    assert f"run: {root / 'runs' / 'cli'}" in out.out and "domain classifier:" in out.out
    assert main(["translate", "--dataset-dir", str(root)]) == 0
    assert "A2B: 2 image(s)" in capsys.readouterr().out
    assert len(list((root / "runs" / "cli" / "translations" / "B2A").iterdir())) == 2
    photo = root / "testA" / "A_000.png"
    out_dir = tmp_path / "mine"
    assert main(["translate", str(photo), "--weights", str(root / "runs" / "cli"), "--out-dir", str(out_dir)]) == 0
    assert (out_dir / "A_000.png").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--dataset-dir", "/nonexistent/x", "--epochs", "1"], "no train images"),
        (["train", "--dataset", "d", "--image-size", "30"], "--image-size: got 30"),  # the flag as typed
        (["train", "--dataset", "d", "--device", "cuda:7"], "device"),
        (["translate", "--weights", "/nonexistent/w.pt", "x.jpg"], "does not exist"),
    ],
)
def test_bad_settings_are_one_line_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path))
    if "cuda:7" in argv:
        pytest.importorskip("torch").cuda.is_available() and pytest.skip("a CUDA device is present")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sakura {argv[0]}: error:") and message in err


def test_torchrun_command_passes_every_setting():
    cfg = TrainConfig(dataset="d", run="r1", epochs=5, compile=True, channels_last=False, resume=True)
    cmd = torchrun_command(cfg, gpus=4)
    assert cmd[:8] == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4", "-m",
                       "sakura", "train"]  # fmt: skip
    args = cmd[8:]
    assert args[args.index("--dataset") + 1] == "d" and args[args.index("--run-name") + 1] == "r1"
    assert "--compile" in args and "--no-channels-last" in args and "--epochs" in args
    assert "--ngf" not in args and "--resume" not in args and "--no-resume" not in args


def test_translate_a_folder_with_bad_files_writes_the_good_ones(tmp_path, capsys):
    """The acceptance folder of issue 10: a 1x300 image (padded, translated), a truncated JPEG and a text file named
    .jpg (one line each on stderr), two good photos; exit 0 because images were written, 1 when none could be."""
    from tests.test_model_translation import _export, _odd_folder

    folder, weights = _odd_folder(tmp_path / "in"), _export(tmp_path)
    assert main(["translate", str(folder), "--weights", str(weights), "--out-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr()
    assert "A2B: 3 image(s)" in out.out and "checkerboard energy" in out.out
    lines = out.err.strip().splitlines()
    failed = [line for line in lines if line.startswith("failed ")]
    assert len(failed) == 2 and any("truncated.jpg: cannot read" in line for line in failed)
    assert any("notes.jpg: cannot read: UnidentifiedImageError" in line for line in failed)
    assert lines[-1] == "translate: 2 of 5 image(s) failed" and "Traceback" not in out.err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["street0.png", "street1.png", "thin.png"]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "notes.jpg").write_text("not an image")
    assert main(["translate", str(bad), "--weights", str(weights), "--out-dir", str(tmp_path / "out2")]) == 1


def test_malformed_checkpoint_is_one_line(tmp_path, capsys):
    import torch

    from model.checkpoint import CHECKPOINT_FORMAT

    torch.save({"format": CHECKPOINT_FORMAT, "G_AB": {}}, tmp_path / "last.pt")
    (tmp_path / "x.png").write_bytes(b"")
    assert main(["translate", str(tmp_path / "x.png"), "--weights", str(tmp_path / "last.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("not a sakura checkpoint: missing 'config'") and len(err.splitlines()) == 1
