"""Tests for curation.dedup: chunked vectorised hash search, the window distance and each image's nearest by it,
union-find grouping, exact pairs."""

from __future__ import annotations

import numpy as np
import pytest

from curation.dedup import UnionFind, group_duplicates, hex_to_uint64
from curation.search import nearest_window_pairs, window_distance
from tests.support.curation_search import exact_pairs, near_pairs


def _brute(h: np.ndarray, t: int) -> np.ndarray:
    d = np.bitwise_count(h[:, None] ^ h[None, :])
    i, j = np.nonzero(np.triu(d <= t, 1))
    return np.stack([i, j], axis=1)


def _planted(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n, dtype=np.uint64)
    for k in range(0, n - 1, 7):  # plant near twins at distances 0..12 (flip the low bits)
        h[k + 1] = h[k] ^ np.uint64((1 << (k % 13)) - 1)
    return h


@pytest.mark.parametrize("n", [0, 1, 2, 50, 301])
@pytest.mark.parametrize("chunk_bytes", [1, 4096, 1 << 24])
@pytest.mark.parametrize("threads", [1, 2])
def test_near_pairs_equals_brute_force(n, chunk_bytes, threads):
    h = _planted(n, seed=n)
    got = near_pairs(h, 8, threads=threads, chunk_bytes=chunk_bytes)
    want = _brute(h, 8) if n else np.empty((0, 2))
    assert got.shape[1] == 2 and got.dtype == np.int64
    assert np.array_equal(got, want)


@pytest.mark.parametrize("threshold", [0, 4, 10, 16])
def test_threshold_is_inclusive(threshold):
    h = _planted(200, seed=1)
    got = near_pairs(h, threshold)
    assert np.array_equal(got, _brute(h, threshold))
    for i, j in got:
        assert int(h[i] ^ h[j]).bit_count() <= threshold


def test_scratch_memory_is_bounded_by_chunk_bytes():
    import tracemalloc

    h = _planted(20_000, seed=2)
    tracemalloc.start()
    near_pairs(h, 8, threads=2, chunk_bytes=1 << 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 6 * (1 << 20)  # 2 threads x 1 MiB scratch + result arrays, not 20k x 20k


def test_progress_reaches_total():
    seen = []
    near_pairs(_planted(100, 3), 8, chunk_bytes=5000, progress=lambda d, t: seen.append((d, t)))
    assert max(seen) == (99, 99)


def test_union_find():
    uf = UnionFind(6)
    uf.union(0, 1)
    uf.union(2, 3)
    uf.union(1, 3)
    assert uf.find(0) == uf.find(2) and uf.find(4) != uf.find(0)


def test_group_duplicates_components_with_singletons():
    groups = group_duplicates(7, [(0, 3), (3, 5), (1, 2), (6, 6)])
    assert groups == [[0, 3, 5], [1, 2], [4], [6]]


def test_exact_pairs():
    assert exact_pairs(["a", "b", "a", "c", "a", "b"]) == [(0, 2), (0, 4), (1, 5)]


def test_hex_to_uint64():
    assert hex_to_uint64(["ffffffffffffffff", "0000000000000001"]).tolist() == [2**64 - 1, 1]


def _window_sets(n: int, seed: int) -> np.ndarray:
    """(n, 11) random window hashes, with planted relations: image 2i+1 is a mirror image of 2i, or a crop (its whole
    frame near one of 2i's windows), or a near copy; at 0-6 bits."""
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, (n, 11), dtype=np.uint64) * np.uint64(2)
    for i in range(0, n - 1, 2):
        noise = np.uint64((1 << int(rng.integers(0, 7))) - 1)
        kind = i % 3
        if kind == 0:  # mirrored: my whole frame is your mirror
            h[i + 1, 0] = h[i, 1] ^ noise
        elif kind == 1:  # a crop: my whole frame is one of your windows
            h[i + 1, 0] = h[i, 2 + int(rng.integers(0, 9))] ^ noise
        else:
            h[i + 1, 0] = h[i, 0] ^ noise
    return h


def _brute_window(h: np.ndarray) -> np.ndarray:
    n = len(h)
    d = np.full((n, n), 255)
    for p in (0, 1):
        for t in (0, *range(2, 11)):
            d = np.minimum(d, np.bitwise_count(h[:, None, p] ^ h[None, :, t]))
    return np.minimum(d, d.T)


def test_window_distance_sees_mirrors_crops_and_near_copies():
    h = _window_sets(60, seed=1)
    a, b = np.arange(0, 60, 2), np.arange(1, 60, 2)
    assert (window_distance(h[a], h[b]) <= 6).all() and np.array_equal(window_distance(h[a], h[b]),
                                                                        window_distance(h[b], h[a]))  # fmt: skip
    assert np.array_equal(window_distance(h[a], h[b]), _brute_window(h)[a, b])


@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("block", [7, 256])
def test_nearest_window_pairs_keeps_each_images_k_nearest_within_threshold(k, block):
    h = _window_sets(80, seed=k)
    h[70:] = h[70]  # ten identical images: each within 0 bits of nine others, so at most k of them each
    d = _brute_window(h)
    np.fill_diagonal(d, 255)
    want = set()
    for i in range(80):
        near = [j for j in np.argsort(d[i], kind="stable") if d[i, j] <= 10][:k]
        want |= {(min(i, int(j)), max(i, int(j))) for j in near}
    pairs, dist = nearest_window_pairs(h, 10, k, block=block)
    got = {tuple(p) for p in pairs.tolist()}
    assert got == want and {(2 * i, 2 * i + 1) for i in range(35)} <= got
    assert np.array_equal(dist, d[pairs[:, 0], pairs[:, 1]])
