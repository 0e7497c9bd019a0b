"""Candidate search: each image's nearest within a distance by its whole-frame, mirrored and window hashes."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
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
# (about 15 s at 20k images on 2 cores), the index far less.
EXACT_MAX = 20_000
SUBSTRINGS = 4  # an indexed code is looked up by each of its 4 substrings of 16 bits...
FLIPS = 2  # ...with up to 2 of their bits flipped: every pair within 4 * (2 + 1) - 1 = 11 bits is found
MAX_MISS = 0.001  # the share of pairs at `threshold` bits the index may miss: bit orders are added until below
_WIDTH = 64 // SUBSTRINGS
_THREADS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def nearest_pairs(hashes: np.ndarray, threshold: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs (i, j), i < j, and their distances: `nearest_window_pairs` (exhaustive, exact) up to
    EXACT_MAX images; above, the same rule over the pairs within `threshold` that multi-index hashing finds
    (`indexed_pairs`: every pair up to 11 bits, all but a share under MAX_MISS of those further)."""
    if len(hashes) <= EXACT_MAX:
        return nearest_window_pairs(hashes, threshold, k)
    pairs = indexed_pairs(hashes, threshold)
    d = window_distance(hashes[pairs[:, 0]], hashes[pairs[:, 1]])
    return k_nearest(pairs, d.astype(np.int64), len(hashes), k)


def miss_rate(bits: int) -> float:
    """The share of code pairs `bits` apart that one bit order of the index misses: those whose differing bits fall
    more than FLIPS into every substring (over every way `bits` positions spread among 64 equally likely)."""
    ways = [1]  # ways[d]: ways to place d differing bits in the substrings so far, more than FLIPS in each
    for _ in range(SUBSTRINGS):
        ways = [sum(ways[d - e] * comb(_WIDTH, e) for e in range(FLIPS + 1, min(d, _WIDTH) + 1) if d - e < len(ways))
                for d in range(bits + 1)]  # fmt: skip
    return ways[bits] / comb(64, bits)


def bit_orders(threshold: int) -> int:
    """How many bit orders the index is built on (the first the codes' own, the others seeded random permutations):
    the fewest that miss under MAX_MISS of the pairs `threshold` apart, each order missing independently."""
    miss, orders = miss_rate(threshold), 1
    while miss**orders > MAX_MISS:
        orders += 1
    return orders


def indexed_pairs(hashes: np.ndarray, threshold: int) -> np.ndarray:
    """(m, 2) pairs (i, j), i < j, of images one of whose whole-frame hashes (as is, mirrored: columns PROBES) is within
    `threshold` bits of one of the other's whole-frame or window hashes, found by multi-index hashing (Norouzi,
    Punjani and Fleet, CVPR 2012): a pair that close shares, in some substring of 16 bits, all but FLIPS bits (by the
    pigeonhole principle certainly up to 11 bits; further on, `bit_orders` permutations of the bits make a miss
    rarer than MAX_MISS). Each substring's index is the codes sorted by it, looked up by bucket; each probe's
    candidates are compared whole by a compiled kernel (`_substring_matches`)."""
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n, width = h.shape
    t_cols = _targets(width)
    targets, probes = h[:, t_cols].reshape(-1), h[:, PROBES].reshape(-1)  # (n * 10,), (n * 2,)
    t_owner, p_owner = np.repeat(np.arange(n), len(t_cols)), np.repeat(np.arange(n), len(PROBES))
    rng = np.random.default_rng(0)
    orders = [np.arange(64), *(rng.permutation(64) for _ in range(bit_orders(threshold) - 1))]
    keys = [(_permuted(probes, order), _permuted(targets, order)) for order in orders]  # each order's codes

    def one(job: tuple[int, int]) -> np.ndarray:
        o, s = job
        p, t = _substring_matches(*keys[o], s * _WIDTH, probes, targets, threshold)
        return np.stack([p_owner[p], t_owner[t]], axis=1)

    with ThreadPoolExecutor(_THREADS) as pool:  # numpy and the kernel let go of the GIL: both cores where free
        found = list(pool.map(one, [(o, s) for o in range(len(orders)) for s in range(SUBSTRINGS)]))
    both = np.concatenate(found)
    both = np.sort(both[both[:, 0] != both[:, 1]], axis=1)
    return np.unique(both, axis=0) if len(both) else np.empty((0, 2), dtype=np.int64)


def _permuted(codes: np.ndarray, order: np.ndarray) -> np.ndarray:
    """`codes` (m,) uint64 with bit order[b] moved to bit b (the identity order: the codes themselves)."""
    if np.array_equal(order, np.arange(64)):
        return codes
    out = np.zeros_like(codes)
    for b, src in enumerate(order.tolist()):
        out |= ((codes >> np.uint64(src)) & np.uint64(1)) << np.uint64(b)
    return out


def _substring_matches(
    p_keys: np.ndarray, t_keys: np.ndarray, shift: int, probes: np.ndarray, targets: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray]:
    """(probe, target) index pairs within `threshold` bits (whole codes `probes`, `targets`) whose 16-bit substrings at
    `shift` (of the permuted codes `p_keys`, `t_keys`) differ in at most FLIPS bits. The targets sorted by substring
    (a bucket per value, found by its start offset), the probes too; the compiled kernel
    (`curation.search_kernel.bucket_matches`, numba: imported here, so only an indexed search pays for it) walks each
    probe's flipped buckets."""
    from curation.search_kernel import bucket_matches

    mask = np.uint64((1 << _WIDTH) - 1)
    tk = ((t_keys >> np.uint64(shift)) & mask).astype(np.uint16)
    t_order = np.argsort(tk, kind="stable")  # 16-bit keys: numpy's radix sort
    start = np.zeros((1 << _WIDTH) + 1, dtype=np.int64)  # bucket b holds targets[t_order[start[b]:start[b + 1]]]
    np.cumsum(np.bincount(tk, minlength=1 << _WIDTH), out=start[1:])
    pk = ((p_keys >> np.uint64(shift)) & mask).astype(np.uint16)
    p_order = np.argsort(pk, kind="stable")
    p, t = bucket_matches(pk[p_order].astype(np.int64), probes[p_order], start, targets[t_order],
                          _flips(_WIDTH, FLIPS).astype(np.int64), threshold)  # fmt: skip
    return p_order[p], t_order[t]


def _flips(width: int, radius: int) -> np.ndarray:
    """(v,) uint64 masks of every set of at most `radius` bits among `width`."""
    masks = [sum(1 << b for b in bits) for r in range(radius + 1) for bits in combinations(range(width), r)]
    return np.array(masks, dtype=np.uint64)


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
