"""Tests for curation.diagnose: exceptions and first bytes -> a reason a person would agree with, and a detail."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from curation.diagnose import classify, sniff
from curation.records import Reason

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(50)
_buf = io.BytesIO()
Image.new("RGB", (4, 4)).save(_buf, "PNG")
PNG = _buf.getvalue()  # whole: not cut short


@pytest.mark.parametrize(
    "e, step, reason, words",
    [
        (OSError("Truncated File Read"), "open", Reason.TRUNCATED, "Truncated File Read"),  # Pillow's capitals
        (OSError("image file is truncated (17 bytes not processed)"), "decode", Reason.TRUNCATED, "17 bytes"),
        (OSError("IMAGE FILE IS TRUNCATED"), "decode", Reason.TRUNCATED, "OSError"),
        (EOFError(), "decode", Reason.TRUNCATED, "EOFError"),
        (struct.error("unpack_from requires a buffer of at least 4 bytes"), "open", Reason.TRUNCATED, "struct"),
        (ValueError("not enough image data"), "decode", Reason.TRUNCATED, "ValueError"),
        (OSError("broken data stream when reading image file"), "decode", Reason.CORRUPT, "broken data stream"),
        (SyntaxError("Syntax error in IM header"), "open", Reason.CORRUPT, "SyntaxError"),
        (IndexError("list index out of range"), "open", Reason.CORRUPT, "IndexError"),
        (KeyError(34887), "open", Reason.CORRUPT, "KeyError: 34887"),
        (RuntimeError("Failed to decode frame 0"), "decode", Reason.CORRUPT, "RuntimeError"),
        (NotImplementedError("Unimplemented pixel format 828004696"), "open", Reason.UNSUPPORTED_FORMAT, "Unimpl"),
        (OSError("Unsupported BMP compression (9)"), "open", Reason.UNSUPPORTED_FORMAT, "BMP compression"),
        (OSError("Unable to locate Ghostscript on paths"), "decode", Reason.DECODER_UNAVAILABLE, "Ghostscript (gs)"),
        (OSError("decoder jpeg2k not available"), "decode", Reason.DECODER_UNAVAILABLE, "without OpenJPEG"),
        (OSError("cannot find loader for this WMF file"), "decode", Reason.DECODER_UNAVAILABLE, "WMF"),
        (Image.DecompressionBombError("Image size (9 pixels) exceeds limit"), "open", Reason.DECOMPRESSION_BOMB, "9"),
        (Image.DecompressionBombError("Image size (9 pixels) exceeds"), "decode", Reason.DECOMPRESSION_BOMB, "Bomb"),
        (Image.DecompressionBombWarning("Image size (9 pixels)"), "open", Reason.DECOMPRESSION_BOMB, "Warning"),
        (
            ValueError("Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK"),
            "decode",
            Reason.DECOMPRESSION_BOMB,
            "MAX_TEXT_CHUNK",
        ),  # fmt: skip
        (AttributeError("'NoneType' object has no attribute 'read'"), "decode", Reason.DECODE_ERROR, "unexpected"),
        (AssertionError(), "open", Reason.DECODE_ERROR, "while reading the header"),
        (RecursionError("maximum recursion depth exceeded"), "decode", Reason.DECODE_ERROR, "RecursionError"),
        (MemoryError(), "decode", Reason.DECODE_ERROR, "MemoryError"),
        (ValueError("conversion from X to RGB not supported"), "normalise", Reason.DECODE_ERROR, "converting"),
    ],
)
def test_exceptions_become_reasons_with_class_and_message(e, step, reason, words):
    got, detail = classify(e, step, JPEG)
    assert got is reason, detail
    assert words in detail
    assert type(e).__name__ in detail or reason is not Reason.DECODE_ERROR


def test_the_detail_names_the_format_that_failed():
    assert classify(OSError("broken data stream when reading image file"), "decode", PNG)[1].startswith("PNG file:")


@pytest.mark.parametrize(
    "said, reason, words",
    [
        (
            ("image file could not be identified because WEBP support not installed",),
            Reason.DECODER_UNAVAILABLE,
            "WEBP support",
        ),  # fmt: skip
        (("PNG opening failed. broken PNG file (bad header checksum in b'IHDR')",), Reason.CORRUPT, "checksum"),
        (
            ("DIB opening failed. x", "PNG opening failed. unpack_from requires a buffer of at least 4 bytes"),
            Reason.TRUNCATED,
            "PNG file whose header cannot be read",
        ),  # fmt: skip
        ((), Reason.CORRUPT, "starts like a PNG file"),
    ],
)
def test_unidentified_file_with_a_known_signature_says_why_its_header_failed(said, reason, words):
    got, detail = classify(Image.UnidentifiedImageError("cannot identify"), "open", PNG, said=said)
    assert (got, words in detail) == (reason, True), detail


@pytest.mark.parametrize(
    "data, reason, words",
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", Reason.DECODER_UNAVAILABLE, "pillow-heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heix", Reason.DECODER_UNAVAILABLE, "HEIF"),
        (b"\xff\x0a\xfa\x7f", Reason.DECODER_UNAVAILABLE, "JPEG XL"),
        (b"\x00\x00\x00\x0cJXL \r\n\x87\n", Reason.DECODER_UNAVAILABLE, "pillow-jxl-plugin"),
        (b"%PDF-1.7\n", Reason.UNSUPPORTED_FORMAT, "PDF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">', Reason.UNSUPPORTED_FORMAT, "SVG"),
        (b"II\xbc\x01", Reason.UNSUPPORTED_FORMAT, "JPEG XR"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x00crx isom", Reason.UNSUPPORTED_FORMAT, "CR3"),
        (b"<!DOCTYPE html><html>", Reason.UNIDENTIFIABLE, "HTML"),
        (b"  <html><body>", Reason.UNIDENTIFIABLE, "HTML"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2", Reason.UNIDENTIFIABLE, "video"),
        (b"PK\x03\x04", Reason.UNIDENTIFIABLE, "archive"),
        (b'{"error": "not found"}', Reason.UNIDENTIFIABLE, "JSON"),
    ],
)
def test_sniff_names_what_pillow_cannot_open(data, reason, words):
    got = sniff(data)
    assert got is not None and got[0] is reason and words in got[1], got
    assert classify(Image.UnidentifiedImageError("x"), "open", data) == got


@pytest.mark.parametrize(
    "data, reason, words",
    [
        (b"\x89PN", Reason.TRUNCATED, "only 3 bytes: the start of a PNG signature"),
        (bytes(17) + PNG, Reason.CORRUPT, "17 bytes of something else before a PNG signature"),
        (b"\x81" + PNG[1:], Reason.CORRUPT, "a PNG signature with 1 byte(s) wrong"),
        (b"\x00\x00\x01\x01" + bytes(40), Reason.UNIDENTIFIABLE, "starts with"),  # 4-byte ICO signature: too short
        (b"hello world, nothing to see", Reason.UNIDENTIFIABLE, "starts with b'hello world"),
    ],
)
def test_other_unidentified_files(data, reason, words):
    got, detail = classify(Image.UnidentifiedImageError("x"), "open", data)
    assert (got, words in detail) == (reason, True), detail


def test_a_file_cut_short_is_truncated_even_when_pillow_calls_it_broken():
    riff = b"RIFF" + (5000).to_bytes(4, "little") + b"WEBPVP8 " + bytes(100)
    reason, detail = classify(OSError("could not create decoder object"), "decode", riff)
    assert reason is Reason.TRUNCATED and detail.startswith("its RIFF header declares 5,008 bytes but it has 116")
    assert "OSError: could not create decoder object" in detail
