"""Why a raw file cannot be decoded, in words a person would agree with: an exception, the step it came from and the
file's first bytes -> a Reason and a one-line detail naming the exception class and message."""

from __future__ import annotations

import io
import os
import re
import struct
from functools import cache

from PIL import Image, TiffImagePlugin, features

from curation.records import Reason
from curation.structure import cut_short, tiff_compression

HEAD_BYTES = 64  # what `sniff` and the magic numbers look at
STEPS = ("open", "decode", "normalise")  # open: header; decode: frames, full load; normalise: our conversion to RGB

# Lower-case fragments of Pillow's (and its C libraries') messages, most specific first. Pillow words one problem
# several ways ("Truncated File Read", "image file is truncated", "unpack_from requires a buffer of at least ...").
_BOMB = ("decompression bomb", "decompressed data too large", "exceeds limit")
_UNAVAILABLE = ("ghostscript", "not available", "cannot find loader", "support not installed", "not configured")
_UNSUPPORTED = (
    "unsupported", "not supported", "unimplemented", "not implemented", "unknown compression", "unknown pixel format",
    "unknown blp", "invalid texture compression", "cannot handle this data type", "unknown raw mode",
)  # fmt: skip
_TRUNCATED = (
    "truncated", "unexpected end", "premature end", "end of file", "incomplete", "not enough data", "expected to read",
    "requires a buffer of at least", "no more images", "buffer is not large enough", "short read",
    "not enough image data", "reached eof",
)  # fmt: skip
# What Pillow raises on broken input: its documented errors and what fuzzing finds in its plugins. Anything else is
# unexpected and reported as decode_error, so that it gets noticed.
_BROKEN_INPUT = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, KeyError,
                 ArithmeticError, RuntimeError)  # fmt: skip  # RuntimeError: the AVIF and WebP codecs' errors
_UNEXPECTED = (RecursionError,)  # a RuntimeError, but no way to say a file is broken
_POSSIBLE = re.compile(r"^([A-Z0-9_]+) opening failed\. (.*)$", re.S)  # Image.WARN_POSSIBLE_FORMATS' wording

# Signatures of the formats people meet most, to name what a file claims to be when Pillow cannot open it.
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"), (b"8BPS", "PSD"), (b"icns", "ICNS"),
    (b"\x00\x00\x01\x00", "ICO"), (b"DDS ", "DDS"), (b"qoif", "QOI"), (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),
    (b"\xffO\xffQ", "JPEG2000"), (b"%!PS", "EPS"), (b"\xc5\xd0\xd3\xc6", "EPS"), (b"\x01\xda", "SGI"),
    (b"\x00\x00\x02\x00", "CUR"), (b"SIMPLE  =", "FITS"),
)  # fmt: skip
# Signatures distinctive enough to look for inside a file that does not start with one (garbage in front)
_EMBEDDED = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF89a", "GIF"), (b"GIF87a", "GIF"),
             (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"WEBPVP8", "WEBP"))  # fmt: skip
_TIFF_CODECS = {"webp": "WebP", "zstd": "ZSTD", "lzma": "LZMA", "jpeg": "JPEG", "tiff_jpeg": "old-style JPEG",
                "tiff_adobe_deflate": "Deflate", "tiff_deflate": "Deflate"}  # fmt: skip
_TIFF_UNKNOWN = {
    34661: "JBIG", 34712: "JPEG 2000", 34715: "JBIG2", 34887: "LERC", 34892: "lossy JPEG (DNG)", 34925: "LZMA",
    34933: "PNG", 34934: "JPEG XR", 50002: "JPEG XL", 52546: "JPEG XL (DNG)", 65000: "Kodak DCR", 34713: "Nikon NEF",
    32867: "Kodak KDC", 65535: "Pentax PEF", 32895: "IT8 CT", 32896: "IT8 LW", 32897: "IT8 MP", 32898: "IT8 BL",
}  # fmt: skip
_LIBRARIES = {"jpeg": "libjpeg", "zip": "zlib", "jpeg2k": "OpenJPEG", "libtiff": "libtiff", "webp": "libwebp",
              "avif": "libavif"}  # fmt: skip


