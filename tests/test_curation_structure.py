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


@pytest.mark.parametrize("fmt, kw", [f for f in FORMATS if f[0] in ("AVIF", "JPEG2000") and not f[1]])
def test_a_box_file_cut_exactly_between_two_boxes_is_cut_short(fmt, kw):
    data = _file(fmt, **kw)
    pos, ends = 0, []
    while pos + 8 <= len(data) and (size := int.from_bytes(data[pos : pos + 4], "big")) >= 8:
        pos += size
        ends.append(pos)
    assert len(ends) >= 2  # a file of boxes, each whole
    for end in ends[:-1]:  # every box whole up to here, the ones that carry the picture missing
        assert cut_short(data[:end]) is not None, end


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
