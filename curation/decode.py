"""Decode one raw file: reject what cannot be decoded, normalise to sRGB RGB, measure, hash and stage it resized."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from core.images import to_srgb
from curation.config import CurationConfig
from curation.hashing import phash, phash_hex, pixel_hash
from curation.records import Analysis, Reason

# What Pillow raises on broken input (its documented open/load errors plus what fuzzing finds in its plugins).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
_METRIC_SIDE = 64
_ANIMATION_FORMATS = {"GIF", "PNG", "WEBP", "FLI"}
_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


@dataclass(frozen=True)
class DecodeSettings:
    """What a worker needs to know: limits and the staged output's size, format and quality."""

    staging: str
    load_size: int
    output_format: str
    jpeg_quality: int
    max_pixels: int
    resample: str

    @classmethod
    def of(cls, cfg: CurationConfig, staging: str | Path) -> DecodeSettings:
        """The decode part of a curation config (small and picklable, for the worker processes)."""
        names = ("load_size", "output_format", "jpeg_quality", "max_pixels", "resample")
        return cls(staging=str(staging), **{n: getattr(cfg, n) for n in names})


def output_size(size: tuple[int, int], load_size: int) -> tuple[int, int]:
    """(w, h) scaled so that the shorter side is `load_size`, aspect ratio kept."""
    w, h = size
    scale = load_size / min(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def staged_path(staging: str | Path, sha256: str, output_format: str) -> Path:
    """Where the resized copy of the raw file with this content hash is kept."""
    return Path(staging) / sha256[:2] / f"{sha256}.{output_format}"


def _failed(rec: Analysis, reason: Reason, detail: str) -> Analysis:
    return replace(rec, ok=False, reason=reason, detail=detail[:300])


def analyse_file(domain: str, path: str, relpath: str, settings: DecodeSettings) -> Analysis:
    """Everything curation needs to know about one raw file.

    Not `ok`, with a reason (unreadable, empty, unidentifiable, decompression_bomb, truncated, corrupt), when it
    cannot be decoded; else `ok` with its size, frames, metrics, hashes and the path of its staged resized copy
    (relative to the staging folder). The raw file is only read.
    """
    rec = Analysis(domain=domain, relpath=relpath)
    try:
        st = os.stat(path)
        data = Path(path).read_bytes()
    except OSError as e:
        return _failed(rec, Reason.UNREADABLE, f"{type(e).__name__}: {e}")
    rec = replace(rec, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), mtime_ns=st.st_mtime_ns)
    if not data:
        return _failed(rec, Reason.EMPTY, "zero bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        return _failed(rec, Reason.DECOMPRESSION_BOMB, str(e))
    except Image.UnidentifiedImageError:
        return _failed(rec, Reason.UNIDENTIFIABLE, f"not an image Pillow can read (starts with {data[:16]!r})")
    except DECODE_ERRORS as e:
        return _failed(rec, Reason.CORRUPT, f"{type(e).__name__}: {e}")
    with im:
        return _analyse_open(rec, im, settings)


def _analyse_open(rec: Analysis, im: Image.Image, settings: DecodeSettings) -> Analysis:
    w, h = im.size
    rec = replace(rec, format=im.format, mode=im.mode)
    if w * h > settings.max_pixels:
        detail = f"{w}x{h} = {w * h:,} pixels > max_pixels {settings.max_pixels:,}"
        return _failed(rec, Reason.DECOMPRESSION_BOMB, detail)
    try:
        # frames of an animation (walks a GIF: may fail on a broken one); an MPO's or TIFF's extra pages are not
        rec = replace(rec, frames=getattr(im, "n_frames", 1) if im.format in _ANIMATION_FORMATS else 1)
        orientation = im.getexif().get(0x0112, 1)
        if im.format in ("JPEG", "MPO"):
            im.draft(None, output_size((w, h), settings.load_size))  # decode at 1/2..1/8 scale when that is enough
        im.load()  # the whole stream: a truncated or corrupt file fails here
        if orientation != 1:
            im = ImageOps.exif_transpose(im)
        rgb, icc = to_srgb(im)
    except DECODE_ERRORS as e:
        reason = Reason.TRUNCATED if "truncated" in str(e) else Reason.CORRUPT
        return _failed(rec, reason, f"{type(e).__name__}: {e}")
    if orientation in _SWAPPING_ORIENTATIONS:
        w, h = h, w
    out = rgb.resize(output_size((w, h), settings.load_size), _RESAMPLE[settings.resample])
    return replace(
        rec, ok=True, width=w, height=h, icc=icc, pixel_hash=pixel_hash(rgb), **_metrics(out),
        staged=_stage(out, rec.sha256, settings),
    )  # fmt: skip


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
