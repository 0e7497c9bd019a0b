"""mkdocs hook: the configuration reference, generated from the settings models at every build (never typed by hand).

A page holding the line `<!-- settings-reference -->` gets, in its place, one table per model below: every field with
its type, default, description, CLI flag and whether the Prefect form shows it; the `SAKURA_*` variables from
core.environment. Adding a field to a model is enough to document it.
"""

from __future__ import annotations

import importlib
import types
import typing
from pathlib import Path
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

MARKER = "<!-- settings-reference -->"

# (model, where it lives, the command whose flags it makes, its section of the collect-and-train form)
MODELS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("ScrapeConfig", "scraper.config", "sakura scrape", "scrape"),
    ("CurationConfig", "curation.config", "sakura curate", "curation"),
    ("ReviewSettings", "flows.review", None, "review"),
    ("TrainConfig", "model.config", "sakura train", "training"),
    ("TranslateConfig", "model.translation", "sakura translate", "translation"),
)


def _load(module: str, name: str) -> type[BaseModel]:
    return getattr(importlib.import_module(module), name)


def type_text(tp: Any) -> str:
    """A field's type as a reader writes it: `int`, `"google" | "bing"`, `float | None`, `list of str`."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in typing.get_args(tp))
    if origin is typing.Annotated:
        return type_text(typing.get_args(tp)[0])
    if isinstance(tp, types.UnionType) or origin is typing.Union:
        return " | ".join(type_text(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return f"list of {type_text(typing.get_args(tp)[0])}"
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


_BOUNDS = ((at.Gt, "gt", ">"), (at.Ge, "ge", "≥"), (at.Lt, "lt", "<"), (at.Le, "le", "≤"))


def bounds_text(info: FieldInfo) -> str:
    """The field's numeric bounds, e.g. `≥ 0, ≤ 32`."""
    out = []
    for m in info.metadata:
        for cls, attr, sign in _BOUNDS:
            if isinstance(m, cls):
                out.append(f"{sign} {getattr(m, attr)}")
    return ", ".join(out)


def default_text(info: FieldInfo, root: Path) -> str:
    """The default as it is written on the command line or in a form; machine-dependent ones by the function."""
    if info.default_factory is not None:
        return f"`{info.default_factory.__name__}()`"
    value = info.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, Path):
        return f"`{_relative(value, root)}`"
    if isinstance(value, tuple | list):
        return "`" + ", ".join(map(str, value)) + "`" if value else "(none)"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{value}`"


def _relative(path: Path, root: Path) -> str:
    try:
        return "<project>/" + str(path.relative_to(root))
    except ValueError:
        return str(path)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def model_table(model: type[BaseModel], command: str | None, root: Path) -> tuple[list[str], list[type[BaseModel]]]:
    """One model's table (lines) and the settings models nested in it (documented after it)."""
    from core.settings import Settings, cli_flags

    hidden = model.hidden_fields() if issubclass(model, Settings) else frozenset()
    head = "| setting | type | default | description |" + (" flag |" if command else "") + " form |"
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    nested = []
    for name, info in model.model_fields.items():
        tp = type_text(info.annotation)
        bounds = bounds_text(info)
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            nested.append(info.annotation)
        on_help = not any(getattr(m, "hidden", False) for m in info.metadata)
        names = cli_flags(name, info)
        if info.annotation is bool and names:  # argparse.BooleanOptionalAction: --x / --no-x
            names.append("--no-" + names[-1][2:])
        flags = ", ".join(f"`{f}`" for f in names) or "-"
        if flags != "-" and not on_help:
            flags += " (not in --help)"
        row = [f"`{name}`", tp + (f" ({bounds})" if bounds else ""), default_text(info, root), info.description or ""]
        if command:
            row.append(flags)
        row.append("no" if name in hidden else "yes")
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines, nested


def environment_table(root: Path) -> list[str]:
    """The `SAKURA_*` variables: name, type, default, description."""
    from core.environment import Environment, variable

    lines = ["| variable | type | default | description |", "|---|---|---|---|"]
    for name, info in Environment.model_fields.items():
        row = [f"`{variable(name)}`", type_text(info.annotation), default_text(info, root), info.description or ""]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def reference() -> str:
    """The whole generated reference (markdown)."""
    from core.paths import PROJECT_ROOT

    out: list[str] = []
    for name, module, command, section in MODELS:
        model = _load(module, name)
        out += [f"## {name}", ""]
        where = [f"`{module}.{name}`"]
        if command:
            where.append(f"flags of `{command}`")
        if section:
            where.append(f"section `{section}` of the collect-and-train form")
        out += [(model.__doc__ or "").strip().split("\n")[0], "", "Used as: " + "; ".join(where) + ".", ""]
        todo = [model]
        while todo:
            current = todo.pop(0)
            if current is not model:
                out += [f"### {current.__name__}", "", (current.__doc__ or "").strip().split("\n")[0], ""]
            lines, nested = model_table(current, command, PROJECT_ROOT)
            out += [*lines, ""]
            todo += nested
    about = "`core.environment.Environment`: an empty variable counts as unset; a bad value is one line naming it."
    out += ["## Environment: `SAKURA_*`", "", about, "", *environment_table(PROJECT_ROOT), ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs event: put the generated reference where the page asks for it."""
    return markdown.replace(MARKER, reference()) if MARKER in markdown else markdown
