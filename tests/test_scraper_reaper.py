"""Tests for scraper.reaper and the browser's end: nothing outlives the scraper, not even a kill -9, and a crashed
browser is an error that is retried, never an empty result (real Chromium, processes read from /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException

from core.config import Query
from scraper import browser
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.reaper import PROFILE_PREFIX, remove_stale_profiles
from tests.support.browser import descendants, kill_browser, live_processes_with_env
from tests.support.net import serve
from tests.support.scraper_replica import replica_handler

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
MARK = "SAKURA_TEST_MARK"


def _wait_until(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.fixture
def short_tmp():
    """A temp folder with a short path (Chromium's socket path must stay under 108 bytes)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="sk-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("tmpdir", ["short", "long"])  # long: Chromium's scratch cannot go into the profile
def test_kill_9_of_the_scraper_takes_its_browser_along(short_tmp, tmpdir):
    tmp_path = short_tmp if tmpdir == "short" else short_tmp / ("t" * 20)  # profile over 50 characters
    tmp_path.mkdir(exist_ok=True)
    mark = uuid.uuid4().hex
    env = {**os.environ, "TMPDIR": str(tmp_path), MARK: mark, "PYTHONPATH": str(ROOT)}
    code = "from scraper.browser import make_driver; d = make_driver(); d.get('data:text/html,x'); print('up')\n" \
           "import time; time.sleep(120)"  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        running = {c for _, c in live_processes_with_env(MARK, mark)}
        assert {"chromedriver", "chromium"} <= running, running
        assert [p.name.startswith(PROFILE_PREFIX) for p in tmp_path.iterdir()] == [True]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait_until(lambda: not live_processes_with_env(MARK, mark)), live_processes_with_env(MARK, mark)
        assert _wait_until(lambda: not list(tmp_path.iterdir())), list(tmp_path.iterdir())  # profile removed too
        scratch = lambda: list(Path("/tmp").glob(f"{PROFILE_PREFIX}{proc.pid}-*"))  # noqa: E731
        assert _wait_until(lambda: not scratch()), scratch()  # and the scratch folder Chromium used
    finally:
        proc.kill()


def test_stale_profiles_are_removed_and_live_ones_kept(tmp_path):
    dead, mine = tmp_path / f"{PROFILE_PREFIX}{_dead_pid()}-aaaa", tmp_path / f"{PROFILE_PREFIX}{os.getpid()}-bbbb"
    old_style, fresh_old_style = tmp_path / f"{PROFILE_PREFIX}cccc", tmp_path / f"{PROFILE_PREFIX}dddd"
    locked = tmp_path / f"{PROFILE_PREFIX}{_dead_pid()}-eeee"  # owner gone, but a live Chromium holds its lock
    for d in (dead, mine, old_style, fresh_old_style, locked):
        (d / "user-data").mkdir(parents=True)
    os.utime(old_style, (time.time() - 3600, time.time() - 3600))
    os.symlink(f"{os.uname().nodename}-{os.getpid()}", locked / "user-data" / "SingletonLock")
    (tmp_path / "unrelated").mkdir()
    assert sorted(remove_stale_profiles(tmp_path)) == sorted([dead, old_style])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (mine, fresh_old_style, locked)) + [
        "unrelated"]  # fmt: skip


def test_the_next_start_clears_profiles_of_dead_runs(short_tmp, monkeypatch):
    import tempfile

    tmp_path = short_tmp
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"{PROFILE_PREFIX}{_dead_pid()}-ffff"
    (stale / "user-data").mkdir(parents=True)
    driver = browser.make_driver()
    try:
        assert not stale.exists()
        assert [p.name.split("-")[2] for p in tmp_path.iterdir()] == [str(os.getpid())]
    finally:
        browser.close_driver(driver)
    assert list(tmp_path.iterdir()) == []


def test_a_crashed_browser_raises_and_close_kills_what_is_left():
    driver = browser.make_driver()
    group = driver.service.process.pid
    try:
        kill_browser(driver)
        with pytest.raises(WebDriverException):
            _wait_until(lambda: browser.find_all(driver, "div") is None, timeout=5)  # raises, never []
        assert not browser.alive(driver)
    finally:
        browser.close_driver(driver)
    assert driver.service.process.poll() is not None  # chromedriver ended ...
    assert _wait_until(lambda: not descendants(group)), descendants(group)  # ... and nothing of its group is left


class _CrashOnce:
    """Kills the browser of `engine` when the page first asks for more results (a crash in the middle of loading)."""

    def __init__(self) -> None:
        self.engine, self.crashes = None, 0

    def __call__(self, path: str) -> None:
        if path.startswith("/more") and self.crashes == 0 and self.engine is not None:
            self.crashes += 1
            kill_browser(self.engine.current_driver)


def _crashing_replica(hook):
    base = replica_handler("google", n_results=45)

    class Crashing(base):
        def do_GET(self) -> None:  # noqa: N802
            hook(self.path)
            super().do_GET()

    return Crashing


@pytest.mark.parametrize("retries", [0, 1])
def test_a_browser_crash_mid_search_is_retried_in_a_fresh_browser(tmp_path, retries):
    hook = _CrashOnce()
    srv = serve(_crashing_replica(hook))
    cfg = ScrapeConfig(data_root=tmp_path, google_url=srv.base_url, scroll_pause=0.3, search_retries=retries)
    engine = make_engine(cfg)
    hook.engine = engine
    try:
        out = engine.search(Query(text="tree street", hl="en"), 30)
        first_driver = engine.current_driver
    finally:
        engine.close()
        srv.close()
    assert hook.crashes == 1
    if retries == 0:
        assert (out.status, out.stop, out.candidates) == (R.SEARCH_ERROR, R.STOP_ERROR, ())
        assert out.message.startswith("browser error: ")  # an error, not "no results"
    else:
        assert (out.status, len(out.candidates), out.stop) == (R.OK, 30, R.STOP_ASKED)
        assert first_driver is not None
