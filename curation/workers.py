"""A process pool map for the decode and contact-sheet stages: forked workers, and a worker that dies or hangs costs
only the item it held."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any


@dataclass(frozen=True)
class Lost:
    """An item whose worker process died (a segfault, an out-of-memory kill) or ran past the time limit, and why."""

    why: str  # e.g. "the worker process was killed by SIGSEGV"
    timed_out: bool = False


class WorkerError(RuntimeError):
    """A worker process died, or `fn` raised there (a programming error: per-item failures are `fn`'s results)."""


def process_map(
    fn: Callable[[Any], Any],
    args: Sequence[Any],
    workers: int,
    min_items: int = 4,
    *,
    timeout: float | None = None,
    on_lost: Callable[[Any, Lost], Any] | None = None,
    ordered: bool = True,
) -> Iterator[Any]:
    """`map(fn, args)` across `workers` processes: in order, or as they finish when not `ordered`.

    Without `on_lost` it runs in this process when workers <= 1 or there are fewer than `min_items` items, and a
    worker that dies raises WorkerError. With `on_lost` every item runs in a worker process (at least one), so that a
    crash or a hang costs only that item: an item whose worker died is run once more alone after the others, and if
    it is lost again, or ran past `timeout` seconds (its worker is then killed), its result is `on_lost(arg, Lost)`.
    An exception raised by `fn` stops the map and is raised here. `fn` must be a module-level function.
    """
    if on_lost is None and (workers <= 1 or len(args) < min_items):
        yield from map(fn, args)
        return
    results: dict[int, Any] = {}
    nxt = 0
    crashed: list[int] = []
    with _Pool(fn, max(1, min(workers, len(args))), timeout) as pool:
        for i, value in pool.run(list(enumerate(args))):
            if isinstance(value, Lost):
                if on_lost is None:
                    raise WorkerError(f"item {i}: {value.why}")
                if not value.timed_out:
                    crashed.append(i)
                    continue
                value = on_lost(args[i], value)
            if not ordered:
                yield value
                continue
            results[i] = value
            while nxt in results:
                yield results.pop(nxt)
                nxt += 1
    if crashed:  # each alone now: a sibling's memory or a crash nearby can no longer play a part
        with _Pool(fn, 1, timeout) as pool:
            for i, value in pool.run([(i, args[i]) for i in crashed]):
                if isinstance(value, Lost):
                    value = on_lost(args[i], value if value.timed_out else Lost(f"{value.why}, also when run alone"))
                if not ordered:
                    yield value
                else:
                    results[i] = value
    while nxt in results:
        yield results.pop(nxt)
        nxt += 1


@dataclass
class _Worker:
    proc: Any  # multiprocessing.Process
    conn: Connection
    held: tuple[int, Any] | None = None  # the item it is working on
    since: float = 0.0  # when it got it


class _Pool:
    """Worker processes fed one item at a time over a pipe each, so that the parent always knows who holds what."""

    def __init__(self, fn: Callable[[Any], Any], n: int, timeout: float | None) -> None:
        # fork on Linux: workers start in milliseconds with the modules already imported, and callers need no
        # `if __name__ == "__main__"` guard; elsewhere the platform's default (spawn on macOS and Windows).
        self.ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
        self.fn, self.n, self.timeout = fn, n, timeout
        self.workers: list[_Worker] = []

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, todo: list[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        """(index, result or Lost) for every item of `todo`, in the order they finish."""
        queue = deque(todo)
        left = len(todo)
        while left:
            while len(self.workers) < min(self.n, left):
                self._start()
            for w in list(self.workers):
                if w.held is None and queue:
                    self._give(w, queue)
            busy = [w for w in self.workers if w.held is not None]
            if not busy:
                continue
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], self._wait_time(busy)))
            for w in busy:
                if w.conn in ready or w.proc.sentinel in ready:
                    done = self._collect(w)
                elif self.timeout is not None and time.monotonic() - w.since > self.timeout:
                    done = self._drop(w, Lost(f"no result after {self.timeout:g} s; stopped", timed_out=True))
                else:
                    continue
                if done is not None:
                    left -= 1
                    yield done

    def _give(self, w: _Worker, queue: deque) -> None:
        item = queue.popleft()
        try:
            w.conn.send(item)
        except OSError:  # it died idle (after its last result): the item goes back, a new worker takes its place
            queue.appendleft(item)
            self._stop(w)
            return
        w.held, w.since = item, time.monotonic()

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_serve, args=(self.fn, child), daemon=True)
        with _children_allowed():
            proc.start()
        child.close()
        self.workers.append(_Worker(proc, parent))

    def _wait_time(self, busy: list[_Worker]) -> float | None:
        if self.timeout is None:
            return None
        return max(0.0, min(w.since + self.timeout for w in busy) - time.monotonic()) + 0.01

    def _collect(self, w: _Worker) -> tuple[int, Any] | None:
        """The worker's result; or, if it died, its item as Lost (None while neither has happened yet)."""
        try:
            if w.conn.poll():
                i, ok, value = w.conn.recv()
                w.held = None
                if not ok:
                    raise value
                return i, value
        except (EOFError, OSError):  # the pipe broke: the worker is gone
            pass
        w.proc.join(timeout=5.0)
        if w.proc.is_alive():
            return None
        return self._drop(w, Lost(_death(w.proc.exitcode)))

    def _drop(self, w: _Worker, lost: Lost) -> tuple[int, Lost]:
        """Stop worker `w` (a new one takes its place); the item it held is lost."""
        i, _ = w.held
        self._stop(w)
        return i, lost

    def _stop(self, w: _Worker) -> None:
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join()
        w.conn.close()
        self.workers.remove(w)

    def close(self) -> None:
        """Stop every worker: idle ones are told to exit, any still working are killed."""
        for w in list(self.workers):
            if w.held is None:
                try:
                    w.conn.send(None)
                    w.proc.join(timeout=2.0)
                except OSError:
                    pass
            self._stop(w)


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """Let this process start worker processes even when it is itself a daemonic one (a Dask worker, whose tasks
    may not otherwise have children). The workers are daemonic and end with their pipe, so none outlives it."""
    me = multiprocessing.current_process()
    daemonic = me.daemon
    if daemonic:
        me.daemon = False
    try:
        yield
    finally:
        if daemonic:
            me.daemon = True


