"""Browsers die with the scraper, even on kill -9: each chromedriver leads its own process group, which a reaper kills.

The reaper is a small process started once per scraper process. It holds the read end of a pipe whose only write
end is in the scraper; when the scraper ends in any way (kill -9 included) the pipe closes, and the reaper kills
every process group still registered and removes their Chromium profiles. chromedriver registers itself from its
own child process before it runs (`popen_kw`), so no moment exists at which it is not watched. Profiles left by
runs that died before this existed, or whose reaper was killed too, are removed by `remove_stale_profiles`.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)
PROFILE_PREFIX = "sakura-chrome-"
OLD_PROFILE_AGE_S = 600  # a profile without an owner pid in its name is left alone this long (may be starting up)

_REAPER = r"""
import os, shutil, signal, sys, time
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
fd, groups, buf = int(sys.argv[1]), {}, b""
while chunk := os.read(fd, 4096):
    buf += chunk
    *lines, buf = buf.split(b"\n")
    for line in lines:
        verb, pgid, profile = (line.decode("utf-8", "replace").split(" ", 2) + ["", ""])[:3]
        if verb == "watch":
            groups[int(pgid)] = profile
        elif verb == "forget":
            groups.pop(int(pgid), None)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
time.sleep(0.3)
for paths in groups.values():
    for path in filter(None, paths.split("\t")):
        shutil.rmtree(path, ignore_errors=True)
"""


class Reaper:
    """The reaper process of this scraper process and the write end of its pipe."""

    def __init__(self) -> None:
        read_fd, self.write_fd = os.pipe()  # both non-inheritable: chromedriver and Chromium never hold them
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _REAPER, str(read_fd)],
            pass_fds=(read_fd,),
            start_new_session=True,  # a Ctrl-C or a kill of the scraper's process group leaves it to do its job
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(read_fd)
        self.owner = os.getpid()

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.proc.poll() is None

    def popen_kw(self, *folders: str) -> dict:
        """Popen arguments for chromedriver: a new session (its own process group), registered before it runs with
        the folders (profile, scratch) the reaper removes after killing it."""
        fd, line_end = self.write_fd, f" {chr(9).join(dict.fromkeys(folders))}\n".encode()

        def register() -> None:  # runs in the child between fork and exec: only a pid and one atomic write
            os.write(fd, b"watch " + str(os.getpid()).encode() + line_end)
            os.close(fd)  # kept open only for this write (pass_fds): chromedriver must not hold the pipe

        return {"start_new_session": True, "pass_fds": (fd,), "preexec_fn": register}

    def forget(self, pgid: int) -> None:
        """The group ended normally: the reaper must not kill a later process that reuses the number."""
        os.write(self.write_fd, f"forget {pgid} \n".encode())


_lock = threading.Lock()
_reaper: Reaper | None = None


def reaper() -> Reaper:
    """This process's reaper, started on first use (and again after a fork or if it died)."""
    global _reaper
    with _lock:
        if _reaper is None or not _reaper.alive():
            _reaper = Reaper()
        return _reaper


def _forget_in_child() -> None:
    """A forked child starts its own reaper. (The parent's pipe is not closed here: this also runs in the children
    of subprocesses that have a preexec_fn, chromedriver's among them, before they register.)"""
    global _reaper
    _reaper = None


os.register_at_fork(after_in_child=_forget_in_child)


def kill_group(pgid: int) -> None:
    """SIGKILL a browser's process group (chromedriver, Chromium and its helpers)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def profile_root() -> Path:
    """Where browser profiles are created (the temp folder)."""
    return Path(tempfile.gettempdir())


SHORT_ROOT = Path("/tmp")  # Chromium's scratch goes here when the temp folder's path is too long for its socket


def new_profile(root: Path | None = None) -> str:
    """A fresh profile (or scratch) folder named with this process's id, so a later run can tell when its owner is
    gone."""
    return tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-", dir=root or profile_root())


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _lock_pid(profile: Path) -> int | None:
    """The pid in Chromium's SingletonLock (`host-pid`) when it was written on this host."""
    try:
        host, _, pid = os.readlink(profile / "SingletonLock").rpartition("-")
    except OSError:
        return None
    return int(pid) if pid.isdigit() and host == socket.gethostname() else None


def _in_use(profile: Path) -> bool:
    owner = profile.name.removeprefix(PROFILE_PREFIX).split("-", 1)[0]
    lock = _lock_pid(profile / "user-data") or _lock_pid(profile)
    if lock is not None and pid_alive(lock):
        return True
    if owner.isdigit():
        return pid_alive(int(owner))
    try:
        return time.time() - profile.stat().st_mtime < OLD_PROFILE_AGE_S
    except FileNotFoundError:
        return False


def remove_stale_profiles(root: Path | None = None) -> list[Path]:
    """Remove `sakura-chrome-*` profiles whose scraper and browser are gone; returns what was removed."""
    removed = []
    roots = [root] if root else list(dict.fromkeys([profile_root(), SHORT_ROOT]))
    for profile in sorted(p for r in roots if r.is_dir() for p in r.glob(PROFILE_PREFIX + "*")):
        if profile.is_dir() and not _in_use(profile):
            shutil.rmtree(profile, ignore_errors=True)
            removed.append(profile)
    if removed:
        log.info("removed %d browser profile(s) left by dead runs in %s", len(removed), removed[0].parent)
    return removed
