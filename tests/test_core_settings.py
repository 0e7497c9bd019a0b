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
