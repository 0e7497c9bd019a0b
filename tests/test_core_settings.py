"""Tests for core.settings: one-line errors, hidden settings, and CLI flags generated from a settings model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field

from core.config import ConfigError
from core.settings import Bool, Cli, Hidden, PositiveInt, Settings, add_arguments, from_args


class Demo(Settings):
    """A settings model like the stages' ones."""

    where: Hidden[Path | None] = None
    count: Annotated[PositiveInt, Cli(flags=("-n",))] = Field(3, description="how many (up to 100%)")
    mode: Literal["a", "b"] = Field("a", description="the mode")
    limit: PositiveInt | None = Field(None, description="a cap (none: no cap)")
    names: tuple[str, ...] = Field((), description="repeatable")
    loud: Bool = False
    secret: Annotated[int, Cli(hidden=True)] = 7


def _parse(*argv: str) -> Demo:
    p = argparse.ArgumentParser()
    add_arguments(p, Demo)
    return from_args(Demo, p.parse_args(list(argv)))


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"count": 0}, "count: got 0; allowed: greater than 0"), ({"count": True}, "count: got True"),
     ({"mode": "c"}, "mode: got 'c'; allowed: 'a' or 'b'"), ({"loud": "yes"}, "loud: got 'yes'"),
     ({"nope": 1}, "nope: got 1; allowed: one of the known settings")],
)  # fmt: skip
def test_bad_values_are_one_line_config_errors(kw, message):
    with pytest.raises(ConfigError) as e:
        Demo(**kw)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_hidden_settings_stay_out_of_plain_json_but_not_out_of_to_dict(tmp_path):
    d = Demo(where=tmp_path, count=5)
    assert "where" not in d.model_dump(mode="json") and d.to_dict()["where"] == str(tmp_path)
    assert Demo.from_dict(d.to_dict()) == d and d.replace(count=6).where == tmp_path
    assert "where" not in Demo.model_json_schema()["properties"]


def test_flags_come_from_the_model_and_unset_flags_keep_its_defaults(capsys):
    assert _parse() == Demo()
    assert _parse("-n", "9", "--mode", "b", "--limit", "none", "--names", "x", "--names", "y", "--loud") == Demo(
        count=9, mode="b", limit=None, names=("x", "y"), loud=True
    )
    p = argparse.ArgumentParser()
    add_arguments(p, Demo)
    text = p.format_help()  # a % in a description must not break argparse
    assert "how many (up to 100%) (default: 3)" in text and "--secret" not in text and "--where" in text


@pytest.mark.parametrize("model", ["scraper.config.ScrapeConfig", "curation.config.CurationConfig",
                                   "model.config.TrainConfig", "model.translation.TranslateConfig"])  # fmt: skip
def test_every_stage_finds_its_dataset_one_way(model, tmp_path, monkeypatch):
    import importlib

    from core.settings import DatasetSettings

    module, name = model.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, DatasetSettings)
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path / "env"))
    assert cls(dataset="d1").data_dir() == tmp_path / "env" / "d1"
    assert cls(dataset="d1", data_root=tmp_path).data_dir() == tmp_path / "d1"
    assert cls(dataset="d1", data_root=tmp_path).data_dir("d2") == tmp_path / "d2"  # a scrape's domains file names it
    assert cls(dataset="d1", dataset_dir=tmp_path / "x").data_dir("d2") == tmp_path / "x"
    with pytest.raises(ConfigError, match=r"^dataset: got 'Bad Name'; allowed: match pattern"):
        cls(dataset="Bad Name")


@pytest.mark.parametrize("flag", ["--root", "--dataset-dir"])
def test_the_dataset_folder_flag_has_its_old_names(flag, tmp_path):
    from curation.config import CurationConfig
    from model.config import TrainConfig

    for model in (CurationConfig, TrainConfig):
        p = argparse.ArgumentParser()
        add_arguments(p, model)
        assert from_args(model, p.parse_args([flag, str(tmp_path)])).data_dir() == tmp_path
