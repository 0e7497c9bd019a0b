"""Tests for curation.workers: the process pool map of the decode and contact-sheet stages."""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import time

import pytest

from curation.workers import Lost, WorkerError, process_map


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def _hostile(x: int) -> int:
    """Dies or hangs on some items, as a decoder can on a hostile file."""
    if x == 3:
        faulthandler.disable()  # pytest's faulthandler would print the worker's stack
        ctypes.string_at(0)  # a segfault
    if x == 5:
        os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
    if x == 7:
        time.sleep(60)
    if x == 9:
        os._exit(3)
    return x * x


def _raises(x: int) -> int:
    if x == 2:
        raise KeyError("a bug")
    return x


def _lost(x: int, lost: Lost) -> str:
    return f"lost {x}: {lost.why}" + (" (timeout)" if lost.timed_out else "")


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_in_order_whatever_the_workers(workers):
    out = list(process_map(_square_and_pid, list(range(50)), workers))
    assert [sq for sq, _ in out] == [x * x for x in range(50)]


@pytest.mark.parametrize(("workers", "n", "in_process"), [(1, 50, True), (2, 3, True), (2, 50, False)])
def test_runs_in_this_process_only_when_serial_or_few_items(workers, n, in_process):
    pids = {pid for _, pid in process_map(_square_and_pid, list(range(n)), workers)}
    assert (pids == {os.getpid()}) is in_process


def test_with_on_lost_even_one_item_runs_in_a_worker():
    [(_, pid)] = process_map(_square_and_pid, [4], 1, on_lost=_lost)
    assert pid != os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_that_dies_or_hangs_costs_only_its_item(workers):
    t0 = time.monotonic()
    out = list(process_map(_hostile, list(range(12)), workers, timeout=1.5, on_lost=_lost))
    assert time.monotonic() - t0 < 20
    expect = {3: "killed by SIGSEGV, also when run alone", 5: "killed by SIGKILL (out of memory?), also when run alone",
              7: "no result after 1.5 s; stopped (timeout)", 9: "exited with code 3, also when run alone"}  # fmt: skip
    for x, got in enumerate(out):
        if x in expect:
            assert got.startswith(f"lost {x}: ") and got.endswith(expect[x]), got
        else:
            assert got == x * x


def test_unordered_yields_every_result_once():
    out = list(process_map(_hostile, list(range(12)), 2, timeout=1.0, on_lost=_lost, ordered=False))
    assert len(out) == 12
    assert sorted(o for o in out if isinstance(o, int)) == [x * x for x in range(12) if x not in (3, 5, 7, 9)]


def test_without_on_lost_a_dead_worker_is_an_error():
    with pytest.raises(WorkerError, match="SIGSEGV"):
        list(process_map(_hostile, list(range(5)), 2))


@pytest.mark.parametrize("on_lost", [None, _lost])
def test_an_exception_in_fn_stops_the_map_and_is_raised_here(on_lost):
    with pytest.raises(KeyError, match="a bug") as e:
        list(process_map(_raises, list(range(8)), 2, on_lost=on_lost))
    assert any("raised in a worker process" in n for n in getattr(e.value, "__notes__", []))
