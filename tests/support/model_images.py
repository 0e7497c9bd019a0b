"""Awkward test images: grayscale, RGBA, palette, 16-bit, odd sizes, EXIF-rotated, corrupt, every mode and format."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def gradient(w: int, h: int) -> Image.Image:
    """An RGB image whose left column is red and top row is dark, so orientation is visible."""
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    arr = np.stack([255 - x, y, np.full_like(x, 90)], axis=2).astype(np.uint8)
    return Image.fromarray(arr)


def write_awkward(folder: Path) -> dict[str, Path]:
    """One file per awkward case; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    out["odd"] = folder / "odd.png"
    gradient(37, 23).save(out["odd"])
    out["gray"] = folder / "gray.png"
    gradient(40, 30).convert("L").save(out["gray"])
    rgba = gradient(30, 34).convert("RGBA")
    alpha = Image.new("L", (30, 34), 255)
    alpha.paste(0, (0, 0, 10, 10))  # transparent top-left corner
    rgba.putalpha(alpha)
    out["rgba"] = folder / "rgba.png"
    rgba.save(out["rgba"])
    out["palette"] = folder / "palette.gif"
    gradient(33, 21).convert("P").save(out["palette"], transparency=0)
    out["gray16"] = folder / "gray16.png"
    Image.fromarray((np.arange(30 * 26).reshape(26, 30) * 80).astype(np.uint16)).save(out["gray16"])
    im = gradient(48, 20)  # stored 48 x 20, displayed 20 x 48 after the EXIF rotation
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    out["exif"] = folder / "exif.jpg"
    im.save(out["exif"], exif=exif, quality=95)
    return out


MODES = ("RGB", "L", "RGBA", "LA", "P", "I;16", "CMYK", "1")
FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "bmp": "BMP", "tif": "TIFF", "webp": "WEBP"}
SAVABLE = {  # modes each format writes
    "PNG": {"RGB", "L", "RGBA", "LA", "P", "I;16", "1"},
    "JPEG": {"RGB", "L", "CMYK"},
    "GIF": {"P", "L", "1"},
    "BMP": {"RGB", "L", "P", "1"},
    "TIFF": {"RGB", "L", "RGBA", "CMYK", "I;16", "1", "P"},
    "WEBP": {"RGB", "RGBA"},
}


def encode(w: int, h: int, mode: str, fmt: str, orientation: int = 1, frames: int = 1, seed: int = 0) -> bytes:
    """A w x h image in `mode` encoded as `fmt` (falls back to RGB where the format cannot hold the mode); EXIF
    orientation for JPEG, several frames for GIF, palette transparency for PNG."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    if mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    else:
        im = base.convert(mode)
    if im.mode not in SAVABLE[fmt]:
        im = base
    buf = io.BytesIO()
    kw: dict = {}
    if fmt == "JPEG" and orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif
    if fmt == "GIF" and frames > 1:
        kw.update(save_all=True, append_images=[im.rotate(90 * k) for k in range(1, frames)])
    if fmt == "PNG" and im.mode == "P":
        kw["transparency"] = 0
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def png_with_declared_size(width: int, height: int) -> bytes:
    """A valid 8x8 PNG whose header claims width x height (CRC fixed), as a decompression bomb does."""
    data = bytearray(encode(8, 8, "RGB", "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)
