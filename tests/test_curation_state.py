"""Tests for curation.state: the analysis cache and the split history."""

from __future__ import annotations

from curation.records import Analysis, Decision, Reason, Status
from curation.state import CurationState


def _rec(rel: str, size: int = 10, mtime: int = 5) -> Analysis:
    return Analysis(domain="A", relpath=rel, bytes=size, mtime_ns=mtime, ok=True, sha256=rel)


def test_store_and_read_back_by_decode_key(tmp_path):
    with CurationState(tmp_path / "s.sqlite") as st:
        st.store([_rec("A/1.jpg"), _rec("A/2.jpg", 20)], "k1")
    with CurationState(tmp_path / "s.sqlite") as st:
        got = st.all_cached("k1")
        assert got[("A", "A/2.jpg")] == (20, 5, _rec("A/2.jpg", 20))
        assert st.all_cached("k2") == {}


def test_prune_forgets_missing_files(tmp_path):
    with CurationState(tmp_path / "s.sqlite") as st:
        st.store([_rec("A/1.jpg"), _rec("A/2.jpg")], "k")
        assert st.prune({("A", "A/1.jpg")}) == [_rec("A/2.jpg")]
        assert set(st.all_cached("k")) == {("A", "A/1.jpg")}


def test_split_history_is_never_overwritten(tmp_path):
    with CurationState(tmp_path / "s.sqlite") as st:
        st.record_splits({("A", "x"): "test", ("B", "y"): "train"})
        st.record_splits({("A", "x"): "train", ("A", "z"): "train"})
        assert st.split_history() == {("A", "x"): "test", ("B", "y"): "train", ("A", "z"): "train"}


def test_decisions_are_read_back_only_for_their_inputs_and_history(tmp_path):
    rows = [
        Decision("A", "x", "x.jpg", Status.KEPT, group="gx", split="train", score=0.5),
        Decision("A", "y", "y.jpg", Status.DUPLICATE, Reason.NEAR_DUPLICATE, "of x", "gx", "train", distance=4),
    ]
    with CurationState(tmp_path / "s.sqlite") as st:
        st.store_decisions("in1", "h1", rows)
    with CurationState(tmp_path / "s.sqlite") as st:
        assert st.decisions("in1", "h1") == rows
        assert st.decisions("in1", "h2") is None and st.decisions("in2", "h1") is None
        st.store_decisions("in2", "h1", rows[:1])
        assert st.decisions("in1", "h1") is None and st.decisions("in2", "h1") == rows[:1]  # only the last run's
