"""Tests for curation.split: seeded, stable, history-respecting group splits."""

from __future__ import annotations

import pytest

from curation.split import group_split, split_for


def test_split_for_is_deterministic_and_seeded():
    keys = [f"{i:064x}" for i in range(2000)]
    a = [split_for(k, 0, 0.2) for k in keys]
    assert a == [split_for(k, 0, 0.2) for k in keys]
    assert a != [split_for(k, 1, 0.2) for k in keys]
    assert 0.17 < a.count("test") / len(a) < 0.23


@pytest.mark.parametrize("fraction, expected", [(0.0, {"train"}), (0.999999, {"test"})])
def test_split_fraction_bounds(fraction, expected):
    assert {split_for(f"k{i}", 0, fraction) for i in range(200)} == expected


def test_adding_keys_does_not_change_earlier_ones():
    before = {f"k{i}": split_for(f"k{i}", 5, 0.3) for i in range(100)}
    for i in range(100, 300):
        split_for(f"k{i}", 5, 0.3)
    assert before == {f"k{i}": split_for(f"k{i}", 5, 0.3) for i in range(100)}


def test_group_split_uses_history_of_best_member_first():
    ranked = [("A", "new"), ("A", "old_test"), ("A", "old_train")]
    history = {("A", "old_test"): "test", ("A", "old_train"): "train"}
    assert group_split(ranked, history, 0, 0.1) == "test"
    history[("A", "new")] = "train"
    assert group_split(ranked, history, 0, 0.1) == "train"


def test_group_split_without_history_hashes_best_member():
    ranked = [("B", "abc"), ("B", "def")]
    assert group_split(ranked, {}, 7, 0.5) == split_for("abc", 7, 0.5)
