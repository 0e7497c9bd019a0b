"""Reference searches the tests compare curation's with: every pair within a distance by brute force (chunked,
vectorised), pairs of equal keys, and the indexed search's substring lookups in numpy."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from curation import search

DEFAULT_CHUNK_BYTES = 1024 * 1024  # scratch per thread (cache-sized tiles), whatever the number of hashes
_TILE_ROWS = 32
_BLOCK = 1_000_000  # candidate codes compared at once: bounded scratch memory whatever n
_ROWS = 100_000  # codes of the substring table compared at once (a block of probes times a row's room)
ROOM_SDS = 2.0  # a substring table row holds the mean bucket plus this many standard deviations; the rest overflow


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


def table_matches(
    p_keys: np.ndarray, t_keys: np.ndarray, shift: int, probes: np.ndarray, targets: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray]:
    """The numpy search curation.search used before its compiled kernel, kept as the reference the kernel is tested
    against: (probe, target) index pairs within `threshold` bits (whole codes `probes`, `targets`) whose 16-bit
    substrings at `shift` (of the permuted codes `p_keys`, `t_keys`) differ in at most FLIPS bits. The targets are laid
    out as a table, a row per substring value with room for ROOM_SDS standard deviations (of a Poisson count) above the
    mean bucket; each flip compares a block of probes, sorted by substring (the rows read lie together), with its rows
    at once. Targets past their row's room are compared bucket by bucket (`bucket_matches`)."""
    mask = np.uint64((1 << search._WIDTH) - 1)
    tk = ((t_keys >> np.uint64(shift)) & mask).astype(np.int64)
    order = np.argsort(tk, kind="stable")
    key = tk[order]
    start = np.zeros((1 << search._WIDTH) + 1, dtype=np.int64)
    np.cumsum(np.bincount(tk, minlength=1 << search._WIDTH), out=start[1:])
    mean = len(targets) / (1 << search._WIDTH)
    room = max(1, math.ceil(mean + ROOM_SDS * math.sqrt(mean)))
    slot = np.arange(len(order)) - start[key]
    fits = slot < room
    table = np.zeros((1 << search._WIDTH, room), dtype=np.uint64)  # (substring value, slot): the target's whole code
    index = np.full((1 << search._WIDTH, room), -1, dtype=np.int64)  # the target's index, -1 for an empty slot
    table[key[fits], slot[fits]] = targets[order[fits]]
    index[key[fits], slot[fits]] = order[fits]
    pk = ((p_keys >> np.uint64(shift)) & mask).astype(np.int64)
    p_order = np.argsort(pk, kind="stable")
    pk, p_sorted = pk[p_order], probes[p_order, None]
    block = min(len(pk), max(1, _ROWS // room))
    xor, cnt = np.empty((block, room), dtype=np.uint64), np.empty((block, room), dtype=np.uint8)
    near = np.empty((block, room), dtype=bool)
    got_p, got_t = [], []
    for b0 in range(0, len(pk), block):
        m = min(block, len(pk) - b0)
        x, c, close = xor[:m], cnt[:m], near[:m]
        for flip in search._flips(search._WIDTH, search.FLIPS).astype(np.int64):
            rows = pk[b0 : b0 + m] ^ flip
            np.take(table, rows, axis=0, out=x, mode="clip")  # rows are valid: clip skips the checks
            np.bitwise_xor(x, p_sorted[b0 : b0 + m], out=x)
            np.bitwise_count(x, out=c)
            np.less_equal(c, threshold, out=close)
            i, j = np.divmod(np.flatnonzero(close), room)
            t = index[rows[i], j]
            got_p.append(p_order[b0 + i[t >= 0]])
            got_t.append(t[t >= 0])
    if not fits.all():
        over = order[~fits]
        p, t = bucket_matches(p_keys, t_keys[over], shift, probes, targets[over], threshold)
        got_p.append(p)
        got_t.append(over[t])
    if not got_p:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(got_p), np.concatenate(got_t)


def bucket_matches(
    p_keys: np.ndarray, t_keys: np.ndarray, shift: int, probes: np.ndarray, targets: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray]:
    """`table_matches` bucket by bucket: each probe's FLIPS-near buckets of targets sorted by substring, gathered
    and compared a block of about _BLOCK candidates at a time (for buckets of any size)."""
    mask = np.uint64((1 << search._WIDTH) - 1)
    tk = ((t_keys >> np.uint64(shift)) & mask).astype(np.int64)
    t_order = np.argsort(tk, kind="stable")
    t_sorted = targets[t_order]
    start = np.zeros((1 << search._WIDTH) + 1, dtype=np.int64)  # bucket b holds t_sorted[start[b]:start[b + 1]]
    np.cumsum(np.bincount(tk, minlength=1 << search._WIDTH), out=start[1:])
    pk = ((p_keys >> np.uint64(shift)) & mask).astype(np.int64)
    p_order = np.argsort(pk, kind="stable")  # nearby keys together: the bucket lookups stay in cache
    pk, p_sorted = pk[p_order], probes[p_order]
    step = max(1, int(_BLOCK * (1 << search._WIDTH) / max(1, len(targets))))  # probes a block: about _BLOCK candidates
    got_p, got_t = [], []
    for flip in search._flips(search._WIDTH, search.FLIPS).astype(np.int64):
        for b0 in range(0, len(pk), step):
            q = pk[b0 : b0 + step] ^ flip
            lo = start[q]
            count = start[q + 1] - lo
            some = np.flatnonzero(count)
            if not len(some):
                continue
            c = count[some]
            pi = np.repeat(some, c)
            ti = np.arange(len(pi)) - np.repeat(np.cumsum(c) - c - lo[some], c)
            near = np.flatnonzero(np.bitwise_count(p_sorted[b0 + pi] ^ t_sorted[ti]) <= threshold)
            got_p.append(p_order[b0 + pi[near]])
            got_t.append(t_order[ti[near]])
    if not got_p:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(got_p), np.concatenate(got_t)
