"""Tests for curation.dedup: chunked vectorised hash search, each image's nearest by hash and by vector, the cap per
image, union-find grouping, exact pairs."""

from __future__ import annotations

import numpy as np
import pytest

from curation.dedup import (
    UnionFind,
    cap_nearest,
    exact_pairs,
    group_duplicates,
    hex_to_uint64,
    near_pairs,
    nearest_hash_pairs,
    nearest_vector_pairs,
)


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


def test_near_pairs_against_other_hashes_equals_brute_force():
    h, g = _planted(300, seed=5), _planted(300, seed=6)
    g[::5] = h[::5] ^ np.uint64(0b111)  # every fifth one 3 bits from its partner in h
    d = np.bitwise_count(h[:, None] ^ g[None, :])
    i, j = np.nonzero(np.triu(d <= 6, 1))
    assert np.array_equal(near_pairs(h, 6, against=g, chunk_bytes=4096), np.stack([i, j], axis=1))


def test_nearest_hash_pairs_finds_mirrors_and_caps():
    h = _planted(200, seed=7)
    m = h[::-1].copy()  # image i's mirror hash is image (199 - i)'s hash
    pairs = nearest_hash_pairs(h, m, 0, k=8)
    assert {(i, 199 - i) for i in range(100)} <= {tuple(p) for p in pairs.tolist()}
    same = np.zeros(50, dtype=np.uint64)  # 50 identical hashes: every pair within 0 bits
    capped = nearest_hash_pairs(same, same, 0, k=3)
    assert 0 < len(capped) <= 3 * 50


@pytest.mark.parametrize("k", [1, 3])
def test_cap_nearest_keeps_each_images_k_nearest(k):
    rng = np.random.default_rng(k)
    n = 40
    i, j = np.triu_indices(n, 1)
    pairs, dist = np.stack([i, j], axis=1), rng.random(len(i))
    kept = {tuple(p) for p in cap_nearest(pairs, dist, n, k).tolist()}
    want = set()
    for a in range(n):
        mine = [(dist[x], tuple(pairs[x])) for x in range(len(pairs)) if a in pairs[x]]
        want |= {p for _, p in sorted(mine)[:k]}
    assert kept == want


def test_nearest_vector_pairs_equals_brute_force():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(120, 2, 4, 4)).astype(np.float32)
    v -= v.mean(axis=(2, 3), keepdims=True)
    v /= np.linalg.norm(v, axis=(2, 3), keepdims=True)
    m = v[..., ::-1]
    sym, anti = ((v + m) / 2)[..., :2] * np.sqrt(2), ((v - m) / 2)[..., :2] * np.sqrt(2)
    flat = lambda x: x.reshape(120, 2, -1).astype(np.float32)  # noqa: E731
    got = {tuple(p) for p in nearest_vector_pairs(flat(sym), flat(anti), 0.1, 5, block_bytes=4096).tolist()}
    vf, mf = v.reshape(120, 2, -1), m.reshape(120, 2, -1)
    sim = np.max([vf[:, c] @ vf[:, c].T for c in range(2)] + [vf[:, c] @ mf[:, c].T for c in range(2)], axis=0)
    np.fill_diagonal(sim, -2)
    want = {tuple(sorted((a, int(b)))) for a in range(120) for b in np.argsort(-sim[a])[:5] if sim[a, b] >= 0.1}
    assert got == want
