"""Decode one raw file: reject what cannot be decoded, normalise to sRGB RGB, measure, hash and stage it resized."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageCms, ImageOps

from curation.hashing import phash, phash_hex, pixel_hash

# What Pillow raises on broken input (its documented open/load errors plus what fuzzing finds in its plugins).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
_METRIC_SIDE = 64
_ANIMATION_FORMATS = {"GIF", "PNG", "WEBP", "FLI"}
_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


@dataclass(frozen=True)
class DecodeSettings:
    """What a worker needs to know: limits and the staged output's size, format and quality."""

    staging: str
    load_size: int = 286
    output_format: str = "jpg"
    jpeg_quality: int = 95
    max_pixels: int = 64_000_000
    resample: str = "bicubic"


def output_size(size: tuple[int, int], load_size: int) -> tuple[int, int]:
    """(w, h) scaled so that the shorter side is `load_size`, aspect ratio kept."""
    w, h = size
    scale = load_size / min(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def staged_path(staging: str | Path, sha256: str, output_format: str) -> Path:
    """Where the resized copy of the raw file with this content hash is kept."""
    return Path(staging) / sha256[:2] / f"{sha256}.{output_format}"


def _failed(rec: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    rec.update(status="failed", reason=reason, detail=detail[:300])
    return rec


def analyse_file(domain: str, path: str, relpath: str, settings: DecodeSettings) -> dict[str, Any]:
    """Everything curation needs to know about one raw file, as a JSON-ready dict.

    status 'failed' with a reason (unreadable, empty, unidentifiable, decompression_bomb, truncated, corrupt)
    when it cannot be decoded; else status 'ok' with its size, frames, metrics, hashes and the path of its staged
    resized copy (relative to the staging folder). The raw file is only read.
    """
    rec: dict[str, Any] = {"domain": domain, "relpath": relpath, "sha256": "", "bytes": 0, "mtime_ns": 0}
    try:
        st = os.stat(path)
        data = Path(path).read_bytes()
    except OSError as e:
        return _failed(rec, "unreadable", f"{type(e).__name__}: {e}")
    rec.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), mtime_ns=st.st_mtime_ns)
    if not data:
        return _failed(rec, "empty", "zero bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        return _failed(rec, "decompression_bomb", str(e))
    except Image.UnidentifiedImageError:
        return _failed(rec, "unidentifiable", f"not an image Pillow can read (starts with {data[:16]!r})")
    except DECODE_ERRORS as e:
        return _failed(rec, "corrupt", f"{type(e).__name__}: {e}")
    with im:
        return _analyse_open(rec, im, settings)


def _analyse_open(rec: dict[str, Any], im: Image.Image, settings: DecodeSettings) -> dict[str, Any]:
    w, h = im.size
    rec.update(format=im.format, mode=im.mode)
    if w * h > settings.max_pixels:
        return _failed(rec, "decompression_bomb", f"{w}x{h} = {w * h:,} pixels > max_pixels {settings.max_pixels:,}")
    try:
        # frames of an animation (walks a GIF: may fail on a broken one); an MPO's or TIFF's extra pages are not
        rec["frames"] = getattr(im, "n_frames", 1) if im.format in _ANIMATION_FORMATS else 1
        orientation = im.getexif().get(0x0112, 1)
        if im.format in ("JPEG", "MPO"):
            im.draft(None, output_size((w, h), settings.load_size))  # decode at 1/2..1/8 scale when that is enough
        im.load()  # the whole stream: a truncated or corrupt file fails here
        if orientation != 1:
            im = ImageOps.exif_transpose(im)
        rgb, icc = to_srgb(im)
    except DECODE_ERRORS as e:
        reason = "truncated" if "truncated" in str(e) else "corrupt"
        return _failed(rec, reason, f"{type(e).__name__}: {e}")
    if orientation in _SWAPPING_ORIENTATIONS:
        w, h = h, w
    rec.update(status="ok", reason=None, detail=None, width=w, height=h, icc=icc, pixel_hash=pixel_hash(rgb))
    out = rgb.resize(output_size((w, h), settings.load_size), _RESAMPLE[settings.resample])
    rec.update(_metrics(out))
    rec["staged"] = _stage(out, rec["sha256"], settings)
    return rec


def _metrics(out: Image.Image) -> dict[str, Any]:
    """Variance, chroma and phash, all from one 64x64 box-filtered thumbnail of the resized image."""
    thumb = out.resize((_METRIC_SIDE, _METRIC_SIDE), Image.Resampling.BOX)
    grey = thumb.convert("L")  # ITU-R 601 luma, as phash uses
    rgb = np.asarray(thumb)  # (64, 64, 3) uint8
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    chroma = (np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)).ravel()  # (4096,)
    k = int(0.99 * (chroma.size - 1))
    return {
        "grey_std": round(float(np.asarray(grey, dtype=np.float32).std()), 3),
        "chroma": float(np.partition(chroma, k)[k]),
        "phash": phash_hex(phash(grey)),
    }


def _stage(out: Image.Image, sha256: str, settings: DecodeSettings) -> str:
    """Write the resized copy (atomically: a temporary file renamed into place); return its path under staging."""
    buf = io.BytesIO()
    if settings.output_format == "jpg":
        out.save(buf, "JPEG", quality=settings.jpeg_quality, subsampling=0)
    else:
        out.save(buf, "PNG", compress_level=3)
    path = staged_path(settings.staging, sha256, settings.output_format)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(buf.getbuffer())
    except FileNotFoundError:  # the first file of its folder: create the folder only then, not for every file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(buf.getbuffer())
    os.replace(tmp, path)
    return str(path.relative_to(settings.staging))


def to_srgb(im: Image.Image) -> tuple[Image.Image, str | None]:
    """`im` as 8-bit sRGB RGB: alpha composited on white, 16-bit scaled to 8, ICC profile converted to sRGB.

    Returns the image and what happened to its ICC profile: None (none), 'converted' or an error text (the
    pixels are then taken as sRGB).
    """
    icc_bytes = im.info.get("icc_profile")
    if im.mode.startswith("I") or im.mode == "F":
        im = _high_bit_depth_to_l(im)
    elif im.mode in _ALPHA_MODES or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    elif im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    if not icc_bytes:
        return (im if im.mode == "RGB" else im.convert("RGB")), None
    try:
        return ImageCms.applyTransform(im, _to_srgb_transform(icc_bytes, im.mode)), "converted"
    except (ImageCms.PyCMSError, OSError, ValueError) as e:
        return im.convert("RGB"), f"not applied: {e}"[:120]


def _high_bit_depth_to_l(im: Image.Image) -> Image.Image:
    a = np.asarray(im)
    if im.mode.startswith("I;16"):
        a8 = (a.astype(np.uint32) >> 8).astype(np.uint8)
    elif im.mode == "I" and int(a.max(initial=0)) > 255:
        a8 = np.clip(a.astype(np.float64) / 257.0 + 0.5, 0, 255).astype(np.uint8)
    else:
        a8 = np.clip(a, 0, 255).astype(np.uint8)
    return Image.fromarray(a8, "L")


@lru_cache(maxsize=32)
def _to_srgb_transform(icc_bytes: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc_bytes))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return ImageCms.buildTransform(src, srgb, mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL)
