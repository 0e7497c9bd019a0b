"""Tests for curation.config: CurationConfig defaults and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError
from curation.config import CurationConfig, DedupPolicy


def test_defaults_are_valid_and_documented_values():
    cfg = CurationConfig()
    assert (cfg.min_side, cfg.load_size, cfg.dedup.threshold, cfg.output_format) == (256, 286, 12, "jpg")
    assert (cfg.dedup.candidates, cfg.dedup.min_score, cfg.dedup.min_inliers) == (32, 0.6, 30)
    assert cfg.n_workers >= 1 and cfg.to_dict()["dataset_dir"] is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("dataset", "Bad Name"),
        ("min_side", 0),
        ("min_side", 2.5),
        ("max_aspect", 0.5),
        ("max_pixels", 10**12),
        ("min_std", -1),
        ("reject_grayscale", "yes"),
        ("animated", "loop"),
        ("cross_domain", "both"),
        ("load_size", 8),
        ("resample", "nearest"),
        ("output_format", "webp"),
        ("jpeg_quality", 101),
        ("test_fraction", 1.0),
        ("test_fraction", -0.1),
        ("workers", -1),
        ("seed", -5),
    ],
)
def test_bad_values_raise_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=rf"^{field}: got"):
        CurationConfig(**{field: value})


@pytest.mark.parametrize(
    "field, value", [("threshold", 33), ("candidates", 0), ("min_score", 1.5), ("threshold", True), ("ratio", 1.0)]
)
def test_bad_dedup_values_raise_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=rf"^{field}: got"):
        DedupPolicy(**{field: value})
    with pytest.raises(ConfigError, match=rf"^dedup.{field}: got"):
        CurationConfig(dedup={field: value})


def test_the_policy_version_changes_with_any_threshold():
    assert DedupPolicy().version == DedupPolicy().version != DedupPolicy(min_dense=0.56).version
    assert CurationConfig().verdict_key != CurationConfig(load_size=256).verdict_key


def test_dataset_dir_from_data_root_or_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path))
    assert CurationConfig(dataset="demo").data_dir() == tmp_path / "demo"
    assert CurationConfig(dataset_dir=str(tmp_path / "x")).dataset_dir == Path(tmp_path / "x")


def test_decode_key_changes_with_output_settings():
    assert CurationConfig().decode_key != CurationConfig(load_size=256).decode_key
    assert CurationConfig().decode_key == CurationConfig(dedup=DedupPolicy(threshold=4), min_side=100).decode_key
