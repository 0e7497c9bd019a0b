"""Sniff downloaded bytes and decode them fully once: image facts, or the reason they are not an image."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Pillow format -> file extension we store under.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}
MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


@dataclass(frozen=True)
class Checked:
    """Validation result: `reason` is None for a decodable image."""

    reason: str | None
    ext: str | None = None
    width: int | None = None
    height: int | None = None
    sha256: str | None = None


def sniff(data: bytes) -> str | None:
    """The image format the leading bytes claim (Pillow's name), 'HTML', 'SVG', or None."""
    for magic, fmt in MAGIC:
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return "HTML"
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head):
        return "SVG"
    return None


def check_image(data: bytes, max_pixels: int = Image.MAX_IMAGE_PIXELS or 89_478_485) -> Checked:
    """Sniff, then fully decode once; HTML, SVG, unknown, oversized-in-pixels and undecodable bytes get a reason."""
    if not data:
        return Checked("empty body")
    claimed = sniff(data)
    if claimed in ("HTML", "SVG"):
        return Checked(f"{claimed} document, not a raster image")
    if claimed is None:
        return Checked(f"unknown format (first bytes {data[:8].hex()})")
    try:
        with Image.open(io.BytesIO(data), formats=[claimed]) as im:
            width, height = im.size
            if width * height > max_pixels:
                return Checked(f"{width}x{height} exceeds the {max_pixels}-pixel decompression-bomb limit")
            im.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        return Checked(f"undecodable {claimed}: {e}")
    return Checked(None, EXTENSIONS[claimed], width, height, hashlib.sha256(data).hexdigest())
