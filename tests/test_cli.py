"""Tests for sakura.cli: the `sakura` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sakura.cli import build_parser, main


def _subcommands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(action.choices)


def test_help_runs_as_console_script():
    sakura = Path(sys.executable).parent / "sakura"
    out = subprocess.run([str(sakura), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "usage: sakura" in out.stdout
    for name in _subcommands():
        assert name in out.stdout


def test_lists_only_what_exists():
    """Every listed subcommand has a handler; stages not built yet are not listed."""
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    for name, sub in action.choices.items():
        assert callable(sub.get_default("func")), name
    assert {"server", "config"} <= set(action.choices)


def test_config_prints_queries(capsys):
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "street2sakura" in out and "가로수길" in out and "hl=ko" in out


def test_config_error_exits_2_with_field(tmp_path, capsys):
    bad = tmp_path / "domains.toml"
    bad.write_text('name = "UPPER"\n[domains.A]\nqueries = ["a"]\n[domains.B]\nqueries = ["b"]\n')
    assert main(["config", "--domains", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "sakura config: error:" in err and "name: got 'UPPER'" in err


def test_top_level_help_imports_no_stage():
    """`sakura --help` and the server/config commands stay fast: torch and prefect load only for their commands."""
    code = (
        "import sys; from sakura.cli import build_parser; build_parser(load=[]).parse_args(['config']); "
        "print(sorted(m for m in ('torch', 'prefect', 'selenium') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_stage_command_loads_only_its_module():
    parser = build_parser(load=["translate"])
    action = next(a for a in parser._actions if a.dest == "command")
    assert callable(action.choices["translate"].get_default("func"))
    assert action.choices["scrape"].get_default("func") is None  # listed, not loaded
    assert action.choices["scrape"].description == action._choices_actions[2].help  # one help text, shown twice


def test_user_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, capsys):
    assert main(["curate", "--root", str(tmp_path / "none"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and err.startswith("sakura curate: error: dataset: no raw images")
        and "Traceback" not in err
    )
    assert main(["--debug", "curate", "--root", str(tmp_path / "none"), "--no-progress"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_an_os_error_about_a_file_is_one_line_naming_it(tmp_path, capsys):
    missing = tmp_path / "no-such-domains.toml"
    assert main(["config", "--domains", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err
