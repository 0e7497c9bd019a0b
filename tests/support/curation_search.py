"""Reference searches the tests compare curation's with: every pair within a distance by brute force (chunked,
vectorised), and pairs of equal keys."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

DEFAULT_CHUNK_BYTES = 1024 * 1024  # scratch per thread (cache-sized tiles), whatever the number of hashes
_TILE_ROWS = 32


def near_pairs(
    hashes: np.ndarray,
    threshold: int,
    *,
    threads: int = 1,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """All pairs (i, j), i < j, whose Hamming distance is at most `threshold`, as an (m, 2) int64 array.

    The upper triangle of the distance matrix is computed in tiles of rows x columns,
    `np.bitwise_count(h[i:k, None] ^ h[None, j:l])`, small enough to stay in cache: scratch memory is about
    `chunk_bytes` per thread however many hashes there are, and only hits are kept. numpy releases the GIL, so
    row blocks can run on `threads` threads; with cache-sized tiles one thread was fastest on 2 shared cores
    (100k hashes in 4.5 s), so that is the default. Pairs are sorted by (i, j).
    """
    h = np.ascontiguousarray(hashes, dtype=np.uint64)  # (n,)
    n = h.shape[0]
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    rows = max(1, min(_TILE_ROWS, chunk_bytes // 9, n - 1))
    cols = max(1, chunk_bytes // (9 * rows))  # 8 bytes (xor) + 1 (count) per pair
    starts = range(0, n - 1, rows)
    threads = max(1, min(threads, len(starts)))
    done = [0]
    lock = threading.Lock()

    def worker(t: int) -> list[np.ndarray]:
        """Row blocks t, t + threads, ... (strided, so the wide early blocks spread over threads)."""
        xor_buf = np.empty(rows * cols, dtype=np.uint64)
        cnt_buf = np.empty(rows * cols, dtype=np.uint8)
        found = []
        for i0 in starts[t::threads]:
            i1 = min(i0 + rows, n - 1)
            for j0 in range(i0 + 1, n, cols):
                j1 = min(j0 + cols, n)
                size = (i1 - i0) * (j1 - j0)
                xor = xor_buf[:size].reshape(i1 - i0, j1 - j0)  # (rows, cols)
                cnt = cnt_buf[:size].reshape(xor.shape)
                np.bitwise_xor(h[i0:i1, None], h[None, j0:j1], out=xor)
                np.bitwise_count(xor, out=cnt)
                if cnt.min() <= threshold:
                    r, c = np.nonzero(cnt <= threshold)
                    i, j = r + i0, c + j0
                    keep = j > i
                    found.append(np.stack([i[keep], j[keep]], axis=1).astype(np.int64))
            if progress is not None:
                with lock:
                    done[0] += i1 - i0
                    progress(done[0], n - 1)
        return found

    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = [a for found in pool.map(worker, range(threads)) for a in found]
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(parts, axis=0)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def exact_pairs(keys: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (first, other) of indices whose keys are equal (e.g. pixel hashes): a dict pass, O(n)."""
    first: dict[str, int] = {}
    out = []
    for i, k in enumerate(keys):
        if k in first:
            out.append((first[k], i))
        else:
            first[k] = i
    return out
