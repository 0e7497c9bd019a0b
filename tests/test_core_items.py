"""Tests for core.items: per-item isolation turns an item's exception into data; configuration errors still stop."""

from __future__ import annotations

import pytest

from core.config import ConfigError
from core.items import ItemFailure, isolate


def _boom(kind: type[BaseException]) -> None:
    raise kind("broken\n  header   here")


@pytest.mark.parametrize("kind", [OSError, ValueError, NotImplementedError, KeyError, ZeroDivisionError])
def test_an_items_exception_becomes_its_failure(kind):
    failure = isolate(_boom, kind)
    assert isinstance(failure, ItemFailure) and failure.error == kind.__name__
    assert "broken header here" in failure.message and "\n" not in str(failure)


def test_results_pass_through_and_config_errors_stop():
    assert isolate(lambda a, b=1: a + b, 2, b=3) == 5
    with pytest.raises(ConfigError):
        isolate(_boom, ConfigError)
    with pytest.raises(KeyboardInterrupt):
        isolate(_boom, KeyboardInterrupt)
