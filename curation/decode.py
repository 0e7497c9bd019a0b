"""Decode one raw file: reject what cannot be decoded (saying why), normalise to sRGB RGB, measure, hash and stage it
resized."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.files import write_atomic
from core.images import exif_orientation, optional_plugins, to_srgb, upright
from curation.config import HARD_MAX_ASPECT, CurationConfig
from curation.diagnose import HEAD_BYTES, classify
from curation.hashing import phash, phash_hex
from curation.records import Analysis, Reason
from curation.verify import THUMB, content_box, describe

_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
_METRIC_SIDE = THUMB
_DARK = 24  # grey level: a filled corner's pixels at most this dark
MAX_FILLED_ROTATION = 12.0  # degrees: copies rotated inside their frame by up to this are turned back
_FILL_MATCH = 0.6  # intersection over union of the dark pixels and the corners a rotation fills, at least
# Resizing first shrinks by a whole factor with reduce() when the image is at least this many times the output (a
# large PNG or WebP, which decode at full size); Pillow: from 3 on, indistinguishable from a plain resize.
_REDUCING_GAP = 3.0
_ANIMATION_FORMATS = {"GIF", "PNG", "WEBP", "FLI", "AVIF"}
_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
_IN_MEMORY = 64 * 1024 * 1024  # larger raw files are hashed in blocks and decoded from disk


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

    Not `ok`, with a reason (one of DECODE_REASONS, chosen by `curation.diagnose.classify` from what Pillow raised
    and the file's first bytes) and a detail naming the exception, when it cannot be decoded; else `ok` with its
    size, frames, metrics, hashes and the path of its staged resized copy (relative to the staging folder). The raw
    file is only read.
    """
    rec = Analysis(domain=domain, relpath=relpath)
    try:
        st = os.stat(path)
        data, sha256, size = _read(path, st.st_size)
    except OSError as e:
        return _failed(rec, Reason.UNREADABLE, f"{type(e).__name__}: {e}")
    rec = replace(rec, sha256=sha256, bytes=size, mtime_ns=st.st_mtime_ns)
    if not size:
        return _failed(rec, Reason.EMPTY, "zero bytes")
    head = data if data is not None else _head(path)  # all of it when held, for curation.diagnose
    optional_plugins()
    with _pillow_says(settings.max_pixels) as said:
        try:
            im = Image.open(io.BytesIO(data) if data is not None else path)
        except Exception as e:  # noqa: BLE001 - every failure becomes this file's reason (curation.diagnose)
            return _failed(rec, *classify(e, "open", head, None, said()))
        with im:
            return _analyse_open(rec, im, head, settings, said)


def _read(path: str, size: int) -> tuple[bytes | None, str, int]:
    """(the bytes, when small enough to hold, their sha256, their length)."""
    if size <= _IN_MEMORY:
        data = Path(path).read_bytes()
        return data, hashlib.sha256(data).hexdigest(), len(data)
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
            n += len(block)
    return None, h.hexdigest(), n


