"""The ``alley`` paired renderer: deterministic, exact season mask, sane canopy, varied scenes."""

import numpy as np
import pytest
from PIL import Image

from benchmarks.paired import alley


def _arrays(seed, size=64):
    g, b, m = alley.render(seed, size)
    return np.asarray(g), np.asarray(b), m


def test_name():
    assert alley.NAME == "alley"


@pytest.mark.parametrize("size", [64, 256, 512])
def test_sizes_and_types(size):
    g, b, m = alley.render(3, size)
    assert isinstance(g, Image.Image) and isinstance(b, Image.Image)
    assert g.mode == "RGB" and b.mode == "RGB"
    assert g.size == (size, size) and b.size == (size, size)
    assert isinstance(m, np.ndarray) and m.dtype == bool and m.shape == (size, size)
    assert m.any() and not m.all()


def test_deterministic():
    for seed in (0, 7):
        g1, b1, m1 = _arrays(seed, 96)
        g2, b2, m2 = _arrays(seed, 96)
        assert np.array_equal(g1, g2) and np.array_equal(b1, b2) and np.array_equal(m1, m2)


def test_mask_is_exactly_the_changed_pixels():
    for seed in range(20, 28):
        g, b, m = _arrays(seed, 80)
        assert np.array_equal((g != b).any(-1), m)
        assert np.array_equal(g[~m], b[~m])


def test_canopy_fraction_and_variety():
    fracs, greens = [], []
    for seed in range(20):
        g, b, m = _arrays(seed, 64)
        fracs.append(m.mean())
        greens.append(g)
    fracs = np.array(fracs)
    assert 0.15 <= fracs.mean() <= 0.45, fracs
    assert fracs.min() > 0.02 and fracs.max() < 0.75, fracs
    assert fracs.std() > 0.03  # canopy size varies by seed
    for i in range(len(greens)):
        for j in range(i + 1, len(greens)):
            assert np.abs(greens[i].astype(int) - greens[j].astype(int)).mean() > 5


def test_season_changes_canopy_not_flat():
    g, b, m = _arrays(5, 128)
    gm, bm = g[m].astype(float), b[m].astype(float)
    # foliage is greener than blossom, blossom redder; both textured, not flat colour
    assert (gm[:, 1] - gm[:, 0]).mean() > (bm[:, 1] - bm[:, 0]).mean() + 10
    assert gm.std(0).mean() > 8 and bm.std(0).mean() > 8
