"""Tests for curation.report: counts, review summary and the excluded list review writes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.config import ConfigError
from curation.records import Decision, Reason, Status
from curation.report import FEW_IMAGES, add_excluded, count_rows, problems, review_summary, shortfall_warnings
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


def test_problems_group_decode_failures_by_reason_and_kind():
    rows = [
        _r(1, "A", REJECTED, Reason.TRUNCATED), _r(2, "B", REJECTED, Reason.TRUNCATED),
        _r(3, "A", REJECTED, Reason.DECODER_UNAVAILABLE), _r(4, "A", REJECTED, Reason.DECODE_ERROR),
        _r(5, "A", REJECTED, Reason.TOO_SMALL), _r(6, "A", KEPT, split="train"),
    ]  # fmt: skip
    rows = [replace(r, detail=d) for r, d in zip(rows, [
        "JPEG file: OSError: image file is truncated (17 bytes not processed)",
        "JPEG file: OSError: image file is truncated (3 bytes not processed)",
        "EPS needs Ghostscript (gs), which is not installed here; OSError: Unable to locate Ghostscript on paths",
        "unexpected AttributeError: x while decoding", "200x150: shorter side 150 < min_side 256", None,
    ], strict=True)]  # fmt: skip
    found = problems(rows)
    assert list(found) == ["decoder_unavailable", "truncated", "decode_error"]  # the order of DECODE_REASONS
    assert found["truncated"]["count"] == 2 and found["truncated"]["domains"] == {"A": 1, "B": 1}
    assert [k["count"] for k in found["truncated"]["kinds"]] == [2]  # the same kind: only the numbers differ
    assert found["truncated"]["kinds"][0]["raw_path"] == "raw/A/1.jpg"
    assert found["decode_error"]["files"] == [{"raw_path": "raw/A/4.jpg", "detail": rows[3].detail}]
    assert "Ghostscript" in found["decoder_unavailable"]["help"] and "too_small" not in found


def test_shortfall_warnings():
    rows = [_r(i, "A", KEPT, split="train") for i in range(FEW_IMAGES)] + [_r(99, "B", REJECTED, Reason.EMPTY)]
    assert shortfall_warnings(rows, problems(rows)) == [
        "B: no images kept (of 1 raw files): nothing to train on; see the counts by reason, the rejected contact "
        "sheet and the manifest"
    ]
    few = shortfall_warnings(rows[1:], {})
    assert few[0].startswith(f"A: only {FEW_IMAGES - 1} images kept (of {FEW_IMAGES - 1} raw files), fewer than 20")
