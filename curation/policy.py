"""The duplicate rule: which analysed images are the same picture, and which file of each picture is kept."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from curation import verify
from curation.config import DedupPolicy
from curation.dedup import UnionFind, group_duplicates, hex_to_uint64
from curation.geometry import FeatureCache, load_grey
from curation.hashing import N_WINDOW_HASHES
from curation.records import Analysis, Decision
from curation.search import best_ranked, nearest_pairs, window_distance

BATCH = 256  # pairs verified together (vectorised gate, keypoints on threads) while connecting groups
log = logging.getLogger(__name__)


def find_duplicates(
    recs: list[Analysis], policy: DedupPolicy, staging: str | Path, verdicts: Verdicts
) -> tuple[list[list[int]], Matches]:
    """The groups of `recs` that are one picture each (lists of indices, singletons included), and the verdicts that
    joined them (`Matches.pair` answers any other pair, verifying it if need be). The rule, in order:

    1. exact: equal decoded pixels (a hash of the staged copy) are the same picture, unverified.
    2. candidates: each image's `candidates` nearest within `threshold` bits, by 64-bit DCT hashes of the whole frame
       (as is and mirrored) against the other's whole frame or one of its nine 90% windows (crops up to 10%), of the
       content inside a plain border and of the whole frame (`curation.search`: exhaustive up to 20,000 images,
       multi-index hashing above).
    3. gate: a candidate goes on when its cheap score (fine-detail correlation once aligned as a crop, a letterbox or a
       mirror image, `curation.verify`) is at least `min_score`, or either image has a plain border or filled corners
       (a copy rotated inside its frame, by up to 12 degrees: its hashes and score are of it turned back, at decode).
    4. keypoints: enough ORB keypoints (`min_inliers`, fewer for soft pictures) agree under one affine transform a
       copy makes (`max_scale`, `max_stretch`, `max_shear`, `max_rotation`), as a fair share of those both images
       show (`min_share`) (`curation.geometry`).
    5. pixels: one image warped onto the other by that transform, their fine detail correlates (`min_dense`); and
       either the share or the correlation is strong (`strong_share`, `strong_dense`). Two viewpoints of one scene
       share keypoints on one plane only and fail here; a soft picture (under `soft_keypoints`) passes on strong pixels.
    6. groups: the connected components of the pairs that are the same picture. Only pairs that join two components
       not yet joined are verified (those of the best ranked files first, then the nearest hashes, `connect`): the
       components are those of every candidate pair verified, at a fraction of the cost.
    7. keep (`curation.groups.resolve_group`): in each group, best file first (`rank_key`: native resolution, no
       corners or border, not clipped, least compressed, then the larger file), a file is kept unless it is the same
       picture (asked pair by pair, first hit wins) as a file already kept in its domain.

    Every verdict of steps 3-5 is stored by both files' content and `policy.version` (`Verdicts`): a rerun verifies
    only pairs with a new or changed file.
    """
    matches = Matches(recs, policy, staging, verdicts)
    exact = exact_pairs(recs)
    candidates = candidate_pairs(matches, policy)
    groups = connect(len(recs), exact, candidates, matches)
    if matches.unreadable:
        log.warning("%d staged copies unreadable: their candidate pairs were not verified", len(matches.unreadable))
    return groups, matches


@dataclass(frozen=True)
class Match:
    """Two images that are the same picture: hash distance in bits (whole frame, mirrored or a window), gate score,
    whether their decoded pixels are identical, and how many keypoints one transform maps onto each other (0 when
    the pixels are identical or the pixels alone decided)."""

    bits: int
    score: float
    exact: bool
    inliers: int = 0


UNKNOWN = object()  # a pair not verified yet


class Verdicts:
    """Verdicts of pairs by both files' content (sha256, in order) under one policy version: those stored by earlier
    runs (`known`) and those decided now (`new`, to store)."""

    def __init__(self, known: dict[tuple[str, str], Match | None] | None = None) -> None:
        self.known = dict(known or {})
        self.new: dict[tuple[str, str], Match | None] = {}

    def get(self, a: str, b: str) -> object:
        """The verdict of files a and b (a Match, or None: not the same picture), or UNKNOWN."""
        return self.known.get(_key(a, b), UNKNOWN)

    def put(self, a: str, b: str, match: Match | None) -> None:
        self.known[_key(a, b)] = self.new[_key(a, b)] = match


class Matches:
    """The verdicts of pairs of `recs` (by index), each decided once: from `verdicts`, else by the gate, keypoints and
    pixels (`verify`, a batch at a time), and then stored in `verdicts`."""

    def __init__(self, recs: list[Analysis], policy: DedupPolicy, staging: str | Path, verdicts: Verdicts) -> None:
        self.recs, self.policy, self.staging, self.verdicts = recs, policy, Path(staging), verdicts
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
        self._prepared = 0  # images in self._prep (its arrays have room for more)

    def known(self, a: int, b: int) -> object:
        """The verdict of images a and b if decided (a Match or None), else UNKNOWN."""
        ra, rb = self.recs[a], self.recs[b]
        if ra.pixel_hash == rb.pixel_hash:
            return Match(0, 1.0, True)
        return self.verdicts.get(ra.sha256, rb.sha256)

    def pair(self, a: int, b: int) -> Match | None:
        """The match of images a and b, or None when they are not the same picture (verified now if need be)."""
        found = self.known(a, b)
        if found is UNKNOWN:
            self.verify(np.array([[a, b]]))
            found = self.known(a, b)
        return found  # type: ignore[return-value]

    def bits(self, pairs: np.ndarray) -> np.ndarray:
        """(m,) distances in bits of pairs (m, 2): whole frame, mirrored or window, whichever is nearest, of either
        framing of each."""
        a, b = self.hashes[pairs[:, 0]], self.hashes[pairs[:, 1]]
        return np.min([window_distance(a[:, f], b[:, g]) for f in range(verify.FRAMINGS)
                       for g in range(verify.FRAMINGS)], axis=0)  # fmt: skip

    def verify(self, pairs: np.ndarray) -> None:
        """Decide the pairs (m, 2) not decided yet: the gate in one vectorised pass, then keypoints and pixels for those
        it lets through (in parallel); every verdict stored."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        pairs = pairs[[self.known(a, b) is UNKNOWN for a, b in pairs.tolist()]] if len(pairs) else pairs
        if not len(pairs):
            return
        policy = self.policy
        bits = self.bits(pairs)
        score = np.full(len(pairs), -1.0, dtype=np.float32)
        mirrored = np.zeros(len(pairs), dtype=bool)
        signed = self.signed[pairs[:, 0]] & self.signed[pairs[:, 1]]
        if signed.any():
            self._prepare(np.unique(pairs[signed]))
            at = self._at[pairs[signed]]
            score[signed], mirrored[signed] = verify.scored(self._prep, at, enough=policy.min_score)
        boxed = self.boxed[pairs[:, 0]] | self.boxed[pairs[:, 1]]  # scored on one framing: keypoints judge
        gate = (score >= policy.min_score) | boxed
        band = np.flatnonzero(gate)
        found = self.features.verify_many(
            [
                self._larger_first(int(a), int(b), bool(m))
                for (a, b), m in zip(pairs[band], mirrored[band], strict=True)
            ],
            policy,
        )
        checked = dict(zip(band.tolist(), found, strict=True))
        for k, ((a, b), d, s) in enumerate(zip(pairs.tolist(), bits.tolist(), score.tolist(), strict=True)):
            g = checked.get(k)
            same = g is not None and g.same(policy)
            verdict = Match(int(d), round(max(float(s), 0.0), 4), False, g.inliers) if same else None
            if g is None and k in checked:  # a staged copy unreadable: no match this run, nothing stored
                self.verdicts.known[_key(self.recs[a].sha256, self.recs[b].sha256)] = None
                continue
            self.verdicts.put(self.recs[a].sha256, self.recs[b].sha256, verdict)

    def _larger_first(self, a: int, b: int, mirrored: bool) -> tuple[int, int, bool]:
        """The pair as keypoints verify it: the larger picture first (an original before its crop: the transform is
        then found where the reprojection error is measured on the crop, whichever order the files came in; and the
        original, compared with each of its copies, is the one mirrored: its mirrored keypoints are found once)."""
        ra, rb = self.recs[a], self.recs[b]
        return (b, a, mirrored) if (rb.width * rb.height, rb.sha256) > (ra.width * ra.height, ra.sha256) else (
            a, b, mirrored)  # fmt: skip

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
        """Prepare the signatures of these images for the gate, those not prepared yet (only images in pairs)."""
        new = images[self._at[images] < 0]
        if not len(new):
            return
        more = verify.prepare([self.recs[i].signature for i in new])
        self._at[new] = self._prepared + np.arange(len(new))
        self._prep = verify.concatenate(self._prep, self._prepared, more, room=len(self.recs))
        self._prepared += len(new)


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def exact_pairs(recs: list[Analysis]) -> np.ndarray:
    """(m, 2) pairs (first, other) of images with equal decoded pixels (equal staged copies): a dict pass, O(n)."""
    first: dict[str | None, int] = {}
    out = []
    for i, r in enumerate(recs):
        if r.pixel_hash in first:
            out.append((first[r.pixel_hash], i))
        else:
            first[r.pixel_hash] = i
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def candidate_pairs(matches: Matches, policy: DedupPolicy) -> np.ndarray:
    """Candidate pairs (m, 2) among the first image of each distinct pixel hash, those of the best ranked images first
    (`rank_keys` over the whole set: the pairs `curation.groups.resolve_groups` asks are those of each group's best
    files, so `connect` verifying them first leaves it fewer to ask), then nearest hashes first: each image's
    `policy.candidates` nearest within `policy.threshold` bits (`curation.search.nearest_pairs`), searched by
    the hashes of its content and, where a plain border was left out of it, of its whole frame too."""
    first: dict[str | None, int] = {}
    for i, r in enumerate(matches.recs):
        first.setdefault(r.pixel_hash, i)
    reps = np.array(sorted(first.values()), dtype=np.int64)
    framed = reps[matches.boxed[reps]]  # images searched by their whole frame too
    owner = np.concatenate([reps, framed])  # search row -> image
    rows = np.concatenate([matches.hashes[reps, 0], matches.hashes[framed, 1]])
    pairs, dist = nearest_pairs(rows, policy.threshold, policy.candidates)
    pairs = owner[pairs]
    two = pairs[:, 0] != pairs[:, 1]  # not an image's two framings
    pairs, dist = best_ranked(pairs[two], dist[two])
    if not len(pairs):
        return pairs
    rank = np.empty(len(matches.recs), dtype=np.int64)  # each image's place in rank order over the whole set
    rank[sorted(range(len(matches.recs)), key=rank_keys(matches.recs).__getitem__)] = np.arange(len(matches.recs))
    order = np.lexsort((pairs[:, 1], pairs[:, 0], dist, rank[pairs].min(axis=1)))
    return pairs[order]


