"""The indexed search's inner loop compiled with numba: each probe's near buckets of one substring's targets."""

from __future__ import annotations

import numpy as np
from numba import njit

# numba caches the compiled kernel beside this file (__pycache__), or, where that is read-only (an installed
# site-packages), in ~/.cache/numba (its UserWideCacheLocator; NUMBA_CACHE_DIR overrides both): only the first
# call on a machine compiles (about 4 s; loading the cached kernel about 0.5 s, numba's import included).

_M1, _M2, _M4 = np.uint64(0x5555555555555555), np.uint64(0x3333333333333333), np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE, _TWO, _FOUR, _TOP = np.uint64(1), np.uint64(2), np.uint64(4), np.uint64(56)


@njit(cache=True, inline="always")
def popcount(x: np.uint64) -> np.uint64:
    """Set bits of a uint64 (SWAR: LLVM turns it into the CPU's popcnt where there is one)."""
    x = x - ((x >> _ONE) & _M1)
    x = (x & _M2) + ((x >> _TWO) & _M2)
    x = (x + (x >> _FOUR)) & _M4
    return (x * _H01) >> _TOP


@njit(cache=True)
def _grown(a: np.ndarray, size: int, room: int) -> np.ndarray:
    """`a`'s first `size` values in an array of `room`."""
    out = np.empty(room, dtype=a.dtype)
    out[:size] = a[:size]
    return out


@njit(cache=True, nogil=True)
def bucket_matches(
    p_key: np.ndarray,
    p_codes: np.ndarray,
    start: np.ndarray,
    t_codes: np.ndarray,
    flips: np.ndarray,
    threshold: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(probe, target) positions within `threshold` bits: probes `p_codes` (m,) uint64 sorted by their substring
    `p_key` (m,) int64, against targets `t_codes` sorted by substring (bucket b: t_codes[start[b]:start[b + 1]]) in
    the buckets p_key ^ flip for each of `flips`. Probes of one substring value are compared together with each
    bucket (the bucket is read once for all of them). Releases the GIL: one call per thread."""
    cap = max(1024, len(p_key))
    got_p, got_t = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
    found = 0
    limit = np.uint64(threshold)
    g0 = 0
    while g0 < len(p_key):
        g1 = g0 + 1
        while g1 < len(p_key) and p_key[g1] == p_key[g0]:
            g1 += 1
        for f in range(len(flips)):
            b = p_key[g0] ^ flips[f]
            lo, hi = start[b], start[b + 1]
            if found + (hi - lo) * (g1 - g0) > cap:  # room for every pair of this bucket: no check in the loop
                cap = 2 * (found + (hi - lo) * (g1 - g0))
                got_p, got_t = _grown(got_p, found, cap), _grown(got_t, found, cap)
            found = _compare(p_codes, g0, g1, t_codes, lo, hi, limit, got_p, got_t, found)
        g0 = g1
    return got_p[:found].copy(), got_t[:found].copy()


@njit(cache=True)
def _compare(
    p_codes: np.ndarray,
    g0: int,
    g1: int,
    t_codes: np.ndarray,
    lo: int,
    hi: int,
    limit: np.uint64,
    got_p: np.ndarray,
    got_t: np.ndarray,
    found: int,
) -> int:
    """Probes g0..g1 against targets lo..hi: the pairs within `limit` bits written from `found` on; the new count.
    Each probe is first counted against the whole bucket without a branch (the compiler vectorises it), and the
    bucket walked again only where that count is not 0 (rarely)."""
    for p in range(g0, g1):
        code = p_codes[p]
        near = 0
        for t in range(lo, hi):
            near += popcount(code ^ t_codes[t]) <= limit
        if near:
            for t in range(lo, hi):
                if popcount(code ^ t_codes[t]) <= limit:
                    got_p[found] = p
                    got_t[found] = t
                    found += 1
    return found
