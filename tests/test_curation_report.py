"""Tests for curation.report: counts, review summary and the excluded list review writes."""

from __future__ import annotations

import pytest

from core.config import ConfigError
from curation.records import Decision, Reason, Status
from curation.report import add_excluded, count_rows, review_summary
from curation.sources import read_excluded

KEPT, DUPLICATE, REJECTED = Status.KEPT, Status.DUPLICATE, Status.REJECTED


def _r(n, domain, status, reason=None, split="", group=""):
    return Decision(domain, f"{n:064x}", f"{domain}/{n}.jpg", status, reason, split=split, group=group)


def test_count_rows():
    rows = [
        _r(1, "A", KEPT, split="train", group="g1"), _r(2, "A", DUPLICATE, Reason.NEAR_DUPLICATE, "train", "g1"),
        _r(3, "A", KEPT, split="test", group="g2"), _r(4, "A", REJECTED, Reason.TOO_SMALL),
        _r(5, "B", REJECTED, Reason.EXCLUDED, group="g3"), _r(6, "B", DUPLICATE, Reason.CROSS_DOMAIN, group="g4"),
    ]  # fmt: skip
    c = count_rows(rows)
    assert (c["A"]["raw"], c["A"]["kept"], c["A"]["train"], c["A"]["test"]) == (4, 2, 1, 1)
    assert c["A"]["rejected"]["too_small"] == 1 and c["A"]["duplicates"]["near_duplicate"] == 1
    assert c["A"]["duplicate_groups"] == 1
    assert c["B"]["rejected"]["excluded"] == 1 and c["B"]["duplicates"]["cross_domain"] == 1 and c["B"]["kept"] == 0


def test_review_summary_needs_a_run(tmp_path):
    with pytest.raises(ConfigError, match="run `sakura curate` first"):
        review_summary(tmp_path)


def test_add_excluded_appends_and_validates(tmp_path):
    add_excluded(tmp_path, ["0123456789abcdef"], note="blurry")
    add_excluded(tmp_path, ["fedcba9876543210"])
    assert read_excluded(tmp_path / "curation" / "excluded.txt") == {"0123456789abcdef", "fedcba9876543210"}
    with pytest.raises(ConfigError, match="excluded id"):
        add_excluded(tmp_path, ["abc"])
