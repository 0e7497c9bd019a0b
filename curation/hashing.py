"""Image hashes: the 64-bit perceptual hash (phash) of an image and of its mirror image, and Hamming distance."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

PHASH_SIZE = 8  # bits per side: 8 x 8 = 64 bits
PHASH_SCALE = 4  # the grey image is PHASH_SIZE * PHASH_SCALE = 32 pixels a side


@lru_cache(maxsize=4)
def _dct_matrix(n: int) -> np.ndarray:
    """Unnormalised DCT-II basis C[k, i] = cos(pi k (2i + 1) / 2n); C @ x is scipy's dct(x) / 2."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    return np.cos(np.pi * k * (2 * i + 1) / (2 * n))


def _low_frequencies(image: Image.Image) -> np.ndarray:
    """(8, 8) top-left DCT coefficients of the image, grey at 32x32 LANCZOS, indexed [vertical, horizontal]."""
    n = PHASH_SIZE * PHASH_SCALE
    grey = np.asarray(image.convert("L").resize((n, n), Image.Resampling.LANCZOS), dtype=np.float64)  # (32, 32)
    c = _dct_matrix(n)[:PHASH_SIZE]  # (8, 32)
    return (c @ grey.T @ c.T).T  # rows follow imagehash's dct(dct(x, axis=0), axis=1) transposed


def _bits(low: np.ndarray) -> int:
    return int(np.packbits((low > np.median(low)).ravel()).view(">u8")[0])


# Mirroring an image left to right negates its DCT coefficients of odd horizontal frequency.
_MIRROR = np.array([(-1.0) ** u for u in range(PHASH_SIZE)])[None, :]


def phash(image: Image.Image) -> int:
    """The 64-bit perceptual hash of `image` as an unsigned int, bit for bit the one of `imagehash.phash`.

    Grey, 32x32 LANCZOS, 2-D DCT, keep the top-left 8x8 coefficients, bit = coefficient > their median;
    the first coefficient is the most significant bit.
    """
    return _bits(_low_frequencies(image))


def phash_and_mirror(image: Image.Image) -> tuple[int, int]:
    """(phash of `image`, phash of `image` mirrored left to right), from one DCT: a mirrored copy's phash equals the
    original's mirror phash (to within the resampling's rounding)."""
    low = _low_frequencies(image)
    return _bits(low), _bits(low * _MIRROR)


def phash_hex(value: int) -> str:
    """The 16-digit hex form of a 64-bit hash (the same text as `str(imagehash.phash(...))`)."""
    return f"{value:016x}"


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return (a ^ b).bit_count()
