"""What each image becomes: rules applied, duplicates found (candidate pairs, then verification) and grouped, and per
group who is kept, dropped and where."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.config import DOMAIN_KEYS
from curation.config import CurationConfig
from curation.policy import UNKNOWN, Match, Matches, Verdicts, find_duplicates, rank_key, rank_keys
from curation.records import Analysis, Decision, Reason, Status
from curation.sources import is_excluded
from curation.split import group_split
from curation.validate import judge

log = logging.getLogger(__name__)


def decide(
    recs: list[Analysis],
    cfg: CurationConfig,
    excluded: set[str],
    history: dict[tuple[str, str], str],
    staging: str | Path,
    verdicts: Verdicts | None = None,
) -> list[Decision]:
    """One decision per analysed file, in `recs` order: status kept / rejected / duplicate, reason, detail, group
    and split.

    Pure given its inputs (and the verdicts of pairs, `verdicts`, which it adds to): files failing a rule are rejected;
    the rest are grouped by the duplicate rule (`curation.policy.find_duplicates`), and each group is resolved by
    `resolve_group`. Reads only the staged copies (under `staging`) of images whose pairs are verified.
    """
    rows: list[Decision] = []
    valid: list[int] = []
    for rec in recs:
        reason, detail = judge(rec, cfg)
        if reason is None:
            valid.append(len(rows))
        rows.append(Decision.judged(rec, reason, detail))
    live = [rows[i] for i in valid]
    groups, matches = find_duplicates([recs[i] for i in valid], cfg.dedup, staging, verdicts or Verdicts())
    for members, decided in resolve_groups(groups, live, matches, cfg, excluded, history, [recs[i] for i in valid]):
        for k, row in zip(members, decided, strict=True):
            rows[valid[k]] = row
    return rows


_EXECUTION = ("workers", "decode_timeout", "sheet_thumb", "sheet_max_images")  # settings no decision depends on
_DECIDING = ("config", "dedup", "geometry", "groups", "hashing", "policy", "records", "search", "sources", "split",
             "validate", "verify")  # fmt: skip  # the modules whose code decides


def decision_key(recs: list[Analysis], cfg: CurationConfig, excluded: set[str]) -> str:
    """A digest of everything `decide` decides from but the split history: each file (its place, content and whether
    it decoded: its analysis is that content's under `cfg.decode_key`), the settings (those of execution aside), the
    excluded ids and the code of the modules that decide. Equal digests, with an equal history (`history_key`), are
    equal decisions."""
    h = hashlib.sha256(_code())
    settings = {k: v for k, v in cfg.to_dict().items() if k not in _EXECUTION}
    files = [(r.domain, r.relpath, r.sha256, r.ok, r.reason, r.detail, r.staged) for r in recs]
    h.update(json.dumps([settings, cfg.decode_key, sorted(excluded), files], sort_keys=True, default=str).encode())
    return h.hexdigest()


def history_key(history: dict[tuple[str, str], str], recs: list[Analysis]) -> str:
    """A digest of the split history of these files (the part of it `decide` reads)."""
    mine = sorted((d, s, history[(d, s)]) for d, s in {(r.domain, r.sha256) for r in recs} if (d, s) in history)
    return hashlib.sha256(json.dumps(mine).encode()).hexdigest()


@lru_cache(maxsize=1)
def _code() -> bytes:
    """The source of the modules that decide (a change to any of them decides again)."""
    return b"".join(Path(importlib.import_module(f"curation.{m}").__file__ or "").read_bytes() for m in _DECIDING)


def resolve_groups(
    groups: list[list[int]],
    live: list[Decision],
    matches: Matches,
    cfg: CurationConfig,
    excluded: set[str],
    history: dict[tuple[str, str], str],
    recs: list[Analysis],
) -> list[tuple[list[int], list[Decision]]]:
    """(members, their decisions) of every group by `resolve_group`, verifying the pairs it asks about together: each
    round resolves every group not yet resolved, taking a pair not yet verified as the same picture (so that the pairs
    a group would ask next are asked in the same round), then verifies all those pairs at once."""
    done: list[tuple[list[int], list[Decision]]] = []
    todo = [g for g in groups if len(g) > 1]
    done += [(g, resolve_group([live[g[0]]], cfg, excluded, history, _no_pairs)) for g in groups if len(g) == 1]
    while todo:
        asked: set[tuple[int, int]] = set()
        again = []
        for members in todo:
            mine: set[tuple[int, int]] = set()

            def match(p: int, q: int, m: list[int] = members, mine: set = mine) -> Match | None:
                found = matches.known(m[p], m[q])
                if found is UNKNOWN:
                    mine.add((m[p], m[q]))
                    return _ASSUMED
                return found  # type: ignore[return-value]

            keys = rank_keys([recs[k] for k in members])
            decided = resolve_group([live[k] for k in members], cfg, excluded, history, match, keys)
            if mine:
                asked |= mine
                again.append(members)
            else:
                done.append((members, decided))
        matches.verify(np.array(sorted(asked), dtype=np.int64))
        todo = again
    return done


_ASSUMED = Match(0, 1.0, False)  # a pair not verified yet, taken as the same picture until it is


def _no_pairs(p: int, q: int) -> Match | None:
    raise AssertionError("a group of one has no pairs")


MatchOf = Callable[[int, int], Match | None]  # (member position, member position) -> their match


def first_duplicate(p: int, others: list[int], match: MatchOf) -> tuple[int, Match] | None:
    """The first of the members `others` (in their order: rank order) that member `p` is the same picture as, with
    the match; None if there is none. Pairs after the first hit are never asked."""
    for q in others:
        if (m := match(p, q)) is not None:
            return q, m
    return None


def resolve_group(
    members: list[Decision],
    cfg: CurationConfig,
    excluded: set[str],
    history: dict[tuple[str, str], str],
    match: MatchOf,
    keys: list[tuple] | None = None,
) -> list[Decision]:
    """Decide every member of one group (a connected component of same-picture pairs); all share one split. Returns
    the members' new decisions, in `members` order; `match(p, q)` says whether members p and q are the same picture.

    In rank order (`keys`, best first: `curation.policy.rank_keys`; by default `rank_key`, by size): an image listed
    in excluded.txt, or the same picture as one, is rejected; an image that is the same picture as one in the other
    domain is dropped from both (cross_domain = 'drop') or from the domain not named; then each remaining image is
    kept unless it is the same picture as an image already kept in its domain (the first such image, in rank order:
    `first_duplicate`). So the group's best image is always kept, and distinct images linked through a third are not
    collapsed into one.
    """
    if len(members) == 1:  # most images: the rules below reduce to these two
        m, gid = members[0], f"g{members[0].sha256[:16]}"
        if is_excluded(m.sha256, excluded):
            return [_listed(replace(m, group=gid))]
        split = group_split([(m.domain, m.sha256)], history, cfg.seed, cfg.test_fraction)
        return [replace(m, group=gid, split=split)]
    keys = keys or [rank_key(m) for m in members]
    order = sorted(range(len(members)), key=keys.__getitem__)
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
        elif listed and (hit := first_duplicate(p, listed, match)) is not None:
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
        hit = first_duplicate(p, by_domain[other_domain], match)
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
        hit = first_duplicate(p, [q for q in kept if ranked[q].domain == m.domain], match)
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
