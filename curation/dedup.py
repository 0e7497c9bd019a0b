"""Grouping of same-picture pairs by union-find, and packed 64-bit hashes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


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


def hex_to_uint64(values: Iterable[str]) -> np.ndarray:
    """16-digit hex hashes as a uint64 array."""
    return np.fromiter((int(v, 16) for v in values), dtype=np.uint64)
