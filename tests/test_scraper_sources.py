"""Tests for scraper.sources: URL list files and importing a folder of the user's own photos."""

from __future__ import annotations

import pytest

from core.config import ConfigError
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.sources import LocalReader, folder_candidates, read_url_list
from tests.support.scraper_images import image_bytes


def test_url_list_format(tmp_path):
    f = tmp_path / "u.txt"
    f.write_text(
        "# comment\nhttp://a/1.jpg\n\n  http://a/2.jpg\thttp://page/2\tTwo  \nhttp://a/1.jpg\n", encoding="utf-8"
    )
    got = read_url_list(f)
    assert [(c.url, c.page_url, c.title, c.rank) for c in got] == [
        ("http://a/1.jpg", None, None, 0),
        ("http://a/2.jpg", "http://page/2", "Two", 1),
    ]


@pytest.mark.parametrize("which", ["urls", "folder"])
def test_missing_source_is_a_config_error(tmp_path, which):
    with pytest.raises(ConfigError):
        read_url_list(tmp_path / "nope.txt") if which == "urls" else folder_candidates(tmp_path / "nope")


def test_local_reader_validates_and_caps(tmp_path):
    (tmp_path / "ok.jpg").write_bytes(image_bytes("ok"))
    (tmp_path / "big.jpg").write_bytes(image_bytes("big", (400, 300), noise=True))
    (tmp_path / "fake.jpg").write_bytes(b"<html>not an image</html>")
    (tmp_path / ".DS_Store").write_bytes(b"junk")
    cands = folder_candidates(tmp_path)
    assert [c.title for c in cands] == ["big.jpg", "fake.jpg", "ok.jpg"]
    reader = LocalReader(ScrapeConfig(data_root=tmp_path, max_mb=50_000 / 2**20))
    got = {f.candidate.title: f for f in reader.iter_fetch(cands)}
    assert got["ok.jpg"].status == R.OK and got["ok.jpg"].width == 64
    assert got["big.jpg"].status == R.TOO_LARGE
    assert got["fake.jpg"].status == R.NOT_IMAGE and "HTML" in got["fake.jpg"].error
