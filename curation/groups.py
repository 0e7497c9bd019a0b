"""What each image becomes: rules applied, duplicates found (candidate pairs, then verification) and grouped, and per
group who is kept, dropped and where."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from core.config import DOMAIN_KEYS
from curation import verify
from curation.config import CurationConfig
from curation.dedup import best_ranked, group_duplicates, hex_to_uint64, nearest_window_pairs, window_distance
from curation.geometry import FeatureCache, load_grey
from curation.hashing import N_WINDOW_HASHES
from curation.records import Analysis, Decision, Reason, Status
from curation.sources import is_excluded
from curation.split import group_split
from curation.validate import judge

_FILL_GROUP = 64  # a group up to this size has all its pairs verified at once, a larger one as they are asked
# Beyond its `candidates` nearest, an image's next ones (up to this many times as many in all) are checked whole frame
# to whole frame only (copies re-saved, recompressed, resized, brightened or mirrored among very alike pictures); 1:
# every candidate is aligned (a 10% crop among very alike pictures can rank past the 16th by its hash).
WHOLE_FRAME_REACH = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    """Two images that are the same picture: phash distance in bits (whole frame or mirrored), verification score,
    whether their decoded pixels are identical, and how many keypoints one transform maps onto each other (0 when
    the pixels are identical)."""

    bits: int
    score: float
    exact: bool
    inliers: int = 0


class Matches:
    """Which pairs of analysed images are the same picture: equal pixels, or a verification score (`curation.verify`)
    of at least `cfg.min_score` and then at least `cfg.min_inliers` keypoints of the two staged copies (under
    `staging`) that one plausible transform maps onto each other, and their pixels agreeing once aligned by it
    (`curation.geometry`). Scores are computed in batches and remembered; a pair asked for that was no candidate is
    verified then."""

    def __init__(self, recs: list[Analysis], cfg: CurationConfig, staging: str | Path) -> None:
        self.recs, self.min_score = recs, cfg.min_score
        self.min_inliers, self.staging = cfg.min_inliers, Path(staging)
        self.features = FeatureCache(self._grey)
        self.unreadable: set[int] = set()
        self.signed = np.array([r.signature is not None for r in recs], dtype=bool)
        full = hex_to_uint64(r.phash or "0" * 16 for r in recs)  # an image without a signature: its phash only
        self.hashes = np.repeat(full[:, None, None], verify.FRAMINGS * N_WINDOW_HASHES, axis=1).reshape(
            len(recs), verify.FRAMINGS, N_WINDOW_HASHES
        )  # (n, framing, window): the content inside a plain border, and the whole frame
        if self.signed.any():
            self.hashes[self.signed] = verify.hashes([r.signature for r in recs if r.signature is not None])
        self.boxed = verify.boxed(self.hashes)  # its border may be part of the picture: keypoints judge its pairs
        self._at = np.full(len(recs), -1, dtype=np.int64)  # image -> index into the prepared signatures
        self._prep: verify.Prepared | None = None
        self._known: dict[tuple[int, int], Match | None] = {}

    def bits(self, pairs: np.ndarray) -> np.ndarray:
        """(m,) distances in bits of pairs (m, 2): whole frame, mirrored or window, whichever is nearest, of either
        framing of each."""
        a, b = self.hashes[pairs[:, 0]], self.hashes[pairs[:, 1]]
        return np.min([window_distance(a[:, f], b[:, g]) for f in range(verify.FRAMINGS)
                       for g in range(verify.FRAMINGS)], axis=0)  # fmt: skip

    def verify(self, pairs: np.ndarray, align: np.ndarray | None = None) -> None:
        """Score the pairs (m, 2) not yet known, in one vectorised pass; those whose `align` is False whole frame to
        whole frame only (`curation.verify.scores`)."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        align = np.ones(len(pairs), dtype=bool) if align is None else np.asarray(align, dtype=bool)
        new = np.array([_key(*p) not in self._known for p in pairs.tolist()], dtype=bool)
        pairs, align = pairs[new], align[new]
        if not len(pairs):
            return
        bits = self.bits(pairs)
        exact = np.array([self.recs[a].pixel_hash == self.recs[b].pixel_hash for a, b in pairs], dtype=bool)
        score = np.where(exact, 1.0, -1.0).astype(np.float32)
        mirrored = np.zeros(len(pairs), dtype=bool)
        signed = ~exact & self.signed[pairs[:, 0]] & self.signed[pairs[:, 1]]
        if signed.any():
            self._prepare(np.unique(pairs[signed]))
            at = self._at[pairs[signed]]
            score[signed] = verify.scores(self._prep, at, enough=self.min_score, align=align[signed])
            mirrored[signed] = verify.mirrored(self._prep, at)
        boxed = self.boxed[pairs[:, 0]] | self.boxed[pairs[:, 1]]  # scored on one framing: keypoints judge
        band = np.flatnonzero(~exact & ((score >= self.min_score) | boxed))
        checked = dict(zip(band.tolist(), self.features.verify_many(
            [self._larger_first(int(a), int(b), bool(m)) for (a, b), m in zip(pairs[band], mirrored[band],
                                                                               strict=True)],
            self.min_inliers), strict=True))  # fmt: skip
        for k, ((a, b), d, s, e, full) in enumerate(zip(pairs.tolist(), bits.tolist(), score.tolist(), exact.tolist(),
                                                         align.tolist(), strict=True)):  # fmt: skip
            if e:
                self._known[_key(a, b)] = Match(int(d), 1.0, True)
            elif k in checked:  # alike, perhaps the same: the keypoints decide
                g = checked[k]
                same = g is not None and g.same(self.min_inliers)
                self._known[_key(a, b)] = Match(int(d), round(float(s), 4), False, g.inliers) if same else None
            elif full:  # compared whole frames only: still unknown as a window, asked again if need be
                self._known[_key(a, b)] = None

    def _larger_first(self, a: int, b: int, mirrored: bool) -> tuple[int, int, bool]:
        """The pair as keypoints verify it: the larger picture first (an original before its crop: the transform is
        then found where the reprojection error is measured on the crop, whichever order the files came in)."""
        ra, rb = self.recs[a], self.recs[b]
        return (b, a, mirrored) if (rb.width * rb.height, a) > (ra.width * ra.height, b) else (a, b, mirrored)

    def _grey(self, i: int) -> Image.Image | None:
        """Image i's staged copy in grey, for its keypoints; None (and a warning) when it cannot be read."""
        try:
            return load_grey(self.staging / str(self.recs[i].staged))
        except OSError as e:
            if not self.unreadable:
                log.warning("staged copy unreadable, its pairs not verified: %s (%s)", self.recs[i].relpath, e)
            self.unreadable.add(i)
            return None

    def _prepare(self, images: np.ndarray) -> None:
        """Prepare the signatures of these images for verification, those not prepared yet (only images in pairs)."""
        new = images[self._at[images] < 0]
        if not len(new):
            return
        more = verify.prepare([self.recs[i].signature for i in new])
        start = 0 if self._prep is None else len(self._prep.full)
        self._at[new] = start + np.arange(len(new))
        self._prep = more if self._prep is None else verify.concatenate(self._prep, more)

    def pair(self, a: int, b: int) -> Match | None:
        """The match of images a and b, or None when they are not the same picture."""
        if _key(a, b) not in self._known:
            self.verify(np.array([[a, b]]))
        return self._known[_key(a, b)]

    def verified(self) -> list[tuple[int, int]]:
        """Every pair known to be the same picture."""
        return [p for p, m in self._known.items() if m is not None]


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def candidate_pairs(
    recs: list[Analysis], matches: Matches, cfg: CurationConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(exact pairs, candidate pairs, which candidates to align) among `recs`, pairs (m, 2) of indices. Exact:
    byte-equal staged copies (every copy paired with the first). Candidates, among the first copy of each picture
    only: each image's nearest within `cfg.threshold` bits, whole frame as is or mirrored against whole frame or a
    90% window (`curation.dedup.nearest_window_pairs`), by the hashes of its content and, where a plain border was
    left out of it, of its whole frame too; its `cfg.candidates` nearest are aligned in verification, the next ones
    (up to WHOLE_FRAME_REACH times as many) compared whole frame to whole frame only."""
    first: dict[str, int] = {}
    exact = []
    for i, r in enumerate(recs):
        if r.pixel_hash in first:
            exact.append((first[r.pixel_hash], i))
        else:
            first[r.pixel_hash] = i
    reps = np.array(sorted(first.values()), dtype=np.int64)
    framed = reps[matches.boxed[reps]]  # images searched by their whole frame too
    owner = np.concatenate([reps, framed])  # search row -> image
    rows = np.concatenate([matches.hashes[reps, 0], matches.hashes[framed, 1]])
    pairs, rank = nearest_window_pairs(rows, cfg.threshold, WHOLE_FRAME_REACH * cfg.candidates)
    pairs = owner[pairs]
    two = pairs[:, 0] != pairs[:, 1]  # not an image's two framings
    pairs, rank = best_ranked(pairs[two], rank[two])
    return np.array(exact, dtype=np.int64).reshape(-1, 2), pairs, rank < cfg.candidates


def decide(
    recs: list[Analysis],
    cfg: CurationConfig,
    excluded: set[str],
    history: dict[tuple[str, str], str],
    staging: str | Path,
) -> list[Decision]:
    """One decision per analysed file, in `recs` order: status kept / rejected / duplicate, reason, detail, group
    and split.

    Pure given its inputs: files failing a rule are rejected; the rest are joined into groups by union-find over the
    pairs that are the same picture (equal pixels, or a candidate pair verified by `curation.verify` and then by the
    keypoints of the staged copies under `staging`, `curation.geometry`), so alike pictures never chain into one
    group; each group is resolved by `resolve_group`. Reads only the staged copies of images in candidate pairs.
    """
    rows: list[Decision] = []
    valid: list[int] = []
    for rec in recs:
        reason, detail = judge(rec, cfg)
        if reason is None:
            valid.append(len(rows))
        rows.append(Decision.judged(rec, reason, detail))
    live = [rows[i] for i in valid]
    matches = Matches([recs[i] for i in valid], cfg, staging)
    exact, candidates, align = candidate_pairs(matches.recs, matches, cfg)
    matches.verify(candidates, align)
    edges = [tuple(p) for p in exact.tolist()] + matches.verified()
    if matches.unreadable:
        log.warning("%d staged copies unreadable: their candidate pairs were not verified", len(matches.unreadable))
    for members in group_duplicates(len(live), edges):
        if 2 < len(members) <= _FILL_GROUP:
            matches.verify(np.array([(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]))
        decided = resolve_group([live[k] for k in members], cfg, excluded, history,
                                lambda p, q, m=members: matches.pair(m[p], m[q]))  # fmt: skip
        for k, row in zip(members, decided, strict=True):
            rows[valid[k]] = row
    return rows


MatchOf = Callable[[int, int], Match | None]  # (member position, member position) -> their match


def rank_key(row: Decision) -> tuple:
    """Best first: largest resolution, then largest file; ties broken by content hash and domain."""
    return (-row.width * row.height, -row.bytes, row.sha256, row.domain)


def closest_duplicate(p: int, others: list[int], match: MatchOf) -> tuple[int, Match] | None:
    """Of the members `others`, the one member `p` is the same picture as (identical pixels first, then the highest
    score), with the match; None if there is none."""
    hits = [(q, m) for q in others if (m := match(p, q)) is not None]
    if not hits:
        return None
    return max(hits, key=lambda h: (h[1].exact, h[1].score, -h[1].bits))


def resolve_group(
    members: list[Decision],
    cfg: CurationConfig,
    excluded: set[str],
    history: dict[tuple[str, str], str],
    match: MatchOf,
) -> list[Decision]:
    """Decide every member of one group (a connected component of same-picture pairs); all share one split. Returns
    the members' new decisions, in `members` order; `match(p, q)` says whether members p and q are the same picture.

    In rank order (`rank_key`): an image listed in excluded.txt, or the same picture as one, is rejected;
    an image that is the same picture as one in the other domain is dropped from both (cross_domain = 'drop') or
    from the domain not named; then each remaining image is kept unless it is the same picture as an image already
    kept in its domain. So the group's best image is always kept, and distinct images linked through a third are not
    collapsed into one.
    """
    if len(members) == 1:  # most images: the rules below reduce to these two
        m, gid = members[0], f"g{members[0].sha256[:16]}"
        if is_excluded(m.sha256, excluded):
            return [_listed(replace(m, group=gid))]
        split = group_split([(m.domain, m.sha256)], history, cfg.seed, cfg.test_fraction)
        return [replace(m, group=gid, split=split)]
    order = sorted(range(len(members)), key=lambda i: rank_key(members[i]))
    gid = f"g{members[order[0]].sha256[:16]}"
    ranked = [replace(members[i], group=gid) for i in order]
    ranked_match: MatchOf = lambda p, q: match(order[p], order[q])  # noqa: E731 - positions in `ranked`
    dropped = _drop_excluded(ranked, excluded, ranked_match)  # new decisions by position in `ranked`
    live = [p for p in range(len(ranked)) if p not in dropped]
    dropped |= _drop_cross_domain(ranked, live, cfg, ranked_match)
    live = [p for p in live if p not in dropped]
    dropped |= _drop_duplicates(ranked, live, ranked_match)
    kept = [p for p in live if p not in dropped]
    ranked = [dropped.get(p, m) for p, m in enumerate(ranked)]
    if kept:
        ranked = _assign_split(ranked, kept, cfg, history)
    by_member = dict(zip(order, ranked, strict=True))
    return [by_member[i] for i in range(len(members))]


def _same(m: Match) -> str:
    return f"{m.bits} bits, score {m.score:.2f}" + (f", {m.inliers} keypoints agree" if m.inliers else "")


def _listed(m: Decision) -> Decision:
    return replace(m, status=Status.REJECTED, reason=Reason.EXCLUDED, detail="listed in excluded.txt")


def _drop_excluded(ranked: list[Decision], excluded: set[str], match: MatchOf) -> dict[int, Decision]:
    """Members listed in excluded.txt and the same pictures as them, rejected, by position in `ranked`."""
    listed = [p for p, m in enumerate(ranked) if is_excluded(m.sha256, excluded)]
    dropped = {}
    for p, m in enumerate(ranked):
        if p in listed:
            dropped[p] = _listed(m)
        elif listed and (hit := closest_duplicate(p, listed, match)) is not None:
            q, same = hit
            detail = f"duplicate of excluded {ranked[q].sha256[:16]} ({_same(same)})"
            dropped[p] = replace(m, status=Status.REJECTED, reason=Reason.EXCLUDED, detail=detail,
                                 distance=same.bits, score=same.score)  # fmt: skip
    return dropped


def _drop_cross_domain(
    ranked: list[Decision], live: list[int], cfg: CurationConfig, match: MatchOf
) -> dict[int, Decision]:
    """Live members that are the same picture as one in the other domain and are not in the domain
    `cfg.cross_domain` keeps, as cross-domain duplicates, by position in `ranked`."""
    by_domain = {d: [p for p in live if ranked[p].domain == d] for d in DOMAIN_KEYS}
    if not all(by_domain.values()):
        return {}
    dropped = {}
    for p in live:
        m = ranked[p]
        other_domain = next(d for d in DOMAIN_KEYS if d != m.domain)
        hit = closest_duplicate(p, by_domain[other_domain], match)
        if hit is not None and m.domain != cfg.cross_domain:
            q, same = hit
            dropped[p] = replace(m, status=Status.DUPLICATE, reason=Reason.CROSS_DOMAIN, distance=same.bits,
                                 score=same.score, detail=f"{_same(same)} from {ranked[q].sha256[:16]} in "
                                 f"{other_domain} (cross_domain = {cfg.cross_domain!r})")  # fmt: skip
    return dropped


def _drop_duplicates(ranked: list[Decision], live: list[int], match: MatchOf) -> dict[int, Decision]:
    """In rank order, live members that are the same picture as one already kept in their domain, by position."""
    kept: list[int] = []
    dropped = {}
    for p in live:
        m = ranked[p]
        hit = closest_duplicate(p, [q for q in kept if ranked[q].domain == m.domain], match)
        if hit is None:
            kept.append(p)
            continue
        q, same = hit
        reason = Reason.EXACT_DUPLICATE if same.exact else Reason.NEAR_DUPLICATE
        detail = f"{_same(same)} from kept {ranked[q].sha256[:16]}"
        dropped[p] = replace(m, status=Status.DUPLICATE, reason=reason, distance=same.bits, score=same.score,
                             detail=detail)  # fmt: skip
    return dropped


def _assign_split(
    ranked: list[Decision], kept: list[int], cfg: CurationConfig, history: dict[tuple[str, str], str]
) -> list[Decision]:
    """One split for the whole group, from the history of its best kept image first; a kept image whose earlier
    split differs (two earlier groups joined by a new image) is dropped rather than moved."""
    kept_at = set(kept)
    order = [ranked[p] for p in kept] + [m for p, m in enumerate(ranked) if p not in kept_at]
    split = group_split([(m.domain, m.sha256) for m in order], history, cfg.seed, cfg.test_fraction)
    out = []
    for p, m in enumerate(ranked):
        earlier = history.get((m.domain, m.sha256))
        if p in kept_at and earlier is not None and earlier != split:
            detail = f"was in {earlier}; its group now lies in {split} and images never change split"
            m = replace(m, status=Status.DUPLICATE, reason=Reason.SPLIT_CONFLICT, split="", detail=detail)
        elif m.status in (Status.KEPT, Status.DUPLICATE) and m.reason is not Reason.CROSS_DOMAIN:
            m = replace(m, split=split)
        out.append(m)
    return out
