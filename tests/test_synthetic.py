"""Tests for sakura.synthetic: procedural street scenes for demos and tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sakura.synthetic import street_scene
from tests.support.synthetic_files import write_scenes


def _shares(img: Image.Image) -> tuple[float, float]:
    """Shares of green-leaf and pink-blossom pixels."""
    r, g, b = np.moveaxis(np.asarray(img, dtype=np.int16), -1, 0)  # each (H, W)
    green = (g > r + 15) & (g > b + 15)
    pink = (r > g + 25) & (b > g)
    return float(green.mean()), float(pink.mean())


def test_deterministic_per_domain_and_seed():
    assert street_scene("A", 3).tobytes() == street_scene("A", 3).tobytes()
    assert street_scene("A", 3).tobytes() != street_scene("A", 4).tobytes()
    assert street_scene("A", 3).tobytes() != street_scene("B", 3).tobytes()


@pytest.mark.parametrize("seed", range(5))
def test_domains_differ_in_canopy_colour(seed):
    green_a, pink_a = _shares(street_scene("A", seed))
    green_b, pink_b = _shares(street_scene("B", seed))
    assert green_a > 0.15 and pink_a < 0.01
    assert pink_b > 0.15 and green_b < 0.01


def test_write_scenes(tmp_path):
    paths = write_scenes(tmp_path, "B", 3, start=10, size=(300, 200))
    assert [p.name for p in paths] == ["b_00010.jpg", "b_00011.jpg", "b_00012.jpg"]
    with Image.open(paths[0]) as im:
        assert im.size == (300, 200) and im.format == "JPEG"


def test_unknown_domain():
    with pytest.raises(ValueError, match="allowed: A or B"):
        street_scene("C", 0)
