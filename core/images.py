"""The one image normalisation every stage uses: any Pillow image -> 8-bit sRGB RGB, the way curation stores it."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


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


def load_rgb(path: str | Path) -> Image.Image:
    """Open any image file as 8-bit sRGB RGB: EXIF orientation applied, then `to_srgb`."""
    with Image.open(path) as im:
        im.load()
        return to_srgb(ImageOps.exif_transpose(im))[0]


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
