"""Tests for curation.geometry: a copy's keypoints agree with its original's under one plausible transform, those of
distinct alike scenes do not; on staged copies made as the decode stage makes them."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from curation.config import CurationConfig
from curation.decode import DecodeSettings, analyse_file
from curation.geometry import (
    FeatureCache,
    Geometry,
    agreement,
    features,
    load_grey,
    needed,
)
from sakura.synthetic import street_scene
from tests.support import curation_streets as cs

POLICY = CurationConfig().dedup
MIN_INLIERS = POLICY.min_inliers
MIN_SHARE, STRONG_SHARE, MIN_DENSE, STRONG_DENSE = (POLICY.min_share, POLICY.strong_share, POLICY.min_dense,
                                                   POLICY.strong_dense)  # fmt: skip


class Staged:
    """Staged copies of generated files, made as the decode stage makes them; their keypoints by index."""

    def __init__(self, tmp) -> None:
        self.tmp, self.settings, self.paths = tmp, DecodeSettings.of(CurationConfig(), tmp / "staged"), []
        self.cache = FeatureCache(lambda i: load_grey(self.paths[i]))

    def add(self, data: bytes) -> int:
        path = self.tmp / f"{len(self.paths)}.jpg"
        path.write_bytes(data)
        rec = analyse_file("A", str(path), path.name, self.settings)
        assert rec.ok, rec.detail
        self.paths.append(self.tmp / "staged" / rec.staged)
        return len(self.paths) - 1


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Staged:
    return Staged(tmp_path_factory.mktemp("geometry"))


@pytest.mark.parametrize("kind", cs.TARGET_KINDS)
def test_every_copy_of_a_target_kind_agrees_with_its_original(staged, kind):
    for seed in range(4):
        im = cs.street("AB"[seed % 2], 10 + seed)
        a, b = staged.add(cs.jpeg(im)), staged.add(cs.transformed(im, kind, random.Random(seed)))
        g = staged.cache.verify(a, b, POLICY)
        assert g.same(POLICY) and g.mirrored == (kind == "hflip"), (kind, seed, g)


@pytest.mark.parametrize("make", [cs.street, street_scene], ids=["varied streets", "sakura.synthetic streets"])
def test_distinct_alike_scenes_do_not_agree(staged, make):
    """20 distinct pictures of one composition per domain, every pair, mirrored too: none is the same picture."""
    for domain in "AB":
        at = [staged.add(cs.jpeg(make(domain, 50 + i))) for i in range(20)]
        got = [staged.cache.verify(a, b, POLICY) for k, a in enumerate(at) for b in at[k + 1 :]]
        assert not any(g.same(POLICY) for g in got), max(got, key=lambda g: g.inliers)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    cut=st.floats(0.0, 0.10),
    at=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    bright=st.floats(0.8, 1.25),
    quality=st.integers(30, 95),
    scale=st.floats(0.5, 1.0),
    mirror=st.booleans(),
)
def test_any_crop_up_to_10_percent_resized_brightened_recompressed_or_mirrored_agrees(
    staged, seed, cut, at, bright, quality, scale, mirror
):
    im = cs.street("AB"[seed % 2], seed)
    copy = cs.window(im, cut, at)
    cw, ch = copy.size
    f = max(scale, 300 / min(cw, ch))  # uniformly, down to a shorter side of 300 at most
    copy = cs.brightened(copy.resize((round(cw * f), round(ch * f)), Image.Resampling.LANCZOS), bright)
    if mirror:
        copy = copy.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    a, b = staged.add(cs.jpeg(im)), staged.add(cs.jpeg(copy, quality))
    g = staged.cache.verify(a, b, POLICY, mirror_first=not mirror)  # the wrong way round first
    assert g.same(POLICY) and g.mirrored == mirror, g


def test_the_transform_must_be_one_a_copy_makes_and_the_pixels_must_agree():
    ok = Geometry(inliers=200, share=0.6, scale=1.1, rotation=2.0, dense=0.9, aspect=1.2, shear=0.02, keypoints=300)
    assert ok.same(POLICY)
    few = replace(ok, inliers=18, share=0.4, keypoints=45, dense=0.6)  # a soft picture: 15 of its 45 keypoints needed
    assert few.same(POLICY) and not replace(few, inliers=14).same(POLICY)
    # too soft for keypoints to decide: the pixels alone, strongly
    assert replace(few, inliers=0, share=0.0, dense=STRONG_DENSE).same(POLICY)
    assert not replace(few, inliers=0, share=0.0, dense=STRONG_DENSE - 0.01).same(POLICY)
    assert not replace(ok, inliers=0, share=0.0, dense=0.99).same(POLICY)  # a picture with keypoints needs them
    # keypoints and pixels both fair and one of them strong: a fair share needs strong pixels
    weak = replace(ok, share=(MIN_SHARE + STRONG_SHARE) / 2, dense=(MIN_DENSE + STRONG_DENSE) / 2)
    assert not weak.same(POLICY)
    assert replace(weak, share=STRONG_SHARE).same(POLICY) and replace(weak, dense=STRONG_DENSE).same(POLICY)
    assert needed(POLICY, 300) == MIN_INLIERS and needed(POLICY, 45) == 15 and needed(POLICY, 9) == 12
    for bad in (dict(scale=2.5), dict(scale=0.3), dict(scale=-1.0), dict(rotation=45.0), dict(aspect=2.0),
                dict(shear=0.3), dict(inliers=MIN_INLIERS - 1), dict(share=0.1), dict(dense=0.2)):  # fmt: skip
        assert not replace(ok, **bad).same(POLICY), bad


def test_a_copy_resized_to_another_aspect_agrees(staged):
    im = cs.street("B", 7, (800, 600))
    a, b = staged.add(cs.jpeg(im)), staged.add(cs.jpeg(im.resize((600, 600), Image.Resampling.LANCZOS), 60))
    g = staged.cache.verify(a, b, POLICY)
    assert g.same(POLICY) and g.aspect == pytest.approx(0.75, abs=0.05), g  # x squeezed by 3/4 against y


def test_a_plain_image_has_no_keypoints_and_agrees_with_nothing():
    flat = features(Image.new("L", (400, 300), 128))
    some = features(cs.street("A", 1).convert("L"))
    assert len(flat) == 0 and len(some) > MIN_INLIERS
    g = agreement(flat, some, POLICY)
    assert g.inliers == 0 and g.keypoints == 0 and g.dense == 0.0 and not g.same(POLICY)
    assert not agreement(flat, flat, POLICY).same(POLICY)


def test_keypoints_are_found_at_a_bounded_size():
    big = features(cs.street("B", 2, (1024, 768)).convert("L"))
    assert len(big) > MIN_INLIERS and (big.points.max(axis=0) <= [256, 256 * 768 / 1024]).all(), big.points.max(0)


def test_the_first_image_of_a_pair_is_the_one_mirrored(tmp_path, monkeypatch):
    """An original compared with its mirrored copies is mirrored itself, once for all of them: each copy's keypoints
    are found as it is, whichever way round the hint says to try first."""
    import curation.geometry as geometry

    staged, found, loading, real = Staged(tmp_path), [], [], geometry.features

    def load(i: int) -> Image.Image:
        loading.append(i)
        return load_grey(staged.paths[i])

    def recorded(grey: Image.Image, mirror: bool = False) -> geometry.Features:
        found.append((loading[-1], mirror))  # one thread: the image loaded last
        return real(grey, mirror)

    staged.cache = FeatureCache(load, threads=1)
    monkeypatch.setattr(geometry, "features", recorded)
    im = cs.street("A", 3)
    original = staged.add(cs.jpeg(im))
    copies = [staged.add(cs.transformed(im, "hflip", random.Random(seed))) for seed in range(3)]
    hints = (True, False, True)  # the second is tried the wrong way round first: the original as it is
    got = staged.cache.verify_many([(original, c, h) for c, h in zip(copies, hints, strict=True)], POLICY)
    assert all(g.same(POLICY) and g.mirrored for g in got), got
    assert set(found) == {(original, True), (original, False), *((c, False) for c in copies)}, found
    assert found.count((original, True)) == 1
