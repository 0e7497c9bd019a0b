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
WINDOW = 0.9  # window hashes cover 90% of each side...
WINDOW_OFFSETS = (0.0, 0.05, 0.1)  # ...at these offsets across and down: 9 windows; a crop of up to 10% is near one
N_WINDOW_HASHES = 2 + len(WINDOW_OFFSETS) ** 2  # the whole frame, the whole frame mirrored, the windows


def phash(image: Image.Image) -> int:
    """The 64-bit perceptual hash of `image` as an unsigned int, bit for bit the one of `imagehash.phash`.

    Grey, 32x32 LANCZOS, 2-D DCT, keep the top-left 8x8 coefficients, bit = coefficient > their median;
    the first coefficient is the most significant bit.
    """
    return _bits(_low_frequencies(image))


def _area_matrix(start: float, length: float, n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix averaging the input span [start, start + length) into n_out equal cells (box filter)."""
    m = np.zeros((n_out, n_in))
    edges = start + length * np.arange(n_out + 1) / n_out
    for i in range(n_out):
        lo, hi = edges[i], edges[i + 1]
        for j in range(int(np.floor(lo)), min(n_in, int(np.ceil(hi)))):
            m[i, j] = max(0.0, min(hi, j + 1) - max(lo, j))
        m[i] /= m[i].sum()
    return m


@lru_cache(maxsize=2)
def _window_bases(side: int) -> np.ndarray:
    """(1 + 3, 8, side) per span of a side (the whole side first, then 90% at each offset): the DCT's low rows composed
    with box resampling of the span to 32 samples, so that `A @ grey @ B.T` is a window's 8x8 low frequencies."""
    n = PHASH_SIZE * PHASH_SCALE
    c = _dct_matrix(n)[:PHASH_SIZE]  # (8, 32)
    spans = [(0.0, 1.0)] + [(o, WINDOW) for o in WINDOW_OFFSETS]
    return np.stack([c @ _area_matrix(o * side, k * side, side, n) for o, k in spans])


def window_hashes(grey: Image.Image) -> np.ndarray:
    """(N_WINDOW_HASHES,) uint64 phash-like hashes of a square grey thumbnail: the whole frame, the whole frame
    mirrored, then the 9 windows of 90% (row by row). A copy cropped by up to 10% has its whole-frame hash near one
    window hash of the original; a mirrored copy has its whole-frame hash near the original's mirrored one."""
    g = np.asarray(grey, dtype=np.float64)
    bases = _window_bases(g.shape[0])  # (4, 8, side): the whole frame, then the spans at each offset
    rows = bases @ g  # (4, 8, side): each span's vertical low frequencies
    full = rows[0] @ bases[0].T  # (8, 8) [vertical, horizontal], as phash
    windows = rows[1:, None] @ bases[None, 1:].transpose(0, 1, 3, 2)  # (3, 3, 8, 8): [window y, window x]
    low = np.concatenate([full[None], (full * _MIRROR)[None], windows.reshape(-1, PHASH_SIZE, PHASH_SIZE)])
    flat = low.reshape(len(low), -1)  # (11, 64)
    bits = flat > np.median(flat, axis=1, keepdims=True)
    return np.packbits(bits, axis=1).view(">u8")[:, 0].astype(np.uint64)


def phash_hex(value: int) -> str:
    """The 16-digit hex form of a 64-bit hash (the same text as `str(imagehash.phash(...))`)."""
    return f"{value:016x}"


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return (a ^ b).bit_count()
