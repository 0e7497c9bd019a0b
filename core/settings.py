"""The base of every stage's parameter model, and the command-line flags generated from it.

A stage's settings are one pydantic model (frozen, unknown names refused): the stage's config, the type of its
flow parameter (Prefect renders it as a form section), the source of its CLI flags and help, and the only place a
default is written. Validation errors become one-line ConfigErrors (core.errors).
"""

from __future__ import annotations

import argparse
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Strict,
    model_serializer,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from core.config import DATASET_NAME_RE, default_dataset
from core.errors import ConfigError, Model
from core.paths import dataset_dir, default_domains_file

Hidden = SkipJsonSchema  # a setting the flow form does not show (the flow sets it: where the data is, a terminal bar)
_COMPLETE = {"complete": True}


class Settings(Model):
    """Base of the stage configs: frozen, unknown names refused, errors as ConfigError; JSON-able via to_dict.

    Hidden settings are left out of plain serialisation, so the defaults Prefect puts in a deployment's parameter
    schema (and the form built from it) hold only what the form may send back; `to_dict` keeps everything.
    """

    @model_serializer(mode="wrap")
    def _without_hidden(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        data = handler(self)
        if info.context == _COMPLETE:
            return data
        return {k: v for k, v in data.items() if k not in type(self).hidden_fields()}

    @classmethod
    def hidden_fields(cls) -> frozenset[str]:
        """The settings marked Hidden (not in the flow form)."""
        return frozenset(n for n, f in cls.model_fields.items() if any(isinstance(m, Hidden) for m in f.metadata))

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON values (stored beside every artifact made with these settings)."""
        return self.model_dump(mode="json", context=_COMPLETE)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Inverse of to_dict; an unknown key is a ConfigError naming it."""
        return cls(**data)


@dataclass(frozen=True)
class Cli:
    """How a setting appears on the command line: extra flag names, hidden from --help, or left out."""

    flags: tuple[str, ...] = ()
    hidden: bool = False
    skip: bool = False
    metavar: str | None = None


def _cli(info: FieldInfo) -> Cli:
    return next((m for m in info.metadata if isinstance(m, Cli)), Cli())


def cli_flags(name: str, info: FieldInfo) -> list[str]:
    """The command-line flags of a setting: the names in its Cli metadata, then `--field-name`; [] when left out."""
    cli = _cli(info)
    return [] if cli.skip else list(dict.fromkeys([*cli.flags, "--" + name.replace("_", "-")]))


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(the type without None, whether None was allowed)."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), len(args) < len(typing.get_args(tp))
    return tp, False


_METAVARS = {int: "N", float: "X", Path: "PATH", str: "TEXT"}


def _default_text(info: FieldInfo) -> str:
    if info.default_factory is not None or info.default is None or info.default is False:
        return ""
    value = info.default
    if isinstance(value, tuple | list):
        value = ", ".join(map(str, value)) or "none"
    return f" (default: {value})"


def add_arguments(parser: argparse.ArgumentParser, model: type[Settings], skip: tuple[str, ...] = ()) -> None:
    """One flag per setting of `model` (`--field-name`, plus the names in its Cli metadata), help from the field's
    description and default. Unset flags stay out of the namespace, so defaults come from the model alone."""
    hints = typing.get_type_hints(model, include_extras=False)
    for name, info in model.model_fields.items():
        cli = _cli(info)
        if cli.skip or name in skip:
            continue
        tp, optional = _unwrap(hints[name])
        if isinstance(tp, type) and issubclass(tp, Settings):  # a section: its settings' flags, by their own names
            add_arguments(parser, tp, skip)
            continue
        flags = cli_flags(name, info)
        text = ((info.description or "") + _default_text(info)).replace("%", "%%")  # argparse formats help with %
        help_ = argparse.SUPPRESS if cli.hidden else text
        kw: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": help_}
        origin = typing.get_origin(tp)
        if origin is not Literal and tp is not bool:
            kw["metavar"] = cli.metavar or _METAVARS.get(typing.get_args(tp)[0] if origin else tp, "VALUE")
        if tp is bool:
            parser.add_argument(*flags, action=_typed(argparse.BooleanOptionalAction), **kw)
        elif origin is Literal:
            parser.add_argument(*flags, action=_typed(argparse._StoreAction), choices=typing.get_args(tp), **kw)
        elif origin in (tuple, list):
            item = typing.get_args(tp)[0]
            parser.add_argument(*flags, action=_typed(argparse._AppendAction), type=item, **kw)
        else:
            parser.add_argument(*flags, action=_typed(argparse._StoreAction), type=_parse(tp, optional), **kw)


TYPED = "_typed_flags"  # namespace attribute: setting -> the flag the user typed for it


def _typed(action: type[argparse.Action]) -> type[argparse.Action]:
    """`action` that also notes which of its flags was typed, so an error can name that flag."""

    class Typed(action):  # type: ignore[misc, valid-type]
        def __call__(self, parser, namespace, values, option_string=None) -> None:
            typed = dict(getattr(namespace, TYPED, {}))
            typed[self.dest] = option_string
            setattr(namespace, TYPED, typed)
            super().__call__(parser, namespace, values, option_string)

    return Typed


def _parse(tp: type, optional: bool) -> Callable[[str], Any]:
    """The argparse type of a setting; an optional one also takes `none`."""

    def parse(text: str) -> Any:
        return None if optional and text.lower() == "none" else tp(text)

    parse.__name__ = tp.__name__  # argparse names the type in its error message
    return parse


def from_args(model: type[Settings], args: argparse.Namespace, **fixed: Any) -> Settings:
    """The model built from the flags that were given (and `fixed` values; None in `fixed` means unset)."""
    try:
        return model(**{**_given(model, vars(args)), **{k: v for k, v in fixed.items() if v is not None}})
    except ConfigError as e:  # `per_query_limit: got -5; ...` -> `--per-query: got -5; ...`, the flag as typed
        field, sep, rest = str(e).partition(": ")
        flag = getattr(args, TYPED, {}).get(re.split(r"[.\[]", field)[0])
        if not (sep and flag):
            raise
        raise ConfigError(f"{flag}{field[len(re.split(r'[.[]', field)[0]) :]}: {rest}") from None


def _given(model: type[Settings], flags: dict[str, Any]) -> dict[str, Any]:
    """The settings of `model` among the flags given; a section (a Settings field) from its own flags, if any."""
    hints = typing.get_type_hints(model, include_extras=False)
    out = {}
    for name in model.model_fields:
        tp, _ = _unwrap(hints[name])
        if isinstance(tp, type) and issubclass(tp, Settings):
            if section := _given(tp, flags):
                out[name] = tp(**section)
        elif name in flags:
            out[name] = flags[name]
    return out


# Numbers and switches as settings: no bool taken for a number, no 'yes' for a bool (pydantic's lax mode would).
Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
Seconds = Annotated[float, Strict(), Field(gt=0)]
NonNegativeSeconds = Annotated[float, Strict(), Field(ge=0)]

DatasetName = Annotated[str, Field(pattern=DATASET_NAME_RE.pattern)]


class DatasetSettings(Settings):
    """Base of every stage config: where its dataset is. The stage's layout module derives its folders from
    `data_dir()` (raw/, the split folders, runs/)."""

    data_root: Hidden[Path | None] = Field(None, description="data root (default: $SAKURA_DATA_ROOT, else datasets/)")
    dataset: Hidden[DatasetName | None] = Field(
        None, description="dataset name under the data root (default: the name in the domains file)"
    )
    dataset_dir: Hidden[Annotated[Path | None, Cli(flags=("--root",))]] = Field(
        None, description="dataset folder to use instead of <data root>/<dataset>"
    )

    def data_dir(self, dataset: str | None = None) -> Path:
        """The dataset folder: `dataset_dir` if set, else `<data root>/<name>`, the name being `dataset` (an argument:
        the domains file a scrape reads), else the setting, else the name in the default domains file."""
        if self.dataset_dir is not None:
            return self.dataset_dir
        return dataset_dir(dataset or self.dataset or default_dataset(), self.data_root)


def add_domains_argument(parser: argparse.ArgumentParser) -> None:
    """The `--domains FILE` flag of every command that reads the domains file."""
    parser.add_argument("--domains", default=default_domains_file(), help="domains file (default: %(default)s)")
