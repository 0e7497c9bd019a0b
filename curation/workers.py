"""A process pool map shared by the decode and contact-sheet stages: forked workers on Linux, results in order."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def process_map(fn: Callable[[Any], Any], args: Sequence[Any], workers: int, min_items: int = 4) -> Iterator[Any]:
    """`map(fn, args)` across `workers` processes, in order; in this process when workers <= 1 or few items.

    `fn` must be a module-level function. Chunks of up to 32 items keep the pipes quiet while still spreading
    the work evenly (about 8 chunks per worker).
    """
    if workers <= 1 or len(args) < min_items:
        yield from map(fn, args)
        return
    # fork on Linux: workers start in milliseconds with the modules already imported, and callers need no
    # `if __name__ == "__main__"` guard; elsewhere the platform's default (spawn on macOS and Windows).
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    chunk = max(1, min(32, len(args) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=min(workers, len(args)), mp_context=ctx) as pool:
        yield from pool.map(fn, args, chunksize=chunk)