_CAPTURE: dict[int, int] = {}  # process id -> the descriptor of its reusable, already unlinked temporary file


@contextlib.contextmanager
def captured_stderr() -> Iterator[Callable[[], str]]:
    """Keep what this process writes to stderr meanwhile (file descriptor 2, so C libraries too) from being shown;
    the callable it yields returns that text, on one line, once the block has ended."""
    fd = _CAPTURE.get(os.getpid())
    if fd is None:
        fd, name = tempfile.mkstemp(prefix="sakura-stderr-")
        os.unlink(name)
        _CAPTURE[os.getpid()] = fd
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(fd, 2)
    text = ""
    try:
        yield lambda: text
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.lseek(fd, 0, os.SEEK_SET)
        text = " ".join(os.read(fd, 2000).decode("utf-8", "replace").split())


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the worker process was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"the worker process exited with code {exitcode}"


def _serve(fn: Callable[[Any], Any], conn: Connection) -> None:
    """A worker's loop: (index, arg) in, (index, True, result) or (index, False, exception) out; None, or the parent
    gone, ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which then stops its workers
    _die_with_parent()
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe or died
            return
        if item is None:
            return
        i, arg = item
        try:
            out = (i, True, fn(arg))
        except Exception as e:  # noqa: BLE001 - not swallowed: sent to the parent, which raises it
            out = (i, False, _sendable(e))
        try:
            conn.send(out)
        except (pickle.PicklingError, TypeError, AttributeError) as e:  # the result cannot cross the pipe
            conn.send((i, False, WorkerError(f"the result of item {i} cannot be sent back: {type(e).__name__}: {e}")))


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the thread that started it ends (the parent killed, even with
    SIGKILL), also while it is stuck in a C decoder; elsewhere the closed pipe ends it after its current item."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no libc with prctl: the pipe still ends it
        return


_PR_SET_PDEATHSIG = 1


def _sendable(e: Exception) -> Exception:
    """`e` with the worker's traceback as a note, or a WorkerError with that text if `e` cannot be pickled."""
    text = "".join(traceback.format_exception(e)).rstrip()
    try:
        pickle.loads(pickle.dumps(e))
    except Exception:  # noqa: BLE001 - an exception that cannot cross the pipe goes as its text
        return WorkerError(text)
    e.add_note(f"raised in a worker process:\n{text}")
    return e
