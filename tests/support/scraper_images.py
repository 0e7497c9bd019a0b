"""Tiny deterministic test images (distinct bytes per name) for the scraper tests and benchmark."""

from __future__ import annotations

import functools
import hashlib
import io

import numpy as np
from PIL import Image


@functools.lru_cache(maxsize=4096)
def image_bytes(name: str, size: tuple[int, int] = (64, 48), fmt: str = "JPEG", noise: bool = False) -> bytes:
    """Encoded image whose pixels depend on `name`: a colour gradient, or noise (bigger files) with noise=True."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    rng = np.random.default_rng(seed)
    w, h = size
    if noise:
        arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    else:
        base = rng.integers(0, 256, 3)
        ramp = np.linspace(0, 120, w, dtype=np.float32)[None, :, None]
        arr = np.clip(base[None, None, :] + ramp + rng.integers(0, 30, (h, 1, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


TINY_PNG_DATA_URI = (  # a 1x1 PNG, the kind of inline thumbnail result pages show first
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
