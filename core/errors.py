"""The errors a user can fix, the one line a validation error becomes, and the base of every validated model.

Every input a user writes (the domains file, stage settings, flow parameters, `SAKURA_*` variables) is a pydantic
model; a bad value is one ConfigError line: `field: got value; allowed: what is allowed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError


class UserError(Exception):
    """An error the user can fix (bad input, a missing program, a busy port): the CLI prints its message as one
    line, without a traceback."""


class ConfigError(ValueError, UserError):
    """A configuration value is invalid; the message names the field, the value and what is allowed."""


_PREFIXES = ("Input should be ", "String should ", "Value error, ", "Assertion failed, ")


def field_name(loc: Sequence[int | str]) -> str:
    """`domains.A.queries[0].text` for pydantic's location ('domains', 'A', 'queries', 0, 'text')."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(error: ValidationError, name: Callable[[Sequence[int | str]], str] = field_name) -> str:
    """One line for the first problem of a pydantic ValidationError: `field: got value; allowed: ...` (the field
    as `name` spells its location)."""
    first = error.errors(include_url=False)[0]
    ctx = first.get("ctx") or {}
    if isinstance(ctx.get("error"), ConfigError):  # raised by a validator with its own wording
        return str(ctx["error"])
    field = name(first["loc"]) if first["loc"] else "settings"
    more = error.error_count() - 1
    more_text = f" (and {more} more problem(s))" if more else ""
    if first["type"] == "missing":
        return f"{field}: missing; allowed: a value (it is required){more_text}"
    allowed = first["msg"]
    for p in _PREFIXES:
        allowed = allowed.removeprefix(p)
    if first["type"] == "extra_forbidden":
        allowed = "one of the known settings"
    return f"{field}: got {first['input']!r}; allowed: {allowed}{more_text}"


def invalid(field: str, value: Any, allowed: str) -> ConfigError:
    """The ConfigError for a bad value, for validators that check more than a type can say."""
    return ConfigError(f"{field}: got {value!r}; allowed: {allowed}")


class Model(BaseModel):
    """Base of every validated model: frozen, unknown names refused, a bad value a one-line ConfigError."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, protected_namespaces=())

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise ConfigError(describe(e)) from None

    # Only the outermost model turns errors into one line: a model validated inside another is validated by pydantic
    # alone (as RootModel does), so the line names the whole location (`domains.A.queries[0].text`).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some fields changed (pydantic's model_copy does not validate)."""
        return type(self)(**{**dict(self), **changes})
