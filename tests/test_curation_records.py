"""Tests for curation.records: Analysis to and from JSON, Decision through the manifest, duplicate_groups order."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from curation.outputs import read_manifest, write_manifest
from curation.records import REASON_HELP, Analysis, Decision, Reason, Status, duplicate_groups

DECODED = Analysis(
    domain="A", relpath="A/sub/x.jpg", sha256="ab" * 32, bytes=1234, mtime_ns=1_700_000_000_123_456_789, ok=True,
    format="JPEG", mode="CMYK", frames=1, width=640, height=480, icc="converted", pixel_hash="0f" * 16,
    grey_std=41.25, chroma=88.0, phash="0123456789abcdef", staged="ab/" + "ab" * 32 + ".jpg",
)  # fmt: skip
FAILED = Analysis(domain="B", relpath="B/y.png", sha256="cd" * 32, bytes=10, mtime_ns=5, reason=Reason.TRUNCATED,
                  detail="OSError: image file is truncated", format="PNG", mode="RGB")  # fmt: skip


@pytest.mark.parametrize("analysis", [DECODED, FAILED, Analysis(domain="A", relpath="A/gone.jpg")])
def test_analysis_round_trip_through_json(analysis):
    stored = json.loads(json.dumps(analysis.to_dict()))
    back = Analysis.from_dict(stored)
    assert back == analysis and type(back.reason) is type(analysis.reason)


def test_analysis_reads_the_records_stored_before_it():
    """What decode_key v2 stored: plain dicts, status 'ok' / 'failed', keys missing where nothing was measured."""
    old_ok = {**{k: v for k, v in DECODED.to_dict().items() if k != "status"}, "status": "ok"}
    old_failed = {"domain": "B", "relpath": "B/y.png", "sha256": "cd" * 32, "bytes": 10, "mtime_ns": 5,
                  "format": "PNG", "mode": "RGB", "status": "failed", "reason": "truncated",
                  "detail": "OSError: image file is truncated"}  # fmt: skip
    assert Analysis.from_dict(old_ok) == DECODED
    assert Analysis.from_dict(old_failed) == FAILED


def _decision(n: int, status: Status, group: str = "", domain: str = "A", **kw) -> Decision:
    reason = {Status.KEPT: None, Status.DUPLICATE: Reason.NEAR_DUPLICATE, Status.REJECTED: Reason.EXCLUDED}[status]
    return Decision(domain, f"{n:064x}", f"{domain}/{n}.jpg", status, reason, group=group, **kw)


def test_decision_round_trip_through_the_manifest(tmp_path):
    rows = [
        _decision(3, Status.KEPT, "g3", split="train", output="train/A/x.jpg", width=640, height=480, bytes=99,
                  phash="00ff00ff00ff00ff", url="http://127.0.0.1/x.jpg", page_url="http://127.0.0.1/p",
                  query="가로수길, 벚꽃", engine="bing"),
        _decision(1, Status.DUPLICATE, "g3", split="train", detail='4 bits from kept "x"\nnext line', width=320,
                  height=240, bytes=7, phash="00ff00ff00ff00f0", distance=4, score=0.9731),
        Decision("B", "e" * 64, "B/deep/bad.jpg", Status.REJECTED, Reason.UNIDENTIFIABLE, "not an image", bytes=3),
    ]  # fmt: skip
    back = read_manifest(write_manifest(tmp_path / "manifest.csv", rows))
    assert back == sorted(rows, key=lambda r: (r.domain, r.relpath))
    assert all(type(r.status) is Status for r in back) and type(back[-1].reason) is Reason


def test_decision_manifest_leaves_out_what_only_grouping_needs(tmp_path):
    row = _decision(2, Status.DUPLICATE, "g2", pixel_hash="px", staged="00/x.jpg", distance=4, score=0.91234,
                    format="JPEG")  # fmt: skip
    (back,) = read_manifest(write_manifest(tmp_path / "manifest.csv", [row]))
    assert back == replace(row, pixel_hash=None, staged=None, format=None, score=0.9123)


def test_analysis_round_trip_keeps_the_signature():
    rec = Analysis(domain="A", relpath="A/x.jpg", ok=True, phash="0" * 16, signature=bytes(range(256)) * 17)
    assert "signature" not in rec.to_dict()  # binary: curation.state keeps it beside the JSON
    assert Analysis.from_dict(json.loads(json.dumps(rec.to_dict())), rec.signature) == rec


def test_duplicate_groups_order():
    big = [_decision(9, Status.REJECTED, "gb"), _decision(8, Status.DUPLICATE, "gb"),
           _decision(7, Status.KEPT, "gb"), _decision(6, Status.DUPLICATE, "gb")]  # fmt: skip
    pair_late = [_decision(5, Status.DUPLICATE, "gp"), _decision(4, Status.KEPT, "gp")]
    pair_early = [_decision(2, Status.DUPLICATE, "gq", domain="B"), _decision(1, Status.KEPT, "gq")]
    alone = [_decision(0, Status.KEPT, "gs"), _decision(10, Status.REJECTED)]
    rows = big + pair_late + pair_early + alone
    random.Random(0).shuffle(rows)
    groups = duplicate_groups(rows)
    assert [[int(r.sha256, 16) for r in g] for g in groups] == [[7, 6, 8, 9], [1, 2], [4, 5]]
    assert duplicate_groups([]) == [] and duplicate_groups(alone) == []


def test_every_reason_is_documented():
    assert set(REASON_HELP) == set(Reason)
