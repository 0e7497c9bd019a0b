"""Tests for flows.steps."""

from __future__ import annotations

import pytest

from core.errors import UserError
from flows.steps import dataset_name


def test_dataset_name_from_the_parameter_or_the_domains_file(tmp_path):
    toml = tmp_path / "d.toml"
    toml.write_text('name = "fromfile"\n[domains.A]\nqueries = ["a"]\n[domains.B]\nqueries = ["b"]\n')
    assert dataset_name("given", str(toml)) == "given"
    assert dataset_name(None, str(toml)) == "fromfile"


def test_a_stage_on_a_worker_that_cannot_see_the_dataset_says_so_in_one_line(tmp_path, monkeypatch):
    from flows.train import train_flow, translate_flow

    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path / "elsewhere"))
    for call in (lambda: train_flow.fn(dataset="far"), lambda: translate_flow.fn(dataset="far")):
        with pytest.raises(UserError) as e:
            call()
        line = str(e.value)
        assert "\n" not in line and line.startswith(f"dataset {tmp_path / 'elsewhere' / 'far'} not found on ")
        assert "SAKURA_DATA_ROOT" in line and "PREFECT_LOCAL_STORAGE_PATH" in line
