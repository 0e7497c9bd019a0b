"""A real Prefect server for the test session, started with sakura's own server control."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sakura import server
from tests.support.net import free_port


@contextmanager
def running_prefect_server(home: Path) -> Iterator[server.ServerConfig]:
    """Start a Prefect server on a free port with PREFECT_HOME=home; stop it on exit."""
    cfg = server.ServerConfig(home=home, port=free_port())
    server.start(cfg)
    try:
        yield cfg
    finally:
        server.stop(cfg)
