"""The `boulevard` paired renderer: deterministic, exact masks, sane canopy cover, varied scenes and cars."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks.paired import boulevard

SEEDS = range(20)


@pytest.fixture(scope="module")
def scenes() -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    out = {}
    for seed in SEEDS:
        g, b, m = boulevard.render(seed, 96)
        out[seed] = (np.asarray(g), np.asarray(b), m)
    return out


def test_interface() -> None:
    assert boulevard.NAME == "boulevard"
    g, b, m = boulevard.render(3)
    assert isinstance(g, Image.Image) and isinstance(b, Image.Image)
    assert g.mode == b.mode == "RGB" and g.size == b.size == (256, 256)
    assert isinstance(m, np.ndarray) and m.dtype == bool and m.shape == (256, 256)


@pytest.mark.parametrize("size", [64, 512])
def test_sizes(size: int) -> None:
    g, b, m = boulevard.render(5, size)
    assert g.size == b.size == (size, size) and m.shape == (size, size)
    assert (np.asarray(g) != np.asarray(b)).any(-1).tolist() == m.tolist()
    assert 0.02 < m.mean() < 0.8


def test_deterministic() -> None:
    a = boulevard.render(11, 96)
    b = boulevard.render(11, 96)
    assert np.array_equal(np.asarray(a[0]), np.asarray(b[0]))
    assert np.array_equal(np.asarray(a[1]), np.asarray(b[1]))
    assert np.array_equal(a[2], b[2])


def test_mask_is_exactly_what_differs(scenes) -> None:
    for seed, (g, b, m) in scenes.items():
        diff = (g != b).any(-1)
        assert np.array_equal(diff, m), seed
        assert np.array_equal(g[~m], b[~m]), seed


def test_the_season_changes_the_canopy_a_lot(scenes) -> None:
    for seed, (g, b, m) in scenes.items():
        d = np.abs(g.astype(int) - b.astype(int)).sum(-1)[m]
        assert np.median(d) > 40, seed  # green leaves vs pink/white petals, not a subtle shift
        # blossom is pinker/whiter than the foliage it replaces
        gi, bi = g[m].astype(float), b[m].astype(float)
        assert (bi[:, 0] - bi[:, 1]).mean() > (gi[:, 0] - gi[:, 1]).mean() + 20, seed


def test_canopy_fraction(scenes) -> None:
    frac = np.array([m.mean() for _, _, m in scenes.values()])
    assert 0.12 < frac.mean() < 0.45, frac
    assert frac.min() > 0.01 and frac.max() < 0.75, frac
    assert frac.std() > 0.03, frac  # varies by seed


def test_scenes_differ(scenes) -> None:
    imgs = [g.astype(np.int16) for g, _, _ in scenes.values()]
    for i in range(len(imgs)):
        for j in range(i + 1, len(imgs)):
            assert np.abs(imgs[i] - imgs[j]).mean() > 8, (i, j)


def test_noise_and_vignetting_look_photographic(scenes) -> None:
    g, _, m = scenes[0]
    # sensor noise: no two neighbouring pixels of a flat region are all equal
    assert (np.diff(g.astype(int), axis=1) != 0).mean() > 0.5
    # vignetting: the corners are darker than the centre on average over scenes
    corner = np.mean([g[:9, :9].mean() + g[-9:, -9:].mean() for g, _, _ in scenes.values()]) / 2
    centre = np.mean([g[42:54, 42:54].mean() for g, _, _ in scenes.values()])
    assert corner < centre


def test_cars_many_colours() -> None:
    infos = [boulevard.scene_info(s) for s in range(40)]
    n = [len(i["cars"]) for i in infos]
    assert np.mean(n) >= 5 and min(n) >= 1, n
    colours = {c["colour"] for i in infos for c in i["cars"]}
    assert {"white", "grey", "red", "pink", "blue", "green"} <= colours, colours
    assert any(not c["parked"] for i in infos for c in i["cars"])
    near = [sum(c["z"] < 30 for c in i["cars"]) for i in infos]
    assert np.mean(near) >= 1.5, near  # cars large enough to matter in the frame
