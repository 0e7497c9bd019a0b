"""Every `sakura ...`, `make ...` and `prefect ...` command the README and the docs show works as written: the sakura
CLI parses it, the make target exists, a deployment run names a deployment the project defines, and Prefect's own
CLI parses the rest. Nothing is run."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
PROGRAMS = ("sakura", "make", "prefect")
SHELL_FENCES = ("bash", "sh", "shell", "console", "")  # fenced blocks read as commands (`text` blocks are output)
PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")  # <id>, <that URL>: stand for a value the user types
SOME_ID = "0cfa835d-038e-4c1b-9f0e-7a1b2c3d4e5f"  # what a placeholder becomes (a flow run id must be a UUID)
SEPARATORS = re.compile(r"\s(?:&&|\|\||;|\|)\s|\s&(?:\s|$)")


def shown_commands(text: str) -> Iterator[tuple[int, str]]:
    """(line number, command text) of every shell line in a shell code block and every inline code span."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip() if fence is None else None
            continue
        if fence is not None:
            if fence in SHELL_FENCES:
                yield number, stripped
            continue
        for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", line):
            yield number, span


def command_of(text: str) -> tuple[str, list[str]] | None:
    """(program, its arguments) when `text` runs sakura, make or prefect (after VAR=value, `.venv/bin/`, `xvfb-run -a`
    or `torchrun ... -m`); None for anything else."""
    try:
        tokens = shlex.split(PLACEHOLDER.sub(SOME_ID, text), comments=True)
    except ValueError:
        return None
    while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", tokens[0]):
        tokens = tokens[1:]
    if tokens[:1] == ["xvfb-run"]:
        tokens = tokens[1:]
        while tokens and tokens[0].startswith("-"):
            tokens = tokens[1:]
    if tokens[:1] == ["torchrun"] and "-m" in tokens:
        tokens = tokens[tokens.index("-m") + 1 :]
    if not tokens or Path(tokens[0]).name not in PROGRAMS or tokens[0].endswith((".py", ".yaml")):
        return None
    if len(tokens) == 1 or any(t.endswith(":") for t in tokens):  # the program named; a line it printed (`error:`)
        return None
    return Path(tokens[0]).name, tokens[1:]


def commands() -> list[tuple[str, str, list[str]]]:
    """(where, program, arguments) of every command in the README and the docs."""
    found = []
    for page in PAGES:
        for number, text in shown_commands(page.read_text()):
            for segment in SEPARATORS.split(f" {text} "):
                cmd = command_of(segment.strip())
                if cmd:
                    found.append((f"{page.relative_to(ROOT)}:{number}: {segment.strip()}", *cmd))
    return found


@cache
def sakura_parser():
    from sakura.cli import build_parser

    return build_parser()


def check_sakura(args: list[str]) -> str | None:
    """None when the sakura CLI parses `args`; else argparse's message. A bare `sakura <command>` names the command
    (a table's "command" column, `sakura review` in prose): the command must exist."""
    if len(args) == 1 and not args[0].startswith("-"):
        choices = next(a.choices for a in sakura_parser()._actions if isinstance(a, argparse._SubParsersAction))
        return None if args[0] in choices else f"no sakura command {args[0]!r}"
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            sakura_parser().parse_args(args)
    except SystemExit as e:
        return None if e.code == 0 else err.getvalue().strip().splitlines()[-1]  # 0: --help
    return None


@cache
def make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text()
    return frozenset(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, flags=re.M))


def check_make(args: list[str]) -> str | None:
    """None when every target named exists in the Makefile (VAR=value arguments are variables, not targets)."""
    missing = [a for a in args if "=" not in a and not a.startswith("-") and a not in make_targets()]
    return f"no make target {missing}" if missing else None


@cache
def deployments() -> frozenset[str]:
    """`flow/deployment` of every deployment: those `sakura serve` serves and those prefect.yaml declares."""
    from flows.deploy import DEPLOYMENT, FLOWS

    names = {f"{f.name}/{DEPLOYMENT}" for f in FLOWS}
    for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]:
        path, function = d["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        names.add(f"{getattr(module, function).name}/{d['name']}")
    return frozenset(names)


def check_prefect(args: list[str]) -> str | None:
    """None when Prefect's CLI parses `args` (without running it) and a deployment run names a deployment here."""
    from prefect.cli._app import _app

    try:
        _, bound, _ = _app.meta.parse_args(args, exit_on_error=False, print_error=False)
        tokens = list(bound.arguments.get("tokens", ()))
        _app.parse_args(tokens, exit_on_error=False, print_error=False)
    except Exception as e:  # cyclopts' CycloptsError: an unknown command or option, a bad value
        return f"{type(e).__name__}: {e}"
    if tokens[:2] == ["deployment", "run"]:
        name = next((t for t in tokens[2:] if not t.startswith("-")), "")
        if name not in deployments():
            return f"no deployment {name!r}; the project defines {sorted(deployments())}"
    return None


CHECKS = {"sakura": check_sakura, "make": check_make, "prefect": check_prefect}


def test_the_docs_show_commands_of_every_kind() -> None:
    programs = {program for _, program, _ in commands()}
    assert programs == set(PROGRAMS)
    assert len(commands()) > 50


@pytest.mark.parametrize("where, program, args", commands(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_command_shown_works_as_written(where: str, program: str, args: list[str]) -> None:
    assert CHECKS[program](args) is None, f"{where}: {CHECKS[program](args)}"


@pytest.mark.parametrize(
    "line",
    [
        "sakura scrpe",
        ".venv/bin/sakura scrape --per-quer 5",
        "sakura curate --min-score high",
        "sakura review --port 8000",  # the run id is required
        "make tset",
        "SAKURA_PREFECT_PORT=4300 make sever",
        "prefect deployment run collect-and-train/defualt --watch",
        "prefect deployment run train/cpu",  # train runs on the gpu pool
        ".venv/bin/prefect worker strat --pool cpu",
        "prefect worker start --pol cpu",
        "prefect --no-prompt deploy --al",
    ],
)
def test_a_command_with_a_typo_is_caught(line: str) -> None:
    program, args = command_of(line)
    assert CHECKS[program](args) is not None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("make server && .venv/bin/sakura serve &", [("make", ["server"]), ("sakura", ["serve"])]),
        ("SAKURA_PREFECT_PORT=4300 make server    # another port", [("make", ["server"])]),
        ("xvfb-run -a .venv/bin/sakura scrape --headed", [("sakura", ["scrape", "--headed"])]),
        ("torchrun --nproc-per-node 4 -m sakura train --run-name big", [("sakura", ["train", "--run-name", "big"])]),
        (".venv/bin/sakura review <id>", [("sakura", ["review", SOME_ID])]),
        ("prefect.yaml", []),
        ("makes sense", []),
        ("the `sakura` command", []),
        ("sakura config: error: datasets/domains.toml: domains.A.queries: got []", []),
    ],
)
def test_commands_are_found_in_a_line(text: str, expected: list) -> None:
    found = [command_of(s.strip()) for s in SEPARATORS.split(f" {text} ")]
    assert [c for c in found if c] == expected
