"""Tests for flows.cli: the parameters `sakura run` sends and its argument checks."""

from __future__ import annotations

import argparse

import pytest

from flows.cli import DEMO_PARAMS, _params, register
from sakura.config import ConfigError


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["run", *argv])


def test_params_json_values_and_plain_strings():
    params = _params(_args("-p", "epochs=5", "-p", 'queries_a=["plane trees"]', "-p", "engine=bing"), None, "ds")
    assert params == {"dataset": "ds", "epochs": 5, "queries_a": ["plane trees"], "engine": "bing"}


def test_demo_params_point_at_the_local_source_and_can_be_overridden():
    params = _params(_args("--demo", "-p", "per_query_limit=10"), "http://127.0.0.1:5555", "ds-demo")
    assert params["engine_url"] == "http://127.0.0.1:5555" and params["allow_private_networks"] == ["127.0.0.1/32"]
    assert params["per_query_limit"] == 10 and params["train_options"] == DEMO_PARAMS["train_options"]


def test_param_without_value_is_a_config_error():
    with pytest.raises(ConfigError, match="KEY=JSON"):
        _params(_args("-p", "epochs"), None, "ds")


def test_demo_needs_watch():
    from flows.cli import _cmd_run

    with pytest.raises(ConfigError, match="--no-watch"):
        _cmd_run(_args("--demo", "--no-watch"))
