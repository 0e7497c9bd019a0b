"""Tests for curation.policy's grouping (`connect`): the components are those of every candidate pair that is the same
picture, whichever pairs were verified, and no pair is verified that could not change them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.dedup import UnionFind, group_duplicates
from curation.policy import UNKNOWN, Match, connect


class _Truth:
    """Verdicts from a fixed relation; every pair verified is recorded, and must join two components of the verdicts
    before its batch."""

    def __init__(self, same: set[tuple[int, int]], n: int) -> None:
        self.same, self.decided, self.verified = same, {}, []
        self.uf = UnionFind(n)

    def known(self, a: int, b: int) -> object:
        return self.decided.get((min(a, b), max(a, b)), UNKNOWN)

    def verify(self, pairs: np.ndarray) -> None:
        for a, b in pairs.tolist():
            key = (min(a, b), max(a, b))
            assert key not in self.decided, "a pair verified twice"
            assert self.uf.find(a) != self.uf.find(b), "a pair verified inside one component"
            self.verified.append(key)
            self.decided[key] = Match(1, 1.0, False) if key in self.same else None
        for a, b in pairs.tolist():
            if (min(a, b), max(a, b)) in self.same:
                self.uf.union(a, b)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_connect_gives_the_components_of_every_same_picture_candidate(data):
    n = data.draw(st.integers(2, 40))
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    candidates = data.draw(st.lists(pair, max_size=120, unique_by=lambda p: (min(p), max(p))))
    same = {(min(p), max(p)) for p in candidates if data.draw(st.booleans())}
    truth = _Truth(same, n)
    groups = connect(n, np.empty((0, 2), dtype=np.int64), np.array(candidates, dtype=np.int64).reshape(-1, 2), truth)
    uf = UnionFind(n)
    for a, b in same:
        uf.union(a, b)
    expected = group_duplicates(n, ((i, uf.find(i)) for i in range(n)))
    assert sorted(map(sorted, groups)) == sorted(map(sorted, expected))
