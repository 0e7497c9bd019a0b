"""Tests for curation.dedup: chunked vectorised near-duplicate search, union-find grouping, exact pairs."""

from __future__ import annotations

import numpy as np
import pytest

from curation.dedup import UnionFind, exact_pairs, group_duplicates, hex_to_uint64, near_pairs


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
