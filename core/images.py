"""The one image normalisation every stage uses: any Pillow image -> 8-bit sRGB RGB, the way curation stores it."""

from __future__ import annotations

import importlib
import io
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_T = Image.Transpose
# EXIF orientation -> the transpose that shows the picture upright (as ImageOps.exif_transpose does)
_UPRIGHT = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE, 6: _T.ROTATE_270,
            7: _T.TRANSVERSE, 8: _T.ROTATE_90}  # fmt: skip
# What unreadable metadata raises in Pillow's EXIF parser
_METADATA_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, KeyError)
# Pillow plugins that register themselves when imported (pillow-heif needs a call), used when they are installed
_PLUGINS = {"pillow_heif": "register_heif_opener", "pillow_avif": None, "pillow_jxl": None}


def to_srgb(im: Image.Image) -> tuple[Image.Image, str | None]:
    """`im` as 8-bit sRGB RGB: alpha composited on white, 16-bit scaled to 8, ICC profile converted to sRGB.

    Returns the image and what happened to its ICC profile: None (none), 'converted' or an error text (the
    pixels are then taken as sRGB).
    """
    icc_bytes = im.info.get("icc_profile")
    if im.mode.startswith("I") or im.mode == "F":
        im = _high_bit_depth_to_l(im)
    elif im.mode in _ALPHA_MODES or (im.mode == "P" and "transparency" in im.info):
        rgba = (im.convert("LA") if im.mode == "La" else im).convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    elif im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    if not icc_bytes:
        return (im if im.mode == "RGB" else im.convert("RGB")), None
    try:
        return ImageCms.applyTransform(im, _to_srgb_transform(icc_bytes, im.mode)), "converted"
    except (ImageCms.PyCMSError, OSError, ValueError) as e:
        return im.convert("RGB"), f"not applied: {e}"[:120]


def load_rgb(path: str | Path) -> Image.Image:
    """Open any image file as 8-bit sRGB RGB: EXIF orientation applied, then `to_srgb`."""
    optional_plugins()
    with Image.open(path) as im:
        im.load()
        return to_srgb(upright(im, exif_orientation(im)[0]))[0]


def exif_orientation(im: Image.Image) -> tuple[int, str | None]:
    """The EXIF (or XMP) orientation 1-8 and None; 1 and what is wrong when that metadata is unreadable or out of
    range (broken metadata never stops a picture: it is then shown as stored)."""
    try:
        value = im.getexif().get(0x0112, 1)
    except _METADATA_ERRORS as e:
        return 1, f"EXIF unreadable ({type(e).__name__}: {e}); orientation not applied"[:160]
    if isinstance(value, int) and 1 <= value <= 8:
        return value, None
    return 1, f"EXIF orientation {value!r} is not 1-8; not applied"[:160]


def upright(im: Image.Image, orientation: int) -> Image.Image:
    """`im` turned and flipped as EXIF `orientation` says (the image itself when it is 1)."""
    method = _UPRIGHT.get(orientation)
    return im if method is None else im.transpose(method)


@lru_cache(maxsize=1)
def optional_plugins() -> tuple[str, ...]:
    """Register the Pillow plugins that are installed among pillow-heif (HEIC), pillow-avif-plugin and
    pillow-jxl-plugin; return their names. None is required: without them those files are reported, not read."""
    found = []
    for name, register in _PLUGINS.items():
        try:
            module = importlib.import_module(name)
        except (ImportError, OSError):  # not installed, or its native library does not load
            continue
        if register:
            getattr(module, register)()
        found.append(name)
    return tuple(found)


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
