"""Tests for curation.state: the analysis cache and the split history."""

from __future__ import annotations

from curation.state import CurationState


def _rec(rel: str, size: int = 10, mtime: int = 5) -> dict:
    return {"domain": "A", "relpath": rel, "bytes": size, "mtime_ns": mtime, "status": "ok", "sha256": rel}


def test_store_and_read_back_by_decode_key(tmp_path):
    with CurationState(tmp_path / "s.sqlite") as st:
        st.store([_rec("A/1.jpg"), _rec("A/2.jpg", 20)], "k1")
    with CurationState(tmp_path / "s.sqlite") as st:
        got = st.all_cached("k1")
        assert got[("A", "A/2.jpg")][:2] == (20, 5) and got[("A", "A/2.jpg")][2]["sha256"] == "A/2.jpg"
        assert st.all_cached("k2") == {}


def test_prune_forgets_missing_files(tmp_path):
    with CurationState(tmp_path / "s.sqlite") as st:
        st.store([_rec("A/1.jpg"), _rec("A/2.jpg")], "k")
        assert [r["relpath"] for r in st.prune({("A", "A/1.jpg")})] == ["A/2.jpg"]
        assert set(st.all_cached("k")) == {("A", "A/1.jpg")}


def test_split_history_is_never_overwritten(tmp_path):
    with CurationState(tmp_path / "s.sqlite") as st:
        st.record_splits({("A", "x"): "test", ("B", "y"): "train"})
        st.record_splits({("A", "x"): "train", ("A", "z"): "train"})
        assert st.split_history() == {("A", "x"): "test", ("B", "y"): "train", ("A", "z"): "train"}
