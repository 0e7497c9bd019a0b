"""Tests for curation.verify: the same picture scores high whatever was done to it, distinct alike scenes score low."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from curation.config import CurationConfig
from curation.decode import DecodeSettings, analyse_file
from curation.search import window_distance
from curation.verify import SIGNATURE_BYTES, content_box, describe, hashes, prepare, scored, scores
from sakura.synthetic import street_scene
from tests.support import curation_streets as cs

MIN_SCORE = CurationConfig().dedup.min_score  # every copy must reach it: below it no keypoints are matched
# The score's own calibration on these generators: the cut it alone decided at before keypoints did (issue 21: soft
# photos from elsewhere pass it, which is why keypoints decide now); distinct pictures here still score below it.
CALIBRATED = 0.8


def _signature(tmp_path, name: str, data: bytes) -> bytes:
    """The signature the decode stage stores for a file with these bytes."""
    path = tmp_path / name
    path.write_bytes(data)
    rec = analyse_file("A", str(path), name, DecodeSettings.of(CurationConfig(), tmp_path / "staged"))
    assert rec.ok, rec.detail
    return rec.signature


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """Signatures of 8 street photos per domain and of one copy of each of every kind: {(domain, seed): {kind: sig}}."""
    tmp = tmp_path_factory.mktemp("copies")
    out = {}
    for domain in "AB":
        for seed in range(8):
            im = cs.street(domain, seed)
            rng = random.Random(seed)
            sigs = {"orig": _signature(tmp, f"{domain}{seed}.jpg", cs.jpeg(im))}
            for kind in cs.KINDS:
                sigs[kind] = _signature(tmp, f"{domain}{seed}_{kind}.jpg", cs.transformed(im, kind, rng))
            out[(domain, seed)] = sigs
    return out


def _score(a: bytes, b: bytes) -> float:
    return float(scores(prepare([a, b]), np.array([[0, 1]]))[0])


@pytest.mark.parametrize("kind", cs.TARGET_KINDS)
def test_every_copy_of_a_target_kind_scores_as_the_same_picture(copies, kind):
    got = {key: _score(sigs["orig"], sigs[kind]) for key, sigs in copies.items()}
    assert min(got.values()) >= MIN_SCORE, got


def test_scores_are_symmetric_and_one_for_itself(copies):
    sigs = copies[("B", 3)]
    prep = prepare([sigs["orig"], sigs["crop10"], sigs["hflip"]])
    forward = scores(prep, np.array([[0, 1], [0, 2], [0, 0]]))
    backward = scores(prep, np.array([[1, 0], [2, 0], [0, 0]]))
    assert np.allclose(forward, backward, atol=1e-5) and forward[2] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("domain", ["A", "B"])
@pytest.mark.parametrize("make", [cs.street, street_scene], ids=["varied streets", "sakura.synthetic streets"])
def test_distinct_alike_scenes_score_below_the_threshold(tmp_path, domain, make):
    """60 distinct pictures of one composition: no pair of them reaches the score's calibration, however close their
    hashes (keypoints decide above min_score: tests/test_curation_geometry.py)."""
    sigs = [_signature(tmp_path, f"{i}.jpg", cs.jpeg(make(domain, i))) for i in range(60)]
    i, j = np.triu_indices(len(sigs), 1)
    got = scores(prepare(sigs), np.stack([i, j], axis=1))
    assert got.max() < CALIBRATED, (got.max(), np.sort(got)[-5:])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    domain=st.sampled_from("AB"),
    cut=st.floats(0.0, 0.10),
    at=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    bright=st.floats(0.85, 1.15),
    quality=st.integers(40, 95),
    scale=st.floats(0.4, 1.0),
    mirror=st.booleans(),
)
def test_any_crop_up_to_10_percent_resized_brightened_recompressed_or_mirrored_verifies(
    tmp_path, seed, domain, cut, at, bright, quality, scale, mirror
):
    """All of them at once, milder than each alone above (brightness x1.25 and quality 30 together with a crop clip
    the blossoms' detail away: 0.76 on one street)."""
    im = cs.street(domain, seed)
    copy = cs.window(im, cut, at)
    cw, ch = copy.size
    copy = copy.resize((max(300, round(cw * scale)), max(300, round(ch * scale))), Image.Resampling.LANCZOS)
    copy = cs.brightened(copy, bright)
    if mirror:
        copy = copy.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    got = _score(_signature(tmp_path, "a.jpg", cs.jpeg(im)), _signature(tmp_path, "b.jpg", cs.jpeg(copy, quality)))
    assert got >= MIN_SCORE


def test_describe_is_deterministic_and_sized():
    grey = cs.street("A", 1).resize((64, 64), Image.Resampling.BOX).convert("L")
    one, two = describe(grey), describe(grey.copy())
    assert one == two and len(one) == SIGNATURE_BYTES


@pytest.mark.parametrize("kind", [*cs.TARGET_KINDS, "pad"])
def test_every_copy_is_within_the_candidate_threshold(copies, kind):
    """The candidate search's distance (whole frame, mirrored or a window) of each copy to its original."""
    got = {
        key: int(window_distance(hashes([sigs["orig"]])[:, 0], hashes([sigs[kind]])[:, 0])[0])
        for key, sigs in copies.items()
    }
    assert max(got.values()) <= CurationConfig().dedup.threshold, got


def test_a_letterbox_does_not_make_distinct_pictures_alike(tmp_path):
    """Signatures describe the content inside a plain border: two letterboxed streets share only their borders."""
    sigs = []
    for seed in range(12):
        im = cs.street("B", seed, (560, 420))
        framed = Image.new("RGB", (560, 520), (0, 0, 0))
        framed.paste(im, (0, 50))
        sigs.append(_signature(tmp_path, f"{seed}.jpg", cs.jpeg(framed)))
    i, j = np.triu_indices(len(sigs), 1)
    assert scores(prepare(sigs), np.stack([i, j], axis=1)).max() < CALIBRATED


@pytest.mark.parametrize(
    "pad, colour",
    [
        ((0, 40, 0, 40), (0, 0, 0)),
        ((60, 0, 60, 0), (255, 255, 255)),
        ((30, 30, 30, 30), (28, 30, 29)),
        ((30, 0, 34, 0), (0, 0, 0)),
        (None, None),
    ],  # fmt: skip
)
def test_content_box_finds_a_plain_border_on_two_opposite_sides(pad, colour):
    im = cs.street("A", 5, (500, 400))
    if pad is not None:
        left, top, right, bottom = pad
        framed = Image.new("RGB", (500 + left + right, 400 + top + bottom), colour)
        framed.paste(im, (left, top))
        im = Image.open(io.BytesIO(cs.jpeg(framed)))
    thumb = im.resize((64, 64), Image.Resampling.BOX)
    box = content_box(np.asarray(thumb), np.asarray(thumb.convert("L")), im.size)
    if pad is None:
        assert box is None
    else:
        want = (pad[0], pad[1], im.width - pad[2], im.height - pad[3])
        assert np.allclose(box, want, atol=0.04 * max(im.size)), (box, want)


@pytest.mark.parametrize("sides", [(0, 60, 0, 0), (60, 0, 0, 0), (0, 0, 0, 70), (0, 40, 0, 40)])
def test_a_plain_strip_on_one_side_or_two_unlike_ones_is_part_of_the_picture(sides):
    """A sky clipped to white at the top (a brightened copy), a strip on one side, or strips of two colours, is no
    letterbox."""
    im = cs.street("B", 6, (500, 400))
    left, top, right, bottom = sides
    framed = Image.new("RGB", (500 + left + right, 400 + top + bottom), (255, 255, 255))
    framed.paste(im, (left, top))
    if sides == (0, 40, 0, 40):  # one white, one black: not one letterbox
        framed.paste((0, 0, 0), (0, 440, 500, 480))
    thumb = framed.resize((64, 64), Image.Resampling.BOX)
    assert content_box(np.asarray(thumb), np.asarray(thumb.convert("L")), framed.size) is None


def test_the_gate_says_which_way_round_a_mirrored_crop_fits(tmp_path):
    """Keypoints try a pair the way the gate says first (`scored`): a crop of a photo fits it as it is, a mirrored crop
    fits it mirrored (whole frame to whole frame they do not align), whichever image of the pair comes first."""
    sigs, pairs, want = [], [], []
    for domain in "AB":
        for seed in range(8):
            im = cs.street(domain, seed)
            w, h = im.size
            rng = random.Random(seed)
            (x, y), keep = (rng.randint(0, w // 8), rng.randint(0, h // 8)), rng.uniform(0.85, 0.88)
            crop = im.crop((x, y, x + int(keep * w), y + int(keep * h)))
            files = [im, crop, crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
            at = len(sigs)
            sigs += [_signature(tmp_path, f"{domain}{seed}_{k}.jpg", cs.jpeg(f)) for k, f in enumerate(files)]
            pairs += [(at, at + 1), (at, at + 2), (at + 1, at), (at + 2, at)]
            want += [False, True, False, True]
    score, mirrored = scored(prepare(sigs), np.array(pairs))
    assert score.min() >= MIN_SCORE, score
    assert mirrored.tolist() == want, [(p, m) for p, m, w in zip(pairs, mirrored, want, strict=True) if m != w]
