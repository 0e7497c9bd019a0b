"""Tests for curation.groups: candidate pairs, verified grouping, who is kept in a group, cross-domain and excluded
rules, group splits; on analyses of real generated pictures."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from curation.config import CurationConfig, DedupPolicy
from curation.decode import DecodeSettings, analyse_file
from curation.groups import decide, first_duplicate
from curation.policy import Match, Matches, Verdicts, candidate_pairs, rank_key
from curation.records import Analysis, Decision, Reason, Status
from sakura.synthetic import street_scene
from tests.support import curation_streets as cs


class Pictures:
    """Analyses of generated files, made as the decode stage makes them, by name."""

    def __init__(self, tmp) -> None:
        self.tmp, self.staging = tmp, tmp / "staged"
        self.settings = DecodeSettings.of(CurationConfig(), self.staging)

    def add(self, name: str, data: bytes, domain: str = "A") -> Analysis:
        path = self.tmp / f"{domain}-{name}.jpg"
        path.write_bytes(data)
        rec = analyse_file(domain, str(path), f"{domain}/{name}.jpg", self.settings)
        assert rec.ok, rec.detail
        return rec


@pytest.fixture(scope="module")
def pics(tmp_path_factory):
    return Pictures(tmp_path_factory.mktemp("pictures"))


def _by_name(rows: list[Decision]) -> dict[str, Decision]:
    return {r.relpath.split("/")[1].removesuffix(".jpg"): r for r in rows}


def _copy(pics, name: str, im, kind: str, domain: str = "A", seed: int = 0) -> Analysis:
    return pics.add(name, cs.transformed(im, kind, random.Random(seed)), domain)


def test_rank_prefers_resolution_then_file_size():
    def row(w: int, h: int, nbytes: int) -> Decision:
        return Decision("A", f"{w}{nbytes}".ljust(64, "0"), "A/x.jpg", Status.KEPT, width=w, height=h, bytes=nbytes)

    assert sorted([row(400, 300, 9000), row(800, 600, 10), row(800, 600, 20)], key=rank_key)[0].bytes == 20


def test_group_keeps_best_and_labels_exact_and_near_with_bits_and_score(pics):
    im = cs.street("A", 100)
    recs = [pics.add("orig", cs.jpeg(im)), _copy(pics, "exact", im, "exact"), _copy(pics, "q30", im, "q30"),
            _copy(pics, "crop10", im, "crop10"), _copy(pics, "hflip", im, "hflip"),
            pics.add("other", cs.jpeg(cs.street("A", 101)))]  # fmt: skip
    rows = _by_name(decide(recs, CurationConfig(), set(), {}, pics.staging))
    kept, same = sorted((rows["orig"], rows["exact"]), key=lambda r: r.status is not Status.KEPT)
    assert kept.status is Status.KEPT and kept.bytes > same.bytes and rows["other"].status is Status.KEPT
    assert same.reason is Reason.EXACT_DUPLICATE and same.score == 1.0 and same.distance == 0
    for name in ("q30", "crop10", "hflip"):
        r = rows[name]
        assert r.reason is Reason.NEAR_DUPLICATE and r.score >= DedupPolicy().min_score, r
        assert r.distance is not None and f"{r.distance} bits, score {r.score:.2f}" in r.detail
    assert len({rows[n].group for n in ("orig", "exact", "q30", "crop10", "hflip")}) == 1
    assert rows["other"].group != rows["orig"].group
    assert len({rows[n].split for n in ("orig", "exact", "q30", "crop10", "hflip")}) == 1


@pytest.mark.parametrize("make", [cs.street, street_scene], ids=["varied streets", "sakura.synthetic streets"])
def test_distinct_alike_scenes_are_all_kept_even_at_a_loose_threshold(pics, make):
    recs = [pics.add(f"{make.__name__}-{d}{i}", cs.jpeg(make(d, 200 + i)), d) for d in "AB" for i in range(40)]
    for threshold in (DedupPolicy().threshold, 20):
        rows = decide(recs, CurationConfig(dedup=DedupPolicy(threshold=threshold)), set(), {}, pics.staging)
        assert [r for r in rows if r.status is not Status.KEPT] == []


def test_two_crops_that_do_not_contain_each_other_stay_apart_but_join_their_original(pics):
    """a ~ b ~ c, a and c not the same picture (opposite corners, 10% off each way): one group, one split, a and c
    both kept when b ranks below them."""
    im = cs.street("B", 300)
    w, h = im.size
    left, right = im.crop((0, 0, int(w * 0.9), int(h * 0.9))), im.crop((int(w * 0.1), int(h * 0.1), w, h))
    recs = [pics.add("whole", cs.jpeg(im.resize((w // 2, h // 2))), "B"),
            pics.add("left", cs.jpeg(left), "B"), pics.add("right", cs.jpeg(right), "B")]  # fmt: skip
    rows = _by_name(decide(recs, CurationConfig(), set(), {}, pics.staging))
    assert rows["left"].status is Status.KEPT and rows["right"].status is Status.KEPT, rows
    assert rows["whole"].reason is Reason.NEAR_DUPLICATE
    assert len({r.group for r in rows.values()}) == 1 and len({r.split for r in rows.values()}) == 1


@pytest.mark.parametrize("policy, kept", [("drop", set()), ("A", {"A"}), ("B", {"B"})])
def test_cross_domain_same_picture(pics, policy, kept):
    im = cs.street("A", 400)
    recs = [pics.add("x", cs.jpeg(im), "A"), _copy(pics, "x-copy", im, "crop5", "B"),
            pics.add("y", cs.jpeg(cs.street("B", 401)), "B")]  # fmt: skip
    rows = _by_name(decide(recs, CurationConfig(cross_domain=policy), set(), {}, pics.staging))
    assert {rows[n].domain for n in ("x", "x-copy") if rows[n].status is Status.KEPT} == kept
    assert rows["y"].status is Status.KEPT
    assert all(rows[n].reason is Reason.CROSS_DOMAIN for n in ("x", "x-copy") if rows[n].status is not Status.KEPT)


def test_excluded_and_its_copies_rejected(pics):
    im = cs.street("A", 500)
    recs = [pics.add("listed", cs.jpeg(im, 95)), _copy(pics, "listed-q30", im, "q30"),
            pics.add("alike", cs.jpeg(cs.street("A", 501)))]  # fmt: skip
    rows = _by_name(decide(recs, CurationConfig(), {recs[0].sha256[:12]}, {}, pics.staging))
    assert rows["listed"].reason is Reason.EXCLUDED and rows["listed"].detail == "listed in excluded.txt"
    assert rows["listed-q30"].reason is Reason.EXCLUDED and "duplicate of excluded" in rows["listed-q30"].detail
    assert rows["alike"].status is Status.KEPT


def test_split_history_wins_and_conflicts_are_dropped_not_moved(pics):
    im = cs.street("B", 600)
    w, h = im.size
    right = im.crop((int(w * 0.1), int(h * 0.1), w, h)).resize((w // 2, h // 2))
    recs = [pics.add("big", cs.jpeg(im), "B"), pics.add("left", cs.jpeg(im.crop((0, 0, int(w * 0.9), int(h * 0.9)))),
            "B"), pics.add("right", cs.jpeg(right), "B")]  # fmt: skip
    history = {("B", recs[0].sha256): "test", ("B", recs[1].sha256): "train"}
    rows = _by_name(decide(recs, CurationConfig(), set(), history, pics.staging))
    assert rows["big"].status is Status.KEPT and rows["big"].split == "test"
    assert rows["left"].status is Status.DUPLICATE and rows["left"].split in ("", "test")
    assert rows["right"].split == "test"


def test_rejected_by_rules_are_not_grouped(pics):
    im = cs.street("A", 700)
    rec = pics.add("ok", cs.jpeg(im))
    rows = decide([rec, replace(rec, relpath="A/small.jpg", sha256="f" * 64, width=100, height=80)],
                  CurationConfig(), set(), {}, pics.staging)  # fmt: skip
    assert rows[0].status is Status.KEPT and rows[1].reason is Reason.TOO_SMALL and rows[1].group == ""


def test_a_group_member_that_was_no_candidate_is_verified_when_asked(pics):
    """The candidate search caps pairs per image; resolving a group still knows every pair it asks about."""
    im = cs.street("A", 800)
    recs = [_copy(pics, f"q30-{i}", im, "q30", seed=i) for i in range(3)] + [pics.add("o", cs.jpeg(im, 95))]
    matches = Matches(recs, DedupPolicy(), pics.staging, Verdicts())
    candidates = candidate_pairs(matches, DedupPolicy(candidates=1, threshold=0))
    asked = next((a, b) for a in range(4) for b in range(a + 1, 4) if [a, b] not in candidates.tolist())
    assert matches.pair(*asked) is not None and matches.pair(*asked).score >= DedupPolicy().min_score


def test_candidate_pairs_are_bounded_in_a_set_of_near_identical_pictures(pics):
    """Each image brings at most its nearest few: the work is linear, however alike a set."""
    base = np.asarray(street_scene("B", 900), dtype=np.int16)
    recs = []
    for i in range(30):  # 30 pictures a few grey levels apart: every phash within the threshold of every other
        shifted = np.clip(base + (i % 7) - 3, 0, 255).astype(np.uint8)
        recs.append(pics.add(f"near-{i}", cs.jpeg(Image.fromarray(shifted), 70 + i), "B"))
    policy = DedupPolicy(candidates=4)
    candidates = candidate_pairs(Matches(recs, policy, pics.staging, Verdicts()), policy)
    assert len(candidates) <= policy.candidates * len(recs) < 30 * 29 / 2


def test_first_duplicate_is_the_first_hit_in_rank_order_and_asks_no_further():
    found = {(0, 1): None, (0, 2): Match(2, 0.97, False), (0, 3): Match(0, 1.0, True)}
    asked = []

    def match(p: int, q: int) -> Match | None:
        asked.append(q)
        return found.get((p, q))

    assert first_duplicate(0, [1, 2, 3], match) == (2, found[(0, 2)]) and asked == [1, 2]
    assert first_duplicate(0, [4], match) is None


@pytest.mark.parametrize("kind", cs.TARGET_KINDS)
def test_every_copy_of_a_target_kind_joins_its_original_among_alike_scenes(pics, kind):
    # 6 distinct scenes per domain, each with a copy of this kind: every copy in its original's group and not kept,
    # every original kept; the alike scenes around them make the candidate ranking matter.
    recs, pairs = [], []
    for d in "AB":
        for seed in range(300, 306):
            im = cs.street(d, seed)
            name = f"{kind}-{d}{seed}"
            recs += [pics.add(name, cs.jpeg(im), d), _copy(pics, f"{name}-copy", im, kind, d, seed)]
            pairs.append((name, f"{name}-copy"))
    rows = _by_name(decide(recs, CurationConfig(), set(), {}, pics.staging))
    for orig, copy in pairs:
        kept, dup = sorted((rows[orig], rows[copy]), key=lambda r: r.status is not Status.KEPT)
        assert kept.status is Status.KEPT and dup.status is not Status.KEPT, (kept, dup)
        assert dup.reason in (Reason.EXACT_DUPLICATE, Reason.NEAR_DUPLICATE) and dup.group == kept.group, dup


@pytest.mark.parametrize("reverse", [False, True])
def test_the_original_is_kept_over_every_degraded_copy_in_either_order_of_arrival(pics, reverse):
    """Brightened (clipped), rotated with filled corners, letterboxed, recompressed, downsized, cropped: every copy
    is grouped with the original and the original is the one kept, whichever file came first."""
    im = cs.street("B", 4242)
    w, h = im.size
    copies = {
        "bright": cs.jpeg(cs.brightened(im, 1.3)),
        "rot": cs.jpeg(im.rotate(6, Image.Resampling.BICUBIC)),
        "pad": cs.transformed(im, "pad", random.Random(1)),
        "q30": cs.jpeg(im, 30),
        "small": cs.jpeg(im.resize((w * 3 // 4, h * 3 // 4), Image.Resampling.LANCZOS)),
        "crop10": cs.transformed(im, "crop10", random.Random(2)),
    }
    recs = [pics.add("best-orig", cs.jpeg(im, 92), "B")] + [pics.add(f"best-{k}", v, "B") for k, v in copies.items()]
    rows = _by_name(decide(recs[::-1] if reverse else recs, CurationConfig(), set(), {}, pics.staging))
    assert rows["best-orig"].status is Status.KEPT, rows["best-orig"]
    for k in copies:
        assert rows[f"best-{k}"].status is Status.DUPLICATE and rows[f"best-{k}"].group == rows["best-orig"].group, k
