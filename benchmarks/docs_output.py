"""Figures written once: what a benchmark prints, saved with its command and date where the docs include it.

Every benchmark script takes `--write-docs [FILE]`: its output also goes to `docs/benchmarks/generated/<script>.md`
(or FILE), headed by the exact command and the date; the docs pages include that file (`--8<--`), so no figure is
typed twice. Lines the script prints as markdown (table rows, `|...|`) stay markdown; the rest is a text block.
"""

from __future__ import annotations

import argparse
import io
import os
import shlex
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "docs" / "benchmarks" / "generated"
DEFAULT = Path("-")  # --write-docs without FILE: the script's own file under GENERATED


def add_argument(parser: argparse.ArgumentParser) -> None:
    """The `--write-docs [FILE]` flag (read by `run`; declared here so that --help shows it)."""
    parser.add_argument(
        "--write-docs", nargs="?", const=DEFAULT, type=Path, metavar="FILE",
        help="also write what this prints, headed by this command and the date, to "
        "docs/benchmarks/generated/<script>.md (or FILE), where the docs include it",
    )  # fmt: skip


def target(script: str, given: Path) -> Path:
    """Where `--write-docs` writes for `script`: `docs/benchmarks/generated/<script name>.md` unless a file is given."""
    return GENERATED / f"{Path(script).stem}.md" if given == DEFAULT else given


def command_line(script: str, argv: list[str]) -> str:
    """The command as typed from the project root: `.venv/bin/python benchmarks/<script>.py ARGS`."""
    return shlex.join([".venv/bin/python", os.path.relpath(Path(script).resolve(), ROOT), *argv])


def render(command: str, output: str, when: date | None = None, note: str = "") -> str:
    """The generated page: a header line (command, date, machine), then the output; markdown lines kept as such."""
    when = when or date.today()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head = f"Printed by `{command}` on {when.isoformat()} ({os.cpu_count()} CPUs, load average {load:.1f})."
    parts, text = [head + (f" {note}" if note else ""), ""], []
    for line in output.rstrip("\n").splitlines():
        if line.startswith("|"):
            if text:
                parts += ["```text", *text, "```", ""]
                text = []
            parts.append(line)
        else:
            if parts[-1].startswith("|"):
                parts.append("")
            text.append(line)
    if text:
        parts += ["```text", *text, "```"]
    return "\n".join(parts).rstrip() + "\n"


class _Tee(io.TextIOBase):
    def __init__(self, stream: Any) -> None:
        self.stream, self.buffer_ = stream, io.StringIO()

    def write(self, s: str) -> int:
        self.buffer_.write(s)
        return self.stream.write(s)

    def flush(self) -> None:
        self.stream.flush()


def run(main: Callable[[], Any], script: str) -> Any:
    """Run a benchmark's `main`; with `--write-docs` on the command line, also write its output to the docs."""
    pre = argparse.ArgumentParser(add_help=False)
    add_argument(pre)
    given = pre.parse_known_args()[0].write_docs
    if given is None:
        return main()
    tee, stdout = _Tee(sys.stdout), sys.stdout
    sys.stdout = tee
    try:
        result = main()
    finally:
        sys.stdout = stdout
    path = target(script, given)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(command_line(script, sys.argv[1:]), tee.buffer_.getvalue()))
    print(f"wrote {path}")
    return result
