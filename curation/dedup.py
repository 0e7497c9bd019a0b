"""Candidate search for near-duplicates: over packed 64-bit hashes (chunked, vectorised, threaded) and over layout
vectors (each image's nearest), capped per image; and grouping by union-find."""

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
    against: np.ndarray | None = None,
    threads: int = 1,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """All pairs (i, j), i < j, whose Hamming distance `hashes[i] ^ against[j]` is at most `threshold`, as an (m, 2)
    int64 array; `against` (the same length, e.g. the hashes of the mirror images) defaults to `hashes`.

    The upper triangle of the distance matrix is computed in tiles of rows x columns,
    `np.bitwise_count(h[i:k, None] ^ g[None, j:l])`, small enough to stay in cache: scratch memory is about
    `chunk_bytes` per thread however many hashes there are, and only hits are kept. numpy releases the GIL, so
    row blocks can run on `threads` threads; with cache-sized tiles one thread was fastest on 2 shared cores
    (100k hashes in 4.5 s), so that is the default. Pairs are sorted by (i, j).
    """
    h = np.ascontiguousarray(hashes, dtype=np.uint64)  # (n,)
    g = h if against is None else np.ascontiguousarray(against, dtype=np.uint64)
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
                np.bitwise_xor(h[i0:i1, None], g[None, j0:j1], out=xor)
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


def hamming_of(hashes: np.ndarray, against: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """(m,) uint8 Hamming distances `hashes[i] ^ against[j]` of pairs (m, 2)."""
    return np.bitwise_count(hashes[pairs[:, 0]] ^ against[pairs[:, 1]]).astype(np.uint8)


def nearest_hash_pairs(hashes: np.ndarray, mirrors: np.ndarray, threshold: int, k: int) -> np.ndarray:
    """Pairs (i, j), i < j, of images within `threshold` bits, as is or one mirrored (`hashes[i]` against
    `hashes[j]` or `mirrors[j]`), each image with at most its `k` nearest (`cap_nearest`)."""
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    m = np.ascontiguousarray(mirrors, dtype=np.uint64)
    pairs = np.unique(np.concatenate([near_pairs(h, threshold), near_pairs(h, threshold, against=m)]), axis=0)
    bits = np.minimum(hamming_of(h, h, pairs), hamming_of(h, m, pairs))
    return cap_nearest(pairs, bits.astype(np.float64), len(h), k)


def cap_nearest(pairs: np.ndarray, distance: np.ndarray, n: int, k: int) -> np.ndarray:
    """The pairs (m, 2) that are among the `k` nearest (smallest `distance`, ties by the other index) of either of
    their two images: a bound on the work per image however alike a set is. Sorted by (i, j)."""
    if len(pairs) == 0:
        return pairs.reshape(0, 2).astype(np.int64)
    me = np.concatenate([pairs[:, 0], pairs[:, 1]])
    other = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((other, np.concatenate([distance, distance]), me))
    starts = np.searchsorted(me[order], np.arange(n))
    rank = np.arange(len(order)) - starts[me[order]]
    keep = np.zeros(len(pairs), dtype=bool)
    keep[order[rank < k] % len(pairs)] = True
    return pairs[keep]


def nearest_vector_pairs(
    symmetric: np.ndarray, antisymmetric: np.ndarray, floor: float, k: int, block_bytes: int = 8 << 20
) -> np.ndarray:
    """Pairs (i, j), i < j, where j is among the `k` most similar images to i or i to j, with a similarity of at
    least `floor`. Each image has c views, each a unit vector split into its mirror-symmetric and antisymmetric
    parts (n, c, d) each; the similarity of two images is, over the views, the largest dot product of their vectors
    as they are or with one mirrored: s.s' + |t.t'| (mirroring negates t). Matrix products in row blocks of about
    `block_bytes` scratch memory. Sorted by (i, j)."""
    n, c, _ = symmetric.shape
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    k = min(k, n - 1)
    rows = max(1, min(n, block_bytes // (12 * n)))
    found = []
    for i0 in range(0, n, rows):
        i1 = min(i0 + rows, n)
        sim = np.full((i1 - i0, n), -2.0, dtype=np.float32)
        for v in range(c):
            alike = symmetric[i0:i1, v] @ symmetric[:, v].T
            alike += np.abs(antisymmetric[i0:i1, v] @ antisymmetric[:, v].T)
            np.maximum(sim, alike, out=sim)
        sim[np.arange(i1 - i0), np.arange(i0, i1)] = -2.0  # not itself
        found.append(_top(sim, i0, floor, k))
    return np.unique(np.concatenate(found), axis=0)


def _top(sim: np.ndarray, i0: int, floor: float, k: int) -> np.ndarray:
    """(m, 2) pairs (min, max) of each row's at most `k` most similar columns at `floor` or above; rows of `sim` are
    images i0, i0 + 1, ..."""
    hit = sim >= floor
    many = np.flatnonzero(hit.sum(axis=1) > k)
    hit[many] = False  # rows with more than k hits: their k best below
    r, j = np.nonzero(hit)
    if len(many):
        best = np.argpartition(-sim[many], k - 1, axis=1)[:, :k]  # (len(many), k)
        r = np.concatenate([r, np.repeat(many, k)])
        j = np.concatenate([j, best.ravel()])
    r = r + i0
    return np.stack([np.minimum(r, j), np.maximum(r, j)], axis=1).astype(np.int64)


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
