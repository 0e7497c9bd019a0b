"""DDP through torchrun: two CPU processes with the gloo backend train one run; rank 0 alone writes it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.checkpoint import load_checkpoint
from tests.support.model_data import TINY, as_flags, make_dataset
from tests.support.net import free_port


@pytest.mark.slow
def test_two_gloo_processes_train_one_run(tmp_path):
    root = make_dataset(tmp_path / "ds", n_train=10, n_test=2, size=(40, 40))
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "1",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
    ]
    args = [
        "-m",
        "sakura",
        "train",
        "--dataset-dir",
        str(root),
        "--run-name",
        "ddp",
        *as_flags({**TINY, "num_workers": 1, "epochs": 2, "decay_epoch": 1, "checkpoint_every": 3, "evaluate": False}),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(torchrun + args, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("run: ") == 1  # only rank 0 reports
    run = root / "runs" / "ddp"
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert (state["epoch"], state["global_step"]) == (2, 10)  # 10 images split over 2 ranks: 5 steps per epoch
    assert len(state["ranks"]) == 2  # both ranks' pools and RNG states
    pools = [r["pool_A"]["images"] for r in state["ranks"]]
    assert len(pools[0]) == len(pools[1]) == 10 and not torch.equal(pools[0][0], pools[1][0])  # each rank its own
    rows = list(csv.DictReader((run / "losses.csv").open()))
    assert [int(r["global_step"]) for r in rows] == list(range(1, 11))
    assert (run / "generators" / "G_A2B.pt").exists() and (run / "samples" / "epoch_002.png").exists()
    assert "differ from rank 0" not in out.stderr
