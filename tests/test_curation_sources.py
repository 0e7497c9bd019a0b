"""Tests for curation.sources: provenance from the scraper manifest, excluded ids."""

from __future__ import annotations

import sqlite3

import pytest

from curation.sources import Provenance, is_excluded, read_excluded
from scraper.layout import RawLayout


def _manifest(raw, columns: str, rows: list[tuple]) -> None:
    db = sqlite3.connect(raw / "manifest.sqlite")
    db.execute(f"CREATE TABLE images ({columns})")
    marks = ",".join("?" * len(rows[0]))
    db.executemany(f"INSERT INTO images VALUES ({marks})", rows)
    db.commit()
    db.close()


def test_provenance_by_path_then_sha(tmp_path):
    _manifest(tmp_path, "domain, url, page_url, query, engine, status, sha256, path", [
        ("A", "http://h/1", "http://h/p1", "q1", "google", "ok", "s1", "A/s1.jpg"),
        ("A", "http://h/1b", "", "q1", "bing", "ok", "s1", None),
        ("B", "http://h/2", "http://h/p2", "q2", "bing", "ok", "s2", None),
        ("B", "http://h/3", "", "q2", "bing", "failed", "s3", None),
    ])  # fmt: skip
    p = Provenance(RawLayout(tmp_path))
    assert p.warning is None
    assert p.lookup("A", "A/s1.jpg", "s1")["url"] == "http://h/1"
    assert p.lookup("B", "B/other-name.jpg", "s2")["engine"] == "bing"
    assert p.lookup("B", "B/s3.jpg", "s3") == {"url": "", "page_url": "", "query": "", "engine": ""}


def test_provenance_optional_and_tolerant(tmp_path):
    assert Provenance(RawLayout(tmp_path)).lookup("A", "A/x.jpg", "x")["url"] == ""
    _manifest(tmp_path, "domain, sha256, url", [("A", "x", "http://h/x")])  # no status/path columns
    assert Provenance(RawLayout(tmp_path)).lookup("A", "A/x.jpg", "x")["url"] == "http://h/x"
    (tmp_path / "manifest.sqlite").write_bytes(b"this is not sqlite" * 100)
    broken = Provenance(RawLayout(tmp_path))
    assert broken.warning and "provenance not read" in broken.warning


def test_read_excluded_formats(tmp_path):
    path = tmp_path / "excluded.txt"
    path.write_text("# review 1\nABCDEF0123456789  # not a street\n\nB/fedcba98.jpg\n0011223344556677.png\n")
    assert read_excluded(path) == {"abcdef0123456789", "fedcba98", "0011223344556677"}
    assert read_excluded(tmp_path / "missing.txt") == set()


@pytest.mark.parametrize(
    "sha, hit",
    [("abcdef0123456789ff", True), ("fedcba98" + "0" * 56, True), ("abc" + "0" * 61, False), ("f" * 64, False)],
)
def test_is_excluded_by_prefix_of_at_least_8(sha, hit):
    assert is_excluded(sha, {"abcdef0123456789", "fedcba98", "abc"}) is hit
