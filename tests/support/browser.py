"""A real headless Chromium WebDriver for tests, and what /proc says about the processes behind it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from selenium.webdriver.chrome.webdriver import WebDriver

from scraper.browser import close_driver, make_driver


@contextmanager
def headless_chrome() -> Iterator[WebDriver]:
    """A headless Chromium that is quit (and its profile removed) on exit."""
    driver = make_driver(headless=True)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        close_driver(driver)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def live_processes_with_env(name: str, value: str) -> list[tuple[int, str]]:
    """(pid, command name) of every live process (zombies are dead) whose environment holds name=value."""
    needle = f"{name}={value}".encode()
    found = []
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as fh:
                comm = fh.read().strip()
        except OSError:
            continue
        st = _stat(pid)
        if needle in env and st is not None and st[0] != "Z":
            found.append((pid, comm))
    return found


def descendants(pid: int) -> list[int]:
    """Live descendants of a process (children first)."""
    children: dict[int, list[int]] = {}
    for p in _pids():
        st = _stat(p)
        if st is not None and st[0] != "Z":
            children.setdefault(st[1], []).append(p)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            out.append(child)
            todo.append(child)
    return out


def kill_browser(driver: WebDriver) -> int:
    """Crash the browser under a driver: SIGKILL its main Chromium process (chromedriver lives on). Its pid."""
    driver_pid = driver.service.process.pid
    for pid in descendants(driver_pid):
        st = _stat(pid)
        if st is not None and st[1] == driver_pid:
            os.kill(pid, signal.SIGKILL)
            return pid
    raise AssertionError(f"no browser process under chromedriver {driver_pid}")
