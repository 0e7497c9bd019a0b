"""Awkward test images: grayscale, RGBA, palette, 16-bit, odd sizes, EXIF-rotated, corrupt."""

from __future__ import annotations

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
