"""Candidate search for near-duplicates over packed 64-bit hashes (chunked, vectorised): pairs within a distance, and
each image's nearest by its whole-frame, mirrored and window hashes; and grouping by union-find."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
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


PROBES = (0, 1)  # columns of the window hashes compared as one image's frame: the whole frame, as is and mirrored


def _targets(width: int) -> tuple[int, ...]:
    """Columns of the window hashes a frame is compared with: the whole frame and each window."""
    return (0, *range(2, width))


def window_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(m,) uint8 distances of image pairs given their window hashes (m, 11) each (`curation.hashing.window_hashes`):
    the fewest differing bits between one image's whole frame, as is or mirrored, and the other's whole frame or one
    of its windows, either way round."""
    d = np.full(len(a), 255, dtype=np.uint8)
    for p in PROBES:
        for t in _targets(a.shape[1]):
            np.minimum(d, np.bitwise_count(a[:, p] ^ b[:, t]), out=d)
            np.minimum(d, np.bitwise_count(b[:, p] ^ a[:, t]), out=d)
    return d


def nearest_window_pairs(hashes: np.ndarray, threshold: int, k: int, block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, within `threshold` bits by `window_distance` where j is among the `k` nearest of i or i
    among those of j (ties by index): the candidate pairs of near-duplicates, crops of up to 10% and mirror images
    included, at most k per image however alike a set is; and each pair's rank (0: the nearest of one of the two).
    `hashes` (n, 11) uint64. Each pair of `block`-sized blocks of images is compared once (both ways round), each
    image keeping its k nearest so far: scratch memory is a few blocks whatever n. Sorted by (i, j)."""
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.int64)
    k = min(k, n - 1)
    probes, targets = h[:, PROBES].T.copy(), h[:, _targets(h.shape[1])].T.copy()  # (2, n), (10, n)
    far = np.int64(256 * n)  # keys: distance * n + index, unique per row; `far` for none
    best = np.full((n, k), far, dtype=np.int64)
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        for j0 in range(i0, n, block):
            j1 = min(j0 + block, n)
            d = _block_distance(probes, targets, i0, i1, j0, j1)
            if i0 == j0:
                np.fill_diagonal(d, 255)  # not itself
            near = d <= threshold
            keys = np.where(near, d.astype(np.int64) * n + np.arange(j0, j1), far)  # (rows, cols)
            best[i0:i1] = _keep(best[i0:i1], keys, k)
            if j0 != i0:
                best[j0:j1] = _keep(best[j0:j1], np.where(near.T, d.T.astype(np.int64) * n + np.arange(i0, i1), far), k)
    i, slot = np.nonzero(best < far)  # slot: the rank in i's list
    j = best[i, slot] % n
    return best_ranked(np.stack([i, j], axis=1), slot)


def best_ranked(pairs: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each unordered pair of `pairs` (m, 2) once, as (i, j) with i < j, with its best (lowest) `rank` (m,); sorted
    by (i, j)."""
    pairs = np.sort(pairs, axis=1)
    order = np.lexsort((rank, pairs[:, 1], pairs[:, 0]))
    pairs, rank = pairs[order], rank[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = (pairs[1:] != pairs[:-1]).any(axis=1)
    return pairs[first], rank[first]


def _block_distance(probes: np.ndarray, targets: np.ndarray, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
    """(i1 - i0, j1 - j0) uint8 `window_distance` between images i0..i1 and j0..j1."""
    d = np.full((i1 - i0, j1 - j0), 255, dtype=np.uint8)
    xor = np.empty(d.shape, dtype=np.uint64)
    cnt = np.empty(d.shape, dtype=np.uint8)
    for p in probes:
        for t in targets:
            for mine, theirs in ((p[i0:i1], t[j0:j1]), (t[i0:i1], p[j0:j1])):  # my whole frame, your window; and back
                np.bitwise_xor(mine[:, None], theirs[None, :], out=xor)
                np.bitwise_count(xor, out=cnt)
                np.minimum(d, cnt, out=d)
    return d


def _keep(best: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """Per row, the k smallest of the row's `best` and `keys` (all distinct)."""
    both = np.concatenate([best, keys], axis=1)
    return np.sort(np.partition(both, k - 1, axis=1)[:, :k], axis=1)


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving and union by size."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x: int) -> int:
        """The representative of x's set."""
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> int:
        """Join the sets of a and b; return the new representative."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return ra


def group_duplicates(n: int, pairs: Iterable[Sequence[int]]) -> list[list[int]]:
    """Connected components of the pair graph over 0..n-1 (singletons included), each sorted, ordered by first index."""
    uf = UnionFind(n)
    for a, b in pairs:
        uf.union(int(a), int(b))
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(uf.find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


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


def hex_to_uint64(values: Iterable[str]) -> np.ndarray:
    """16-digit hex hashes as a uint64 array."""
    return np.fromiter((int(v, 16) for v in values), dtype=np.uint64)
