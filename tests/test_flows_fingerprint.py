"""Tests for flows.fingerprint: cache keys that follow content."""

from __future__ import annotations

import os

from flows.fingerprint import file_digest, raw_digest, settings_digest, split_digest


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_settings_digest_ignores_key_order_but_not_values():
    assert settings_digest({"a": 1, "b": [1, 2]}) == settings_digest({"b": [1, 2], "a": 1})
    assert settings_digest({"a": 1}) != settings_digest({"a": 2})


def test_raw_digest_follows_files_and_exclusions(tmp_path):
    empty = raw_digest(tmp_path)
    img = _touch(tmp_path / "raw" / "A" / "1.jpg")
    added = raw_digest(tmp_path)
    assert added != empty
    _touch(tmp_path / "raw" / "A" / ".notes.tmp")  # hidden: curation does not read it
    assert raw_digest(tmp_path) == added
    _touch(tmp_path / "curation" / "excluded.txt", b"abcdef12\n")
    excluded = raw_digest(tmp_path)
    assert excluded != added
    os.utime(img, ns=(1, 1))
    assert raw_digest(tmp_path) != excluded
    img.unlink()
    assert raw_digest(tmp_path) != excluded


def test_raw_digest_follows_a_file_of_any_suffix(tmp_path):
    _touch(tmp_path / "raw" / "A" / "1.jpg")
    before = raw_digest(tmp_path)
    _touch(tmp_path / "raw" / "B" / "photo.jfif")  # curation reads it, so the key must change
    assert raw_digest(tmp_path) != before


def test_split_digest_covers_both_layouts(tmp_path):
    base = split_digest(tmp_path)
    _touch(tmp_path / "testA" / "w.png")
    _touch(tmp_path / "testB" / "x.png")
    official = split_digest(tmp_path)
    _touch(tmp_path / "train" / "A" / "y.jpg")
    _touch(tmp_path / "train" / "B" / "z.jpg")
    assert len({base, official, split_digest(tmp_path)}) == 3


def test_file_digest_is_of_the_bytes(tmp_path):
    a, b = _touch(tmp_path / "a", b"same"), _touch(tmp_path / "b", b"same")
    assert file_digest(a) == file_digest(b) != file_digest(_touch(tmp_path / "c", b"other"))