def classify(
    e: BaseException, step: str, data: bytes, im: Image.Image | None = None, said: tuple[str, ...] = ()
) -> tuple[Reason, str]:
    """(reason, detail) for exception `e` raised at `step` (one of STEPS) on a file whose bytes are `data` (or only
    its first bytes, for a file too large to hold).

    `im` is the image when it was opened (its format and TIFF compression name a missing codec); `said` holds the
    warnings Pillow gave on the way (with `Image.WARN_POSSIBLE_FORMATS`, why each format that matched failed). A file
    that would be called corrupt but whose own structure declares more bytes than it has is truncated.
    """
    if isinstance(e, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return Reason.DECOMPRESSION_BOMB, _what(e)
    if isinstance(e, Image.UnidentifiedImageError):
        reason, detail = _unidentified(data, said)
    elif not isinstance(e, _BROKEN_INPUT) or isinstance(e, _UNEXPECTED) or step == "normalise":
        return Reason.DECODE_ERROR, f"unexpected {_what(e)} while {_DOING[step]}"
    else:
        reason, detail = _broken(e, step, data[:HEAD_BYTES], im)
    if reason is Reason.CORRUPT and (cut := cut_short(data)) is not None:
        return Reason.TRUNCATED, f"{cut}; {detail}"
    return reason, detail


def _broken(e: BaseException, step: str, head: bytes, im: Image.Image | None) -> tuple[Reason, str]:
    """What Pillow raised on input it could not decode, by its words (and a TIFF codec missing here)."""
    what = _what(e)
    missing = _missing_codec(im) if step == "decode" else None
    if missing:
        return Reason.DECODER_UNAVAILABLE, f"{missing}; {what}"
    fmt = im.format if im is not None else _signature(head)
    reason = _by_words(what.lower(), e)
    if reason is Reason.DECODER_UNAVAILABLE and "ghostscript" in what.lower():
        return reason, f"{fmt or 'EPS'} needs Ghostscript (gs), which is not installed here; {what}"
    if reason is Reason.DECODER_UNAVAILABLE and (lib := re.search(r"decoder (\w+) not available", what)):
        name = _LIBRARIES.get(lib[1], lib[1])
        return reason, f"this Pillow was built without {name}, which {fmt or 'this format'} needs; {what}"
    return reason, f"{fmt} file: {what}" if fmt else what


_DOING = {"open": "reading the header", "decode": "decoding", "normalise": "converting to RGB"}


def sniff(head: bytes) -> tuple[Reason, str] | None:
    """What a file Pillow cannot identify is, from its first bytes (a few KB: an SVG may start with a long XML
    prologue), when that can be named: a format that needs a plugin or codec missing here, a format Pillow never
    reads, or something that is not an image at all."""
    box = head[4:8] == b"ftyp"
    brands = {head[i : i + 4] for i in range(8, min(len(head), 40), 4)} if box else set()
    lower = head.lower().lstrip()
    if brands & {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}:
        return Reason.DECODER_UNAVAILABLE, "HEIF/HEIC image: Pillow needs a HEIF plugin (pip install pillow-heif)"
    if brands & {b"avif", b"avis"} and not features.check("avif"):
        return Reason.DECODER_UNAVAILABLE, ("AVIF image: this Pillow has no AVIF support (Pillow 11.3+ wheels have "
                                            "it; or pip install pillow-avif-plugin)")  # fmt: skip
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return Reason.DECODER_UNAVAILABLE, "JPEG XL image: Pillow needs a plugin (pip install pillow-jxl-plugin)"
    for magic, name in (
        (b"%PDF-", "a PDF document"), (b"II\xbc", "a JPEG XR image"), (b"v/1\x01", "an OpenEXR image"),
        (b"#?RADIANCE", "a Radiance HDR image"), (b"#?RGBE", "a Radiance HDR image"), (b"BPG\xfb", "a BPG image"),
        (b"FLIF", "a FLIF image"), (b"FUJIFILMCCD-RAW", "a Fujifilm RAF camera raw file"),
    ):  # fmt: skip
        if head.startswith(magic):
            return Reason.UNSUPPORTED_FORMAT, f"{name}: not a format Pillow decodes"
    if brands & {b"crx "}:
        return Reason.UNSUPPORTED_FORMAT, "a Canon CR3 camera raw file: not a format Pillow decodes"
    if b"<svg" in lower or b"<!doctype svg" in lower:
        return Reason.UNSUPPORTED_FORMAT, "an SVG vector drawing: not a raster image Pillow decodes"
    for found, name in (
        (lower.startswith((b"<!doctype html", b"<html", b"<head", b"<body")), "an HTML page (often an error page)"),
        (brands & {b"isom", b"iso2", b"mp41", b"mp42", b"m4v ", b"qt  ", b"avc1", b"3gp4", b"3gp5", b"dash"},
         "an MP4/QuickTime video"),
        (head.startswith(b"\x1a\x45\xdf\xa3"), "a WebM/Matroska video"),
        (head.startswith(b"RIFF") and head[8:12] == b"AVI ", "an AVI video"),
        (head.startswith((b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")), "an archive (zip, gzip, 7z, rar)"),
        (lower.startswith((b"<?xml", b"{", b"[")), "XML or JSON text"),
    ):  # fmt: skip
        if found:
            return Reason.UNIDENTIFIABLE, f"{name}, not an image"
    return None


def _unidentified(data: bytes, said: tuple[str, ...]) -> tuple[Reason, str]:
    """A file no plugin opened: a known non-image or missing plugin, a known format whose header is broken, or not
    an image at all."""
    head = data[:HEAD_BYTES]
    for text in said:
        if "support not installed" in text.lower():
            return Reason.DECODER_UNAVAILABLE, text
    named = sniff(data[:4096])
    if named is not None:
        return named
    fmt = _signature(head)
    for magic, name in _MAGIC:
        if len(data) < len(magic) and magic.startswith(data):
            return Reason.TRUNCATED, f"only {len(data)} bytes: the start of a {name} signature"
    if fmt == "TIFF" and (code := tiff_compression(data)) is not None and code not in TiffImagePlugin.COMPRESSION_INFO:
        name = _TIFF_UNKNOWN.get(code, "an unknown compression")
        return Reason.UNSUPPORTED_FORMAT, f"TIFF compressed with {name} (compression {code}): Pillow does not decode it"
    failed = dict(m.groups() for m in map(_POSSIBLE.match, said) if m)  # format -> why it did not open
    if fmt is not None:
        why = failed.get(fmt) or next((v for k, v in failed.items() if k.startswith(fmt[:3])), None)
        if why is None:
            return Reason.CORRUPT, f"starts like a {fmt} file, but Pillow cannot read its header"
        why = _one_line(why)
        return _by_words(why.lower()), f"{fmt} file whose header cannot be read: {why}"
    if (cut := cut_short(data)) is not None:  # e.g. RIFF, cut before it says WEBP
        return Reason.TRUNCATED, f"{cut}; cut before it says what it holds"
    for magic, name in _EMBEDDED:
        if (at := data.find(magic, 1, 4096)) > 0:
            return Reason.CORRUPT, f"{at:,} bytes of something else before a {name} signature"
    for magic, name in _MAGIC:  # long signatures only: a short one is met by chance
        wrong = sum(a != b for a, b in zip(magic, head, strict=False))
        if len(magic) >= 6 and len(head) >= len(magic) and 0 < wrong <= len(magic) // 4:
            return Reason.CORRUPT, f"a {name} signature with {wrong} byte(s) wrong (starts with {head[:16]!r})"
    return Reason.UNIDENTIFIABLE, f"not an image Pillow can read (starts with {head[:16]!r})"


def _by_words(text: str, e: BaseException | None = None) -> Reason:
    if any(w in text for w in _BOMB):
        return Reason.DECOMPRESSION_BOMB
    if any(w in text for w in _UNAVAILABLE):
        return Reason.DECODER_UNAVAILABLE
    if isinstance(e, NotImplementedError) or any(w in text for w in _UNSUPPORTED):
        return Reason.UNSUPPORTED_FORMAT
    if isinstance(e, EOFError) or any(w in text for w in _TRUNCATED):
        return Reason.TRUNCATED
    return Reason.CORRUPT


def _signature(head: bytes) -> str | None:
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "AVIF"
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def _missing_codec(im: Image.Image | None) -> str | None:
    """The codec a TIFF needs and this machine's libtiff lacks (it then fails as 'decoder error -2')."""
    if im is None or im.format != "TIFF":
        return None
    comp = im.info.get("compression")
    if comp in _TIFF_CODECS and not tiff_codec_available(comp):
        return f"TIFF compressed with {_TIFF_CODECS[comp]}: this machine's libtiff was built without it"
    return None


@cache
def tiff_codec_available(compression: str) -> bool:
    """Whether libtiff here can write (so also read) TIFF with this compression: a tiny image is encoded to find out.

    libtiff's complaint ("... compression support is not configured") goes to this process's stderr, which is
    silenced meanwhile."""
    if not features.check("libtiff"):
        return False
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        Image.new("RGB", (8, 8)).save(io.BytesIO(), "TIFF", compression=compression)
        return True
    except (OSError, ValueError, KeyError):
        return False
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _what(e: BaseException) -> str:
    """'OSError: message'; a lower-case class is named with its module ('struct.error')."""
    name = type(e).__name__
    if name.islower() and type(e).__module__ not in ("builtins", "__main__"):
        name = f"{type(e).__module__}.{name}"
    return f"{name}: {_one_line(e)}"


def _one_line(e: BaseException | str) -> str:
    text = e if isinstance(e, str) else (e.args[0] if len(e.args) == 1 and isinstance(e.args[0], str) else str(e))
    text = re.sub(r"<_io\.BytesIO object at 0x[0-9a-f]+>", "the file", text)
    return " ".join(text.split())[:240]
