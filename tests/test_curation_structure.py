"""Tests for curation.structure: a file cut short is told from its own structure, whatever Pillow says about it."""

from __future__ import annotations

import io

import pytest
from PIL import features

from curation.structure import cut_short, tiff_compression
from tests.support.curation_images import scene

FORMATS = [("PNG", {}), ("WEBP", {}), ("TIFF", {}), ("TIFF", {"compression": "tiff_lzw"}), ("GIF", {}),
           ("JPEG2000", {}), ("JPEG2000", {"no_jp2": True}), ("JPEG", {})]  # fmt: skip
if features.check("avif"):
    FORMATS.append(("AVIF", {}))


def _file(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    scene(1, (120, 90)).save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt, kw", FORMATS)
def test_a_whole_file_is_not_cut_short(fmt, kw):
    assert cut_short(_file(fmt, **kw)) is None


@pytest.mark.parametrize("fmt, kw", [f for f in FORMATS if f[0] != "JPEG"])  # JPEG: only its header, below
@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.97])
def test_a_file_cut_anywhere_is_cut_short(fmt, kw, keep):
    data = _file(fmt, **kw)
    assert cut_short(data[: max(9, int(len(data) * keep))]) is not None


def test_a_jpeg_cut_in_its_header_is_cut_short_and_one_cut_in_its_data_is_left_to_the_decoder():
    data = _file("JPEG")
    sos = data.index(b"\xff\xda")
    assert cut_short(data[: sos - 5]).startswith("its header runs out at")
    assert cut_short(data[: sos + 200]) is None  # the decoder says 'image file is truncated' itself


@pytest.mark.parametrize(
    "data",
    [b"RIFF\x04\x00\x00\x00WEBP", b"\x00\x00\x00\x04ftyp", b"\xff\xd8\x00\x00" + bytes(10), b"plain text", b""],
)
def test_malformed_or_unknown_is_not_called_cut(data):
    assert cut_short(data) is None


def test_tiff_compression_is_read_from_the_first_directory():
    assert tiff_compression(_file("TIFF", compression="tiff_lzw")) == 5
    assert tiff_compression(_file("TIFF")) == 1
    assert tiff_compression(b"II*\x00\xff\xff\x00\x00") is None
