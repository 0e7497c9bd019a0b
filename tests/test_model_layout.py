"""Tests for model.layout: one naming rule for runs, the newest run, and what a missing run's error names."""

from __future__ import annotations

import os
import re

import pytest

from core.config import ConfigError
from model.layout import DIRECTIONS, RunDir, datasets_with_runs, new_run_name


def _trained(dataset_dir, name: str, mtime: int) -> RunDir:
    run = RunDir.of(dataset_dir, name)
    for d in DIRECTIONS:
        run.generator(d).parent.mkdir(parents=True, exist_ok=True)
        run.generator(d).write_bytes(b"x")
        os.utime(run.generator(d), (mtime, mtime))
    return run


def test_new_run_names_are_start_times():
    assert re.fullmatch(r"\d{8}-\d{6}", new_run_name())


def test_newest_is_the_most_recently_trained_run(tmp_path):
    ds = tmp_path / "streets"
    _trained(ds, "b-old", 1_000)
    newest = _trained(ds, "a-new", 2_000)
    (RunDir.of(ds, "c-untrained").path / "checkpoints").mkdir(parents=True)
    assert RunDir.newest(ds) == newest
    assert [r.name for r in RunDir.all(ds)] == ["a-new", "b-old", "c-untrained"]


def test_no_trained_run_names_the_datasets_that_have_one(tmp_path):
    _trained(tmp_path / "horses", "r1", 1_000)
    (tmp_path / "streets").mkdir()
    assert datasets_with_runs(tmp_path) == ["horses"]
    with pytest.raises(ConfigError, match=r"no trained run under .*streets/runs .*datasets with trained runs: horses"):
        RunDir.newest(tmp_path / "streets")
    with pytest.raises(ConfigError, match="resume: no run with checkpoints/last.pt"):
        RunDir.newest(tmp_path / "streets", needs="checkpoint")
