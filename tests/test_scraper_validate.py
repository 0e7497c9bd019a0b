"""Tests for scraper.validate: sniffing by bytes and one full decode."""

from __future__ import annotations

import hashlib

import pytest

from scraper.validate import check_image, sniff
from tests.support.scraper_faults import HTML, SVG
from tests.support.scraper_images import image_bytes


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_decodable_formats(fmt):
    data = image_bytes("v", (20, 10), fmt=fmt)
    got = check_image(data)
    assert got.reason is None
    assert (got.width, got.height, got.sha256) == (20, 10, hashlib.sha256(data).hexdigest())
    assert sniff(data) == fmt


@pytest.mark.parametrize(
    ("data", "reason"),
    [(HTML, "HTML document"), (b"  <html><body>x", "HTML document"), (SVG, "SVG document"), (b"", "empty body"),
     (b"\x00\x01garbage", "unknown format"), (image_bytes("t", (200, 150), noise=True)[:900], "undecodable JPEG"),
     (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "undecodable PNG")],
)  # fmt: skip
def test_rejections_have_reasons(data, reason):
    assert reason in check_image(data).reason


def test_pixel_bomb_rejected_before_decoding():
    data = image_bytes("big", (300, 300), fmt="PNG")
    assert "decompression-bomb" in check_image(data, max_pixels=10_000).reason
