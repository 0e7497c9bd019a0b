"""Tests for model.logs: CSV + TensorBoard per step, truncation on resume, loss plot and sample grid PNGs."""

from __future__ import annotations

import torch
from PIL import Image

from model.logs import RunLogger, read_losses, sample_grid

LOSSES = {"G_GAN": 1.0, "G_cycle": 5.0, "G_identity": 2.5, "D_A": 0.25, "D_B": 0.3}


def test_steps_epochs_and_resume_truncation(tmp_path):
    log = RunLogger(tmp_path)
    for step in range(1, 7):
        log.log_step(step, 1 + (step - 1) // 3, (step - 1) % 3 + 1, {**LOSSES, "G_GAN": float(step)}, 2e-4, 0.1)
    samples = {k: torch.rand(2, 3, 16, 16) * 2 - 1 for k in ("real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B")}
    written = log.end_epoch(2, samples)
    log.close()
    assert [r["G_GAN"] for r in read_losses(tmp_path / "losses.csv")] == [str(float(s)) for s in range(1, 7)]
    assert Image.open(written["plot"]).size[0] > 500
    assert Image.open(written["samples"]).size == (3 * 16 + 2 * 2, 4 * 16 + 3 * 2)  # 3 columns, 2 rows per sample
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    RunLogger(tmp_path, resume_step=4).close()  # resuming from step 4 drops the rows after it
    assert [int(r["global_step"]) for r in read_losses(tmp_path / "losses.csv")] == [1, 2, 3, 4]


def test_sample_grid_columns(tmp_path):
    red = -torch.ones(1, 3, 8, 8)
    red[:, 0] = 1
    samples = {
        k: (red if k == "fake_B" else -torch.ones(1, 3, 8, 8))
        for k in ("real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B")
    }
    im = Image.open(sample_grid(samples, tmp_path / "g.png"))
    assert im.getpixel((8 + 2 + 4, 4)) == (255, 0, 0) and im.getpixel((4, 4)) == (0, 0, 0)
