"""Per-item isolation for bulk work: one item's exception becomes that item's failure, the run goes on.

Every loop over items (URLs, raw files, images to translate, training images) calls its per-item work through
`isolate`. A configuration error (ConfigError) still stops the run at once, as do KeyboardInterrupt and SystemExit
(they are not Exceptions); anything else an item raises is caught and returned as an `ItemFailure` naming the
exception class and message, for the caller to record as the item's status and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from core.config import ConfigError

T = TypeVar("T")
MESSAGE_CHARS = 300


@dataclass(frozen=True)
class ItemFailure:
    """Why one item failed: the exception's class and message (shortened to one line)."""

    error: str  # exception class name, e.g. "DecompressionBombError"
    message: str

    @classmethod
    def of(cls, e: BaseException) -> ItemFailure:
        raw = e.args[0] if len(e.args) == 1 and isinstance(e.args[0], str) else str(e)  # KeyError's str is a repr
        text = " ".join(raw.split())[:MESSAGE_CHARS]
        return cls(type(e).__name__, text)

    def __str__(self) -> str:
        return f"{self.error}: {self.message}" if self.message else self.error


def isolate(fn: Callable[..., T], *args, **kwargs) -> T | ItemFailure:
    """`fn(*args, **kwargs)`, or the ItemFailure it raised; a ConfigError is raised on (it stops the whole run)."""
    try:
        return fn(*args, **kwargs)
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - the point: any item's failure is data, the run goes on
        return ItemFailure.of(e)