def _head(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


@contextlib.contextmanager
def _pillow_says(max_pixels: int) -> Iterator[Any]:
    """Pillow's warnings, recorded rather than printed: why each format that matched failed to open (WARN_POSSIBLE_
    FORMATS), and its decompression-bomb warning as an error when max_pixels is below the limit it warns at."""
    saved = Image.WARN_POSSIBLE_FORMATS
    Image.WARN_POSSIBLE_FORMATS = True
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bomb = "error" if max_pixels <= (Image.MAX_IMAGE_PIXELS or max_pixels) else "ignore"
            warnings.simplefilter(bomb, Image.DecompressionBombWarning)
            yield lambda: tuple(str(w.message) for w in caught)
    finally:
        Image.WARN_POSSIBLE_FORMATS = saved


def _too_big(rec: Analysis, size: tuple[int, int], max_pixels: int) -> Analysis | None:
    w, h = size
    if w * h > max_pixels:
        return _failed(rec, Reason.DECOMPRESSION_BOMB, f"{w}x{h} = {w * h:,} pixels > max_pixels {max_pixels:,}")
    if min(w, h) <= 0:
        return _failed(rec, Reason.CORRUPT, f"{w}x{h}: a side of zero pixels")
    return None


def _analyse_open(rec: Analysis, im: Image.Image, head: bytes, settings: DecodeSettings, said: Any) -> Analysis:
    rec = replace(rec, format=im.format, mode=im.mode)
    w, h = im.size  # the file's size (a JPEG may be decoded at a reduced scale below)
    if (failed := _too_big(rec, (w, h), settings.max_pixels)) is not None:
        return failed
    try:
        # frames of an animation (walks a GIF: may fail on a broken one); an MPO's or TIFF's extra pages are not
        rec = replace(rec, frames=getattr(im, "n_frames", 1) if im.format in _ANIMATION_FORMATS else 1)
        if im.format in ("JPEG", "MPO"):
            im.draft(None, output_size((w, h), settings.load_size))  # decode at 1/2..1/8 scale when that is enough
        planned = im.size
        im.load()  # the whole stream: a truncated or corrupt file fails here
    except Exception as e:  # noqa: BLE001 - every failure becomes this file's reason (curation.diagnose)
        return _failed(rec, *classify(e, "decode", head, im, said()))
    if im.size != planned:  # a plugin that picks its size while loading (ICO, ICNS, EPS)
        w, h = im.size
        if (failed := _too_big(rec, (w, h), settings.max_pixels)) is not None:
            return failed
    orientation, note = exif_orientation(im)
    if orientation in _SWAPPING_ORIENTATIONS:
        w, h = h, w
    if max(w, h) / min(w, h) > HARD_MAX_ASPECT:  # its resized copy would be huge; no setting keeps it anyway
        return _failed(rec, Reason.ASPECT_RATIO, f"{w}x{h}: aspect {max(w, h) / min(w, h):.1f} > {HARD_MAX_ASPECT}")
    try:
        rgb, icc = to_srgb(upright(im, orientation))
    except Exception as e:  # noqa: BLE001 - every failure becomes this file's reason (curation.diagnose)
        return _failed(rec, *classify(e, "normalise", head, im, said()))
    out = rgb.resize(output_size((w, h), settings.load_size), _RESAMPLE[settings.resample], reducing_gap=_REDUCING_GAP)
    out.info = {}  # sRGB pixels and nothing else: no comment, density or profile of the raw file is carried over
    lost_icc = f"ICC profile {icc}" if icc and icc != "converted" else None
    notes = "; ".join(n for n in (note, lost_icc) if n) or None
    staged, pixels = _stage(out, rec.sha256, settings)
    grey = out.convert("L")  # ITU-R 601 luma
    return replace(
        rec, ok=True, width=w, height=h, icc=icc, detail=notes, pixel_hash=pixels, **_metrics(out, grey),
        staged=staged, **_defects(grey, im),
    )  # fmt: skip


def _defects(grey: Image.Image, im: Image.Image) -> dict[str, Any]:
    """What else tells a degraded copy from its original (`curation.policy.rank_keys`; filled corners: `_metrics`): the
    share of pixels clipped to white (of `grey`, the resized copy's luma), and the JPEG quantisation step."""
    a = np.asarray(grey)  # (h, w)
    tables = getattr(im, "quantization", None) or {}
    quant = round(float(np.mean(tables[0])), 2) if 0 in tables else None
    return {"clipped": round(float((a >= 250).mean()), 4), "quant": quant}


def _metrics(out: Image.Image, grey_out: Image.Image) -> dict[str, Any]:
    """Variance and chroma from a 64x64 box-filtered thumbnail of the resized image; phash and the signature
    (`curation.verify.describe`) from the same thumbnail of its content, without a plain border (a letterbox:
    distinct pictures in one frame must not look alike by it, nor a copy differ by it), or of the picture turned back
    where `grey_out` (the resized image's luma) shows it rotated inside its frame (`filled_rotation`)."""
    thumb = out.resize((_METRIC_SIDE, _METRIC_SIDE), Image.Resampling.BOX)
    grey = thumb.convert("L")  # ITU-R 601 luma, as phash uses
    rgb = np.asarray(thumb)  # (64, 64, 3) uint8
    grey_values = np.asarray(grey)  # (64, 64) uint8
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    chroma = (np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)).ravel()  # (4096,)
    k = int(0.99 * (chroma.size - 1))
    angle = filled_rotation(grey_out)
    box = None if angle is not None else content_box(rgb, grey_values, out.size)
    if angle is not None:  # a copy rotated with its corners filled: its content is the picture turned back
        content = _turned_back(out, angle).resize((_METRIC_SIDE, _METRIC_SIDE), Image.Resampling.BOX).convert("L")
    elif box is not None:
        content = out.resize((_METRIC_SIDE, _METRIC_SIDE), Image.Resampling.BOX, box).convert("L")
    else:
        content = grey
    return {
        "grey_std": round(float(grey_values.astype(np.float32).std()), 3),
        "chroma": float(np.partition(chroma, k)[k]),
        "phash": phash_hex(phash(content)),
        "signature": describe(content, None if content is grey else grey),
        "corners": angle is not None,
    }


