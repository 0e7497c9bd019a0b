"""Candidate search: each image's nearest within a distance by its whole-frame, mirrored and window hashes."""

from __future__ import annotations

import numpy as np

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
    included, at most k per image however alike a set is; and each pair's distance.
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
    j, d = best[i, slot] % n, best[i, slot] // n
    return best_ranked(np.stack([i, j], axis=1), d)


def best_ranked(pairs: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each unordered pair of `pairs` (m, 2) once, as (i, j) with i < j, with its lowest `rank` (m,) (a distance);
    sorted by (i, j)."""
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
