"""Tests for curation.cli: the `sakura curate` subcommand."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sakura.cli import main
from tests.support import curation_hostile as ch
from tests.support import curation_images as ci


def _raw(root: Path) -> None:
    for i in range(6):
        ci.put(root / "raw", "AB"[i % 2], ci.jpeg_bytes(ci.scene(900 + i, (400, 300))))
    ci.put(root / "raw", "A", ci.html_as_jpg())


def test_curate_command_prints_counts(tmp_path, capsys):
    _raw(tmp_path)
    assert main(["curate", "--root", str(tmp_path), "--no-progress", "--workers", "1", "--test-fraction", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "A: 4 raw -> 3 kept" in out and "unidentifiable 1" in out and "manifest:" in out
    assert (tmp_path / "curation" / "report.json").is_file()


def test_bad_option_is_a_one_line_config_error(tmp_path, capsys):
    _raw(tmp_path)
    assert main(["curate", "--root", str(tmp_path), "--threshold", "99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sakura curate: error: --threshold: got 99")  # the flag as typed


def test_dataset_name_from_domains_file_under_data_root(tmp_path, monkeypatch, capsys):
    (tmp_path / "domains.toml").write_text(
        'name = "mini"\n[domains.A]\nqueries = ["a"]\n[domains.B]\nqueries = ["b"]\n'
    )
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path))
    _raw(tmp_path / "mini")
    assert main(["curate", "--domains", str(tmp_path / "domains.toml"), "--no-progress", "--workers", "1"]) == 0
    assert str(tmp_path / "mini") in capsys.readouterr().out


def test_console_script_shows_progress_bars(tmp_path):
    _raw(tmp_path)
    sakura = Path(sys.executable).parent / "sakura"
    out = subprocess.run([str(sakura), "curate", "--root", str(tmp_path), "--workers", "2"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "curate: decode" in out.stderr and "7/7" in out.stderr
    assert "B: 3 raw -> 3 kept" in out.stdout


def _problem_block(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "files that could not be decoded" in line)
    return [line for line in lines[start + 1 :] if line.startswith("    ")]


def test_curate_on_a_hostile_folder_exits_0_with_one_line_per_problem(tmp_path, capsys):
    ch.hostile_corpus(tmp_path / "raw", 40, seed=1)
    n_files = sum(1 for p in (tmp_path / "raw").rglob("*") if p.is_file())
    assert main(["curate", "--root", str(tmp_path), "--no-progress", "--workers", "2"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    report = json.loads((tmp_path / "curation" / "report.json").read_text())
    block = _problem_block(out)
    assert [line.split()[0] for line in block] == list(report["problems"])  # one line per reason, in order
    for line in block:
        reason, count = line.split()[:2]
        assert int(count) == report["problems"][reason]["count"] and "e.g. raw/" in line
    with (tmp_path / "curation" / "manifest.csv").open() as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == n_files


def test_missing_raw_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["curate", "--root", str(tmp_path / "nowhere"), "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("sakura curate: error: dataset: no raw images at ")


@pytest.mark.slow
def test_a_folder_of_1000_hostile_files_through_sakura_curate(tmp_path):
    """The acceptance run (benchmarks/hostile_corpus.py prints its figures): exit 0, counts by reason printed, one
    manifest row per input file, no traceback."""
    found = ch.found_on_machine()
    ch.hostile_corpus(tmp_path / "raw", max(800, 1000 - len(ch.CRAFTED) - len(found)), seed=0, found=found)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "raw").rglob("*") if p.is_file())
    assert len(files) >= 1000
    sakura = Path(sys.executable).parent / "sakura"
    out = subprocess.run([str(sakura), "curate", "--root", str(tmp_path), "--workers", "2", "--no-progress"],
                         capture_output=True, text=True, timeout=900)  # fmt: skip
    assert out.returncode == 0 and "Traceback" not in out.stdout + out.stderr, out.stderr[-2000:]
    with (tmp_path / "curation" / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["raw_path"] for r in rows) == files
    problems = json.loads((tmp_path / "curation" / "report.json").read_text())["problems"]
    assert len(_problem_block(out.stdout)) == len(problems) >= 6 and "decode_error" not in problems


def test_a_dataset_folder_that_cannot_be_written_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    import curation.cli

    _raw(tmp_path)

    def full(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(curation.cli, "curate", full)
    assert main(["curate", "--root", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device (is it writable? is the disk full?)" in err


def test_help_lists_every_setting_with_its_default(capsys):
    """Every setting's description goes through argparse's formatting (a bare % in one would break --help)."""
    import argparse

    from curation.cli import configure

    parser = argparse.ArgumentParser(prog="sakura curate")
    configure(parser)
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0
    flags = ("--threshold N", "--candidates N", "--min-score X", "--min-inliers N", "(default: 12)", "(default: 0.6)")
    for flag in flags:
        assert flag in out, flag
