"""Tests for curation.search: the indexed search finds every pair the pigeonhole principle promises and misses no more
further ones than its miss rate says, the k nearest of each image are kept, below EXACT_MAX the search is the
exhaustive one, and the compiled kernel finds exactly the pairs the numpy search it replaced finds."""

from __future__ import annotations

import numpy as np
import pytest

from curation import search
from tests.support import curation_search as reference


def _sets(n: int, seed: int) -> np.ndarray:
    """(n, 11) random window hashes, image 2i + 1 image 2i with i mod 13 bits flipped in every hash."""
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, (n, 11), dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, (n, 11), dtype=np.uint64)
    for i in range(0, n - 1, 2):
        h[i + 1] = h[i] ^ np.uint64(sum(1 << int(b) for b in rng.choice(64, (i // 2) % 13, replace=False)))
    return h


@pytest.mark.parametrize("seed", [0, 1])
def test_indexed_pairs_hold_every_pair_within_the_guaranteed_distance_and_none_beyond_the_threshold(seed):
    h = _sets(400, seed=seed)
    i, j = np.triu_indices(400, 1)
    d = search.window_distance(h[i], h[j])
    guaranteed = search.SUBSTRINGS * (search.FLIPS + 1) - 1
    got = {tuple(p) for p in search.indexed_pairs(h, 12).tolist()}
    sure = {(int(a), int(b)) for a, b in zip(i[d <= guaranteed], j[d <= guaranteed], strict=True)}
    within = {(int(a), int(b)) for a, b in zip(i[d <= 12], j[d <= 12], strict=True)}
    assert sure <= got <= within and all(a < b for a, b in got)


def test_the_miss_rate_is_the_share_of_random_codes_the_index_misses():
    rng = np.random.default_rng(3)
    n = 4000  # codes 12 bits from their partner: the index (one bit order) misses those spread 3, 3, 3, 3
    a = rng.integers(0, 2**63, n, dtype=np.uint64)
    b = a ^ np.array([sum(1 << int(x) for x in rng.choice(64, 12, replace=False)) for _ in range(n)], dtype=np.uint64)
    parts = [np.bitwise_count((a ^ b) >> np.uint64(s * search._WIDTH) & np.uint64(2**search._WIDTH - 1))
             for s in range(search.SUBSTRINGS)]  # fmt: skip
    missed = (np.min(parts, axis=0) > search.FLIPS).mean()
    assert search.miss_rate(11) == 0 and abs(missed - search.miss_rate(12)) < 0.01
    assert search.miss_rate(12) ** search.bit_orders(12) <= search.MAX_MISS < search.miss_rate(12)


def test_k_nearest_keeps_each_images_nearest_by_distance_then_index():
    pairs = np.array([[0, 1], [0, 2], [0, 3], [2, 3]])
    got, d = search.k_nearest(pairs, np.array([5, 1, 1, 9]), 4, k=1)
    assert got.tolist() == [[0, 1], [0, 2], [0, 3]] and d.tolist() == [5, 1, 1]  # 0's is 2 (a tie, by index)


def test_below_exact_max_the_search_is_the_exhaustive_one():
    h = _sets(200, seed=7)
    a, b = search.nearest_pairs(h, 12, 4), search.nearest_window_pairs(h, 12, 4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("kind", ["random", "clustered", "copies"])
def test_the_compiled_kernel_finds_exactly_what_the_numpy_table_and_bucket_searches_find(kind):
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 2**63, 6000, dtype=np.uint64) * np.uint64(2)
    codes[1::2] = codes[::2] ^ np.uint64(0b1011 << 20)  # pairs 3 bits apart, outside the first substring
    if kind == "clustered":  # a third share their first substring: its bucket overflows the table's row
        codes[:2000] &= ~np.uint64(0xFFFF)
    if kind == "copies":  # 1,500 copies of one code: 750,000 pairs, the kernel's output grows many times
        codes[:1500] = codes[0]
    probes = codes[::3]
    for shift in (0, 16):
        p, t = search._substring_matches(probes, codes, shift, probes, codes, 12)
        q, u = reference.table_matches(probes, codes, shift, probes, codes, 12)
        r, v = reference.bucket_matches(probes, codes, shift, probes, codes, 12)
        kernel, table, buckets = (sorted(zip(a.tolist(), b.tolist(), strict=True)) for a, b in ((p, t), (q, u), (r, v)))
        assert kernel == table == buckets and len(kernel) >= len(probes)