def connect(n: int, exact: np.ndarray, candidates: np.ndarray, matches: Matches) -> list[list[int]]:
    """The connected components over 0..n-1 of the exact pairs and the candidate pairs that are the same picture,
    verifying only candidates that would join two components not yet joined: known verdicts first, then in batches
    of BATCH pairs that would each join two components even if every other pair of the batch joined its own
    (`candidates` in their order: `candidate_pairs` puts the best ranked files' first). Two components between which
    f candidates were found not the same picture have up to f more tried together in the next batch (so as many
    batches as the log of the failures, not the failures). A pair inside a component cannot change it, so the
    components are those of every candidate verified, whichever were verified first."""
    uf = UnionFind(n)
    for a, b in exact.tolist():
        uf.union(a, b)
    todo = []
    for a, b in candidates.tolist():
        found = matches.known(a, b)
        if found is UNKNOWN:
            todo.append((a, b))
        elif found is not None:
            uf.union(a, b)
    failed: dict[tuple[int, int], int] = {}  # (root, root) -> candidates between them found not the same picture
    while todo:
        batch, rest, joined = [], [], {}  # joined: tentative unions of this batch, root -> root
        tried: dict[tuple[int, int], int] = {}  # (root, root) -> pairs between them in this batch
        for a, b in todo:
            ra, rb = uf.find(a), uf.find(b)
            if ra == rb:
                continue
            key = (ra, rb) if ra < rb else (rb, ra)
            ta, tb = _root(joined, ra), _root(joined, rb)
            if len(batch) < BATCH and ta != tb:
                joined[ta] = tb
            elif len(batch) >= BATCH or not 0 < tried.get(key, 0) <= failed.get(key, 0):
                rest.append((a, b))
                continue
            batch.append((a, b, key))
            tried[key] = tried.get(key, 0) + 1
        matches.verify(np.array([(a, b) for a, b, _ in batch], dtype=np.int64))
        for a, b, key in batch:
            if isinstance(matches.known(a, b), Match):
                uf.union(a, b)
            else:
                failed[key] = failed.get(key, 0) + 1
        todo = rest
    return group_duplicates(n, ((i, uf.find(i)) for i in range(n)))


