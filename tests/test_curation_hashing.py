"""Tests for curation.hashing: phash equals imagehash's, the mirror image's phash from the same DCT, Hamming
distance."""

from __future__ import annotations

import io

import imagehash
import numpy as np
import pytest
from PIL import Image

from curation.hashing import hamming, phash, phash_and_mirror, phash_hex
from tests.support import curation_images as ci


@pytest.mark.parametrize("seed, size", [(1, (64, 64)), (2, (480, 360)), (3, (300, 700)), (4, (33, 1000))])
def test_phash_bit_for_bit_equal_to_imagehash(seed, size):
    im = ci.scene(seed, size) if min(size) > 40 else Image.fromarray(np.random.default_rng(seed).integers(
        0, 256, (size[1], size[0], 3), dtype=np.uint8))  # fmt: skip
    assert phash_hex(phash(im)) == str(imagehash.phash(im))


def test_phash_separates_distinct_and_matches_recompressed():
    a, b = ci.scene(5), ci.scene(6)
    a30 = Image.open(io.BytesIO(ci.recompressed(a)))
    assert hamming(phash(a), phash(a30)) <= 4
    assert hamming(phash(a), phash(b)) > 12


@pytest.mark.parametrize("a, b, d", [(0, 0, 0), (0, 1, 1), (0, 2**64 - 1, 64), (0xF0F0, 0x0F0F, 16)])
def test_hamming(a, b, d):
    assert hamming(a, b) == d


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mirror_phash_is_the_phash_of_the_mirror_image(seed):
    im = ci.scene(seed, (480, 360))
    h, mirror = phash_and_mirror(im)
    flipped, flipped_mirror = phash_and_mirror(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert h == phash(im)
    assert hamming(mirror, flipped) <= 2 and hamming(h, flipped_mirror) <= 2
    assert hamming(h, flipped) > 12  # phash itself is not mirror-invariant
