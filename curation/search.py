"""Candidate search: each image's nearest within a distance by its whole-frame, mirrored and window hashes."""

from __future__ import annotations

from itertools import combinations
from math import comb

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


# Above this many images the search is indexed (multi-index hashing) rather than exhaustive: exhaustive costs n^2
# (about 15 s at 20k images on 2 cores), the index about linear.
EXACT_MAX = 20_000
CHUNKS = 3  # an indexed code is looked up by each of its 3 substrings of 21-22 bits (about five codes a bucket at 1M)
PAIR_BUDGET = 20_000_000  # pairs the index may propose (expected, of random codes)...
LOOKUP_BUDGET = 20_000_000  # ...and substring lookups it may make: the flip radius is the largest within both


def nearest_pairs(hashes: np.ndarray, threshold: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs (i, j), i < j, and their distances: `nearest_window_pairs` (exhaustive, exact) up to
    EXACT_MAX images; above, the same rule over the pairs multi-index hashing finds (`indexed_pairs`): every pair
    whose whole frame (as is or mirrored) is within 3 * (radius + 1) - 1 bits of the other's whole frame or one of its
    windows, and most pairs up to `threshold`."""
    if len(hashes) <= EXACT_MAX:
        return nearest_window_pairs(hashes, threshold, k)
    pairs = indexed_pairs(hashes, flip_radius(len(hashes), threshold))
    d = window_distance(hashes[pairs[:, 0]], hashes[pairs[:, 1]])
    near = d <= threshold
    return k_nearest(pairs[near], d[near].astype(np.int64), len(hashes), k)


def flip_radius(n: int, threshold: int) -> int:
    """Bits flipped in each substring of a query (0: exact substring match): as many as make the search exact for
    `threshold` (3 * (radius + 1) > threshold), fewer when n images would take more than LOOKUP_BUDGET lookups or be
    proposed more than PAIR_BUDGET pairs."""
    bits = 64 // CHUNKS
    radius = 0
    while CHUNKS * (radius + 1) <= threshold:
        variants = sum(comb(bits, r) for r in range(radius + 2))
        lookups = len(PROBES) * n * CHUNKS * variants
        if lookups > LOOKUP_BUDGET or lookups * 10 * n / 2**bits > PAIR_BUDGET:
            break
        radius += 1
    return radius


def _chunks() -> list[tuple[int, int]]:
    """(shift, width) of each substring of a 64-bit code."""
    widths = [64 // CHUNKS + (1 if c < 64 % CHUNKS else 0) for c in range(CHUNKS)]
    shifts = np.concatenate([[0], np.cumsum(widths)[:-1]]).tolist()
    return list(zip(shifts, widths, strict=True))


def _flips(width: int, radius: int) -> np.ndarray:
    """(v,) uint64 masks of every set of at most `radius` bits among `width`."""
    masks = [sum(1 << b for b in bits) for r in range(radius + 1) for bits in combinations(range(width), r)]
    return np.array(masks, dtype=np.uint64)


def indexed_pairs(hashes: np.ndarray, radius: int) -> np.ndarray:
    """(m, 2) pairs (i, j), i < j, of images one of whose whole-frame hashes (as is, mirrored: columns PROBES) shares
    a substring, up to `radius` bits flipped, with one of the other's whole-frame or window hashes: multi-index
    hashing (Norouzi, Punjani and Fleet, CVPR 2012). By the pigeonhole principle every pair within
    CHUNKS * (radius + 1) - 1 bits is among them. Each substring's index is a sorted array, looked up by searchsorted.
    """
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n, width = h.shape
    targets = h[:, _targets(width)].reshape(-1)  # (n * 10,)
    t_owner = np.repeat(np.arange(n), len(_targets(width)))
    probes = h[:, PROBES].reshape(-1)  # (n * 2,)
    p_owner = np.repeat(np.arange(n), len(PROBES))
    found = []
    for shift, bits in _chunks():
        mask = np.uint64((1 << bits) - 1)
        keys = ((targets >> np.uint64(shift)) & mask).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        owners = t_owner[order]
        start = np.zeros((1 << bits) + 1, dtype=np.int64)  # the index: bucket b holds owners[start[b]:start[b + 1]]
        np.cumsum(np.bincount(keys, minlength=1 << bits), out=start[1:])
        mine = ((probes >> np.uint64(shift)) & mask).astype(np.int64)
        for flip in _flips(bits, radius).astype(np.int64):
            q = mine ^ flip
            lo = start[q]
            count = start[q + 1] - lo
            if not count.any():
                continue
            at = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())
            a, b = np.repeat(p_owner, count), owners[at]
            other = a != b
            found.append(np.stack([np.minimum(a, b)[other], np.maximum(a, b)[other]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    both = np.concatenate(found)
    return _unique_pairs(both, n)


def _unique_pairs(pairs: np.ndarray, n: int) -> np.ndarray:
    """`pairs` (m, 2) of indices below n, each once, sorted."""
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1)


def k_nearest(pairs: np.ndarray, dist: np.ndarray, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Of `pairs` (m, 2) with distances (m,), those where one image is among the other's k nearest (ties by index),
    each once as (i, j), i < j, with its distance; sorted by (i, j)."""
    both = np.concatenate([pairs, pairs[:, ::-1]])
    d = np.concatenate([dist, dist])
    order = np.lexsort((both[:, 1], d, both[:, 0]))
    both, d = both[order], d[order]
    start = np.searchsorted(both[:, 0], np.arange(n))
    rank = np.arange(len(both)) - start[both[:, 0]]
    keep = rank < k
    return best_ranked(both[keep], d[keep])
