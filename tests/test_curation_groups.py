"""Tests for curation.groups: grouping, who is kept in a group, cross-domain and excluded rules, group splits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from curation.config import CurationConfig
from curation.groups import closest_duplicate, decide, rank_key
from curation.records import Analysis, Decision, Reason, Status

BASE = 0x0123_4567_89AB_CDEF


def _rec(n: int, phash: int, domain: str = "A", size: tuple[int, int] = (400, 300), nbytes: int = 1000, px=None):
    return Analysis(ok=True, domain=domain, relpath=f"{domain}/{n}.jpg", sha256=_sha(n), bytes=nbytes,
                    width=size[0], height=size[1], frames=1, grey_std=50.0, chroma=80.0, phash=f"{phash:016x}",
                    pixel_hash=px or f"px{n}")  # fmt: skip


def _row(n: int, phash: int, **kw) -> Decision:
    return Decision.judged(_rec(n, phash, **kw), None, None)


def _sha(n: int) -> str:
    return f"{n:02x}" + "ab" * 31


def _flip(h: int, bits: int, offset: int = 0) -> int:
    return h ^ (((1 << bits) - 1) << offset)


def _by_id(rows):
    return {int(r.relpath.split("/")[1].split(".")[0]): r for r in rows}


def test_rank_prefers_resolution_then_file_size():
    small_big_file = _row(1, BASE, size=(400, 300), nbytes=9000)
    big = _row(2, BASE, size=(800, 600), nbytes=10)
    same_size_bigger_file = _row(3, BASE, size=(800, 600), nbytes=20)
    assert sorted([small_big_file, big, same_size_bigger_file], key=rank_key)[0].bytes == 20


def test_group_keeps_best_and_labels_exact_and_near():
    recs = [_rec(1, BASE, nbytes=10), _rec(2, BASE, size=(800, 600), px="same"), _rec(3, BASE, px="same"),
            _rec(4, _flip(BASE, 6)), _rec(5, ~BASE & (2**64 - 1))]  # fmt: skip
    rows = _by_id(decide(recs, CurationConfig(), set(), {}))
    assert rows[2].status == Status.KEPT and rows[5].status == Status.KEPT
    assert rows[3].reason == Reason.EXACT_DUPLICATE
    assert rows[1].reason == rows[4].reason == Reason.NEAR_DUPLICATE and rows[4].distance == 6
    assert len({rows[i].group for i in (1, 2, 3, 4)}) == 1 and rows[5].group != rows[1].group
    assert len({rows[i].split for i in (1, 2, 3, 4)}) == 1


def test_chain_of_distinct_images_is_not_collapsed():
    """a ~ b ~ c with a and c 12 bits apart: one group, one split, but a and c are both kept."""
    a, b, c = BASE, _flip(BASE, 6), _flip(BASE, 12)
    recs = [_rec(1, b, size=(800, 600)), _rec(2, a), _rec(3, c)]
    rows = _by_id(decide(recs, CurationConfig(threshold=8), set(), {}))
    assert [rows[i].status for i in (1, 2, 3)] == [Status.KEPT, Status.DUPLICATE, Status.DUPLICATE]
    recs = [_rec(1, b), _rec(2, a, size=(800, 600)), _rec(3, c, size=(700, 600))]
    rows = _by_id(decide(recs, CurationConfig(threshold=8), set(), {}))
    assert [rows[i].status for i in (1, 2, 3)] == [Status.DUPLICATE, Status.KEPT, Status.KEPT]
    assert len({r.group for r in rows.values()}) == 1 and len({r.split for r in rows.values()}) == 1


@pytest.mark.parametrize("policy, kept", [("drop", set()), ("A", {"A"}), ("B", {"B"})])
def test_cross_domain_direct_duplicates(policy, kept):
    recs = [_rec(1, BASE, "A"), _rec(2, _flip(BASE, 2), "B"), _rec(3, _flip(BASE, 20), "B")]
    rows = _by_id(decide(recs, CurationConfig(threshold=8, cross_domain=policy), set(), {}))
    assert {rows[i].domain for i in (1, 2) if rows[i].status == Status.KEPT} == kept
    assert rows[3].status == Status.KEPT  # not a direct duplicate of anything in A
    assert all(rows[i].reason == Reason.CROSS_DOMAIN for i in (1, 2) if rows[i].status != Status.KEPT)


def test_excluded_and_its_direct_duplicates_rejected():
    recs = [_rec(1, BASE, size=(800, 600)), _rec(2, _flip(BASE, 4)), _rec(3, _flip(BASE, 12), size=(500, 400))]
    rows = _by_id(decide(recs, CurationConfig(threshold=8), {_sha(1)[:12]}, {}))
    assert rows[1].reason == Reason.EXCLUDED and rows[1].detail == "listed in excluded.txt"
    assert rows[2].reason == Reason.EXCLUDED and "duplicate of excluded" in rows[2].detail
    assert rows[3].status == Status.KEPT


def test_split_history_wins_and_conflicts_are_dropped_not_moved():
    a, b, c = BASE, _flip(BASE, 6), _flip(BASE, 12)
    recs = [_rec(1, a, size=(800, 600)), _rec(2, c, size=(700, 600)), _rec(3, b)]
    history = {("A", _sha(1)): "test", ("A", _sha(2)): "train"}
    rows = _by_id(decide(recs, CurationConfig(threshold=8), set(), history))
    assert rows[1].status == Status.KEPT and rows[1].split == "test"
    assert rows[2].reason == Reason.SPLIT_CONFLICT and rows[2].split == ""
    assert rows[3].split == "test"


def test_rejected_by_rules_are_not_grouped():
    recs = [_rec(1, BASE), replace(_rec(2, BASE), width=100, height=80)]
    rows = _by_id(decide(recs, CurationConfig(), set(), {}))
    assert rows[1].status == Status.KEPT and rows[2].reason == Reason.TOO_SMALL and rows[2].group == ""


def test_closest_duplicate():
    me = _row(1, BASE)
    others = [_row(2, _flip(BASE, 8)), _row(3, _flip(BASE, 2)), _row(4, _flip(BASE, 30))]
    other, d, same = closest_duplicate(me, others, 8)
    assert (other.sha256, d, same) == (_sha(3), 2, False)
    assert closest_duplicate(me, [others[2]], 8) is None and closest_duplicate(me, [], 8) is None
