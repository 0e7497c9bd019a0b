"""Tests for curation.search: the indexed search finds every pair the pigeonhole principle promises, the k nearest of
each image are kept, and below EXACT_MAX the search is the exhaustive one."""

from __future__ import annotations

import numpy as np
import pytest

from curation import search


def _sets(n: int, seed: int) -> np.ndarray:
    """(n, 11) random window hashes, image 2i + 1 image 2i with i mod 13 bits flipped in every hash."""
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, (n, 11), dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, (n, 11), dtype=np.uint64)
    for i in range(0, n - 1, 2):
        h[i + 1] = h[i] ^ np.uint64(sum(1 << int(b) for b in rng.choice(64, (i // 2) % 13, replace=False)))
    return h


@pytest.mark.parametrize("radius", [0, 1])
def test_indexed_pairs_hold_every_pair_within_the_guaranteed_distance(radius):
    h = _sets(300, seed=radius)
    i, j = np.triu_indices(300, 1)
    near = search.window_distance(h[i], h[j]) <= search.CHUNKS * (radius + 1) - 1
    i, j = i[near], j[near]
    got = {tuple(p) for p in search.indexed_pairs(h, radius).tolist()}
    assert {(int(a), int(b)) for a, b in zip(i, j, strict=True)} <= got and all(a < b for a, b in got)


def test_k_nearest_keeps_each_images_nearest_by_distance_then_index():
    pairs = np.array([[0, 1], [0, 2], [0, 3], [2, 3]])
    got, d = search.k_nearest(pairs, np.array([5, 1, 1, 9]), 4, k=1)
    assert got.tolist() == [[0, 1], [0, 2], [0, 3]] and d.tolist() == [5, 1, 1]  # 0's is 2 (a tie, by index)


def test_below_exact_max_the_search_is_the_exhaustive_one():
    h = _sets(200, seed=7)
    a, b = search.nearest_pairs(h, 12, 4), search.nearest_window_pairs(h, 12, 4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_the_flip_radius_falls_with_size_to_stay_within_budget():
    radii = [search.flip_radius(n, 12) for n in (25_000, 100_000, 1_000_000)]
    assert radii == sorted(radii, reverse=True) and radii[-1] == 0
