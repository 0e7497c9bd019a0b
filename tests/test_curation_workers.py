"""Tests for curation.workers: the process pool map of the decode and contact-sheet stages."""

from __future__ import annotations

import os

import pytest

from curation.workers import process_map


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_in_order_whatever_the_workers(workers):
    out = list(process_map(_square_and_pid, list(range(50)), workers))
    assert [sq for sq, _ in out] == [x * x for x in range(50)]


@pytest.mark.parametrize(("workers", "n", "in_process"), [(1, 50, True), (2, 3, True), (2, 50, False)])
def test_runs_in_this_process_only_when_serial_or_few_items(workers, n, in_process):
    pids = {pid for _, pid in process_map(_square_and_pid, list(range(n)), workers)}
    assert (pids == {os.getpid()}) is in_process
