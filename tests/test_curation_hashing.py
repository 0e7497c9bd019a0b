"""Tests for curation.hashing: phash equals imagehash's, window hashes (mirror image, crops), Hamming distance."""

from __future__ import annotations

import io

import imagehash
import numpy as np
import pytest
from PIL import Image

from curation.hashing import hamming, phash, phash_hex, window_hashes
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
def test_window_hashes_of_a_mirror_image_and_of_a_crop(seed):
    im = ci.scene(seed, (480, 360))
    thumb = lambda x: x.resize((64, 64), Image.Resampling.BOX).convert("L")  # noqa: E731
    h = window_hashes(thumb(im))
    assert len(h) == 11 and hamming(int(h[0]), phash(thumb(im))) <= 4  # the whole frame, near imagehash's phash
    mirrored = window_hashes(thumb(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    assert hamming(int(mirrored[0]), int(h[1])) <= 2 and hamming(int(h[0]), int(mirrored[0])) > 12
    w, hh = im.size
    crop = window_hashes(thumb(im.crop((int(0.1 * w), 0, w, int(0.9 * hh)))))  # the window at (0.1, 0)
    assert min(hamming(int(crop[0]), int(x)) for x in h[2:]) == hamming(int(crop[0]), int(h[2 + 2])) <= 6
