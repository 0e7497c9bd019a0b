"""Tests for flows.steps."""

from __future__ import annotations

from flows.steps import dataset_name


def test_dataset_name_from_the_parameter_or_the_domains_file(tmp_path):
    toml = tmp_path / "d.toml"
    toml.write_text('name = "fromfile"\n[domains.A]\nqueries = ["a"]\n[domains.B]\nqueries = ["b"]\n')
    assert dataset_name("given", str(toml)) == "given"
    assert dataset_name(None, str(toml)) == "fromfile"
