"""Tests for sakura.run: the parameters `sakura run` sends and its argument checks."""

from __future__ import annotations

import argparse

import pytest

from core.config import ConfigError
from sakura.run import DEMO_PARAMS, _params, configure_run


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure_run(parser)
    return parser.parse_args(list(argv))


def test_params_json_values_plain_strings_and_section_settings():
    argv = ("-p", "training.epochs=5", "-p", 'queries_a=["plane trees"]', "-p", "scrape.engine=bing")
    params = _params(_args(*argv), None, "ds")
    assert params == {
        "dataset": "ds",
        "training": {"epochs": 5},
        "queries_a": ["plane trees"],
        "scrape": {"engine": "bing"},
    }


def test_demo_params_point_at_the_local_source_and_can_be_overridden():
    params = _params(_args("--demo", "-p", "scrape.per_query_limit=10"), "http://127.0.0.1:5555", "ds-demo")
    assert params["engine_url"] == "http://127.0.0.1:5555"
    assert params["scrape"]["allow_private_networks"] == ["127.0.0.1/32"] and params["scrape"]["per_query_limit"] == 10
    assert params["training"] == DEMO_PARAMS["training"] and DEMO_PARAMS["scrape"]["per_query_limit"] == 40


def test_param_without_value_is_a_config_error():
    with pytest.raises(ConfigError, match="KEY=JSON"):
        _params(_args("-p", "epochs"), None, "ds")


def test_demo_needs_watch():
    from sakura.run import _cmd_run

    with pytest.raises(ConfigError, match="--no-watch"):
        _cmd_run(_args("--demo", "--no-watch"))


def test_the_end_of_a_run_prints_the_command_of_the_page_to_try_a_photo(tmp_path, capsys):
    from model.layout import RunDir
    from sakura import server
    from sakura.run import _print_locations

    ds = tmp_path / "streets-demo"
    ds.mkdir()
    _print_locations(ds, server.ServerConfig.from_env())
    assert "sakura app" not in capsys.readouterr().out  # nothing to try without a trained run
    for direction in ("A2B", "B2A"):
        RunDir.of(ds, "r1").generator(direction).parent.mkdir(parents=True, exist_ok=True)
        RunDir.of(ds, "r1").generator(direction).write_bytes(b"")
    _print_locations(ds, server.ServerConfig.from_env())
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("try a photo:") and "sakura app --dataset streets-demo" in last


@pytest.mark.parametrize(
    ("param", "line"),
    [
        ("training.epochz=3", "-p training.epochz: unknown setting 'epochz' of training; allowed: run, profile, "),
        ("training.epochs=0", "-p training.epochs: got 0; allowed: greater than 0"),
        ("trainig.epochs=3", "-p trainig.epochs: unknown parameter 'trainig'; allowed: dataset, domains_file, "),
        ("searches_per_minute=0", "-p searches_per_minute: got 0; allowed: greater than 0"),
        ("scrape.engine=yahoo", "-p scrape.engine: got 'yahoo'; allowed: 'google' or 'bing'"),
        ("gpus.n=2", "-p gpus.n: 'gpus' has no settings; allowed: -p gpus=JSON"),
    ],
)
def test_a_bad_param_is_one_line_exit_2_and_no_server_or_run(param, line, monkeypatch, capsys):
    from sakura import server
    from sakura.cli import main

    def no(*a, **k):
        raise AssertionError("a server was started for a parameter the flow refuses")

    monkeypatch.setattr(server, "start", no)
    assert main(["run", "-p", param]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sakura run: error: {line}") and len(err.splitlines()) == 1, err