def _root(parent: dict[int, int], x: int) -> int:
    while x in parent:
        x = parent[x]
    return x


CLIPPED_MORE = 0.005  # a copy with this share more of its pixels clipped to white than the least clipped: brightened


def rank_keys(recs: list[Analysis]) -> list[tuple]:
    """Sort keys of one group's files, best first, for a training set: no filled corners (a rotated copy), no plain
    border (a letterbox), not clipped to white more than the least clipped of the group (a brightened copy); then the
    most pixels (the original before its crops and downsizes), the finest JPEG quantisation (the least compressed),
    the larger file; ties broken by content hash and domain."""
    least = min((r.clipped or 0.0) for r in recs)
    boxed = _boxed(recs)
    return [(r.corners, bool(b), (r.clipped or 0.0) > least + CLIPPED_MORE, *rank_key(r, r.quant))
            for r, b in zip(recs, boxed, strict=True)]  # fmt: skip


def rank_key(row: Analysis | Decision, quant: float | None = None) -> tuple:
    """Best first by size alone: the most pixels, then the finest quantisation, then the larger file; ties broken by
    content hash and domain."""
    return (-(row.width or 0) * (row.height or 0), quant or 0.0, -row.bytes, row.sha256, row.domain)


def _boxed(recs: list[Analysis]) -> np.ndarray:
    """(n,) bool: whether each file's content was found inside a plain border (`curation.verify.boxed`)."""
    out = np.zeros(len(recs), dtype=bool)
    signed = [i for i, r in enumerate(recs) if r.signature is not None]
    if signed:
        out[signed] = verify.boxed(verify.hashes([recs[i].signature for i in signed]))
    return out