def filled_rotation(grey: Image.Image) -> float | None:
    """The angle (degrees, counter-clockwise) the grey image `grey` was rotated by inside its own frame, its corners
    filled dark, when its dark pixels are those corners (the best of the angles up to MAX_FILLED_ROTATION matches them
    at least _FILL_MATCH, intersection over union, on a small copy); None otherwise."""
    small = grey.copy()
    small.thumbnail((96, 96), Image.Resampling.BOX)
    dark = np.asarray(small) <= _DARK
    if dark.mean() < 0.002 or not (dark[0, 0] and dark[0, -1] and dark[-1, 0] and dark[-1, -1]):
        return None
    best, angle = _fit_corners(dark, np.arange(-MAX_FILLED_ROTATION, MAX_FILLED_ROTATION + 0.01, 0.5))
    if best < _FILL_MATCH or abs(angle) < 0.75:
        return None
    larger = grey.copy()
    larger.thumbnail((256, 256), Image.Resampling.BOX)  # the angle to a tenth of a degree, on a larger copy
    return _fit_corners(np.asarray(larger) <= _DARK, np.arange(angle - 0.5, angle + 0.51, 0.1))[1]


def _fit_corners(dark: np.ndarray, angles: np.ndarray) -> tuple[float, float]:
    """(intersection over union, angle) of the angle among `angles` whose filled corners best match `dark` (h, w)."""
    filled = _filled(dark.shape, tuple(angles.tolist()))  # (A, h * w)
    flat = dark.reshape(-1)
    inter = filled[:, flat].sum(axis=1)
    union = filled.sum(axis=1) + flat.sum() - inter
    iou = inter / np.maximum(1, union)
    best = int(np.argmax(iou))  # the first of equals, as the angles are tried in order
    return float(iou[best]), round(float(angles[best]), 2)


@lru_cache(maxsize=32)
def _filled(shape: tuple[int, int], angles: tuple[float, ...]) -> np.ndarray:
    """(A, h * w) bool: the corners a frame of `shape` (h, w) rotated by each angle leaves empty (Pillow's rotation
    of a white frame, under half lit). Made once per shape and angles: copies of one size share them."""
    frame = Image.new("L", shape[::-1], 255)
    return np.stack([np.asarray(frame.rotate(a, Image.Resampling.BILINEAR)).reshape(-1) < 128 for a in angles])


def _turned_back(out: Image.Image, angle: float) -> Image.Image:
    """`out` rotated back by `angle`, the corners it lost filled with its mean colour (no dark triangles to hash)."""
    rgb = np.asarray(out)
    lit = rgb.max(axis=2) > _DARK
    fill = tuple(int(c) for c in rgb[lit].mean(axis=0)) if lit.any() else (0, 0, 0)
    return out.rotate(-angle, Image.Resampling.BICUBIC, fillcolor=fill)


def _stage(out: Image.Image, sha256: str, settings: DecodeSettings) -> tuple[str, str]:
    """Write the resized copy; return its path under staging and a hash of its bytes (the dataset's file: equal for
    the same picture in different files, which the encoder, given the same pixels, writes byte for byte alike).

    A new file is written in place (created exclusively: never a partial file over a complete one; a partial one left
    by a crash has no analysis stored, so it is written again); one already there is replaced atomically."""
    buf = io.BytesIO()
    if settings.output_format == "jpg":
        out.save(buf, "JPEG", quality=settings.jpeg_quality, subsampling=0)
    else:
        out.save(buf, "PNG", compress_level=3)
    data = buf.getbuffer()
    path = staged_path(settings.staging, sha256, settings.output_format)
    try:
        _write_new(path, data)
    except FileExistsError:
        write_atomic(path, data)
    return str(path.relative_to(settings.staging)), hashlib.sha256(data).hexdigest()[:32]


def _write_new(path: Path, data: memoryview) -> None:
    """Create `path` (not there yet) with these bytes; its folder too if it is the folder's first file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileNotFoundError:  # the first file of its folder: create the folder only then, not for every file
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
