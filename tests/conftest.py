"""Shared fixtures: loopback HTTP servers, a real headless Chromium, a real Prefect server."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before anything imports prefect: a throwaway PREFECT_HOME, never ~/.prefect, and no inherited API URL.
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="sakura-test-prefect-"))
os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)

from tests.support.flows_serve import serving  # noqa: E402
from tests.support.net import LocalServer, serve, serve_directory  # noqa: E402
from tests.support.prefect_server import running_prefect_server  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-network", action="store_true", help="also run tests that need the real internet")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-network"):
        return
    skip = pytest.mark.skip(reason="needs the real internet: run with --run-network (make test-live)")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


def _interrupted(signum: int, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # A run stopped by SIGTERM (a timeout, `kill`) tears its fixtures down as on Ctrl-C: the Prefect server, the
    # serving process, workers and browsers the fixtures started do not outlive it.
    signal.signal(signal.SIGTERM, _interrupted)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture
def http_server() -> Iterator[Callable[[object], LocalServer]]:
    """Factory: `http_server(path_or_handler_class)` serves a directory or a handler on 127.0.0.1."""
    started: list[LocalServer] = []

    def start(target: object) -> LocalServer:
        srv = serve_directory(target) if isinstance(target, str | Path) else serve(target)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.close()


@pytest.fixture
def chrome():
    """A real headless Chromium WebDriver (system chromedriver), quit after the test."""
    from tests.support.browser import headless_chrome  # selenium only where a test drives a browser

    with headless_chrome() as driver:
        yield driver


@pytest.fixture(scope="module")
def driver():
    """One real headless Chromium WebDriver shared by a module's tests (they clear its cookies), quit after them."""
    from tests.support.browser import headless_chrome

    with headless_chrome() as d:
        yield d


@pytest.fixture(scope="module")
def demo():
    """The local demo image source (`sakura run --demo`'s engine) for the default domains file."""
    from core.config import load_domains
    from core.paths import PROJECT_ROOT
    from sakura.demo import start_demo_source

    source = start_demo_source(load_domains(PROJECT_ROOT / "datasets" / "domains.toml"))
    yield source
    source.close()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Prefect server on a free port with a temporary PREFECT_HOME; this process and its children use it."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with running_prefect_server(tmp_path_factory.mktemp("prefect-home")) as cfg:
        old = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = cfg.api_url
        try:
            with temporary_settings(updates={PREFECT_API_URL: cfg.api_url}):
                yield cfg
        finally:
            if old is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = old


@pytest.fixture(scope="session")
def served(prefect_server, tmp_path_factory: pytest.TempPathFactory):
    """`sakura serve` (all five deployments) against the session's Prefect server, with a temporary data root."""
    with serving(prefect_server, tmp_path_factory.mktemp("data-root")) as info:
        yield info


@pytest.fixture
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """A real SeaweedFS S3 server on 127.0.0.1 (free ports, a temporary folder, fresh credentials), bucket `sakura`;
    its whole process group is stopped after the test."""
    from tests.support.seaweed import running_seaweed

    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server
