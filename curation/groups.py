"""What each image becomes: rules applied, near-duplicates grouped, and per group who is kept, dropped and where."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.config import DOMAIN_KEYS
from curation.config import CurationConfig
from curation.dedup import exact_pairs, group_duplicates, hex_to_uint64, near_pairs
from curation.records import Analysis, Decision, Reason, Status
from curation.sources import is_excluded
from curation.split import group_split
from curation.validate import judge


def decide(
    recs: list[Analysis], cfg: CurationConfig, excluded: set[str], history: dict[tuple[str, str], str]
) -> list[Decision]:
    """One decision per analysed file, in `recs` order: status kept / rejected / duplicate, reason, detail, group
    and split.

    Pure given its inputs: files failing a rule are rejected; the rest are joined into groups (union-find over
    phash pairs within `cfg.threshold` and equal pixel hashes) and each group is resolved by `resolve_group`.
    """
    rows: list[Decision] = []
    valid: list[int] = []
    for rec in recs:
        reason, detail = judge(rec, cfg)
        if reason is None:
            valid.append(len(rows))
        rows.append(Decision.judged(rec, reason, detail))
    pairs = [tuple(p) for p in near_pairs(hex_to_uint64(rows[i].phash for i in valid), cfg.threshold)]
    pairs += exact_pairs([rows[i].pixel_hash for i in valid])
    for members in group_duplicates(len(valid), pairs):
        at = [valid[k] for k in members]
        for i, row in zip(at, resolve_group([rows[i] for i in at], cfg, excluded, history), strict=True):
            rows[i] = row
    return rows


def rank_key(row: Decision) -> tuple:
    """Best first: largest resolution, then largest file; ties broken by content hash and domain."""
    return (-row.width * row.height, -row.bytes, row.sha256, row.domain)


def closest_duplicate(row: Decision, others: list[Decision], threshold: int) -> tuple[Decision, int, bool] | None:
    """The nearest of `others` that `row` duplicates directly (same pixels, or phash within `threshold`), with
    the distance in bits and whether the pixels are identical; None if there is none."""
    if not others:
        return None
    d = np.bitwise_count(hex_to_uint64(o.phash for o in others) ^ np.uint64(int(row.phash, 16)))  # (k,)
    same = np.array([o.pixel_hash == row.pixel_hash for o in others])
    hit = same | (d <= threshold)
    if not hit.any():
        return None
    i = int(np.argmax(same)) if same.any() else int(np.argmin(np.where(hit, d, 65)))
    return others[i], int(d[i]), bool(same[i])


def resolve_group(
    members: list[Decision], cfg: CurationConfig, excluded: set[str], history: dict[tuple[str, str], str]
) -> list[Decision]:
    """Decide every member of one group (a connected component of duplicate pairs); all share one split. Returns
    the members' new decisions, in `members` order.

    In rank order (`rank_key`): an image listed in excluded.txt, or a direct duplicate of one, is rejected;
    an image that directly duplicates one in the other domain is dropped from both (cross_domain = 'drop') or
    from the domain not named; then each remaining image is kept unless it directly duplicates an image already
    kept in its domain. So the group's best image is always kept, and distinct images that a chain of
    near-duplicates happens to link are not collapsed into one.
    """
    order = sorted(range(len(members)), key=lambda i: rank_key(members[i]))
    gid = f"g{members[order[0]].sha256[:16]}"
    ranked = [replace(members[i], group=gid) for i in order]
    dropped = _drop_excluded(ranked, excluded, cfg.threshold)  # new decisions by position in `ranked`
    live = [p for p in range(len(ranked)) if p not in dropped]
    dropped |= _drop_cross_domain(ranked, live, cfg)
    live = [p for p in live if p not in dropped]
    dropped |= _drop_duplicates(ranked, live, cfg.threshold)
    kept = [p for p in live if p not in dropped]
    ranked = [dropped.get(p, m) for p, m in enumerate(ranked)]
    if kept:
        ranked = _assign_split(ranked, kept, cfg, history)
    by_member = dict(zip(order, ranked, strict=True))
    return [by_member[i] for i in range(len(members))]


def _drop_excluded(ranked: list[Decision], excluded: set[str], threshold: int) -> dict[int, Decision]:
    """Members listed in excluded.txt and their direct duplicates, rejected, by position in `ranked`."""
    listed = {p for p, m in enumerate(ranked) if is_excluded(m.sha256, excluded)}
    listed_rows = [ranked[p] for p in sorted(listed)]
    dropped = {}
    for p, m in enumerate(ranked):
        hit = None if p in listed else closest_duplicate(m, listed_rows, threshold)
        if p in listed:
            dropped[p] = replace(m, status=Status.REJECTED, reason=Reason.EXCLUDED, detail="listed in excluded.txt")
        elif hit is not None:
            detail = f"duplicate of excluded {hit[0].sha256[:16]}"
            dropped[p] = replace(m, status=Status.REJECTED, reason=Reason.EXCLUDED, detail=detail)
    return dropped


def _drop_cross_domain(ranked: list[Decision], live: list[int], cfg: CurationConfig) -> dict[int, Decision]:
    """Live members that directly duplicate one in the other domain and are not in the domain `cfg.cross_domain`
    keeps, as cross-domain duplicates, by position in `ranked`."""
    by_domain = {d: [ranked[p] for p in live if ranked[p].domain == d] for d in DOMAIN_KEYS}
    if not all(by_domain.values()):
        return {}
    dropped = {}
    for p in live:
        m = ranked[p]
        other_domain = next(d for d in DOMAIN_KEYS if d != m.domain)
        hit = closest_duplicate(m, by_domain[other_domain], cfg.threshold)
        if hit is not None and m.domain != cfg.cross_domain:
            dropped[p] = replace(m, status=Status.DUPLICATE, reason=Reason.CROSS_DOMAIN, distance=hit[1],
                                 detail=f"{hit[1]} bits from {hit[0].sha256[:16]} in {other_domain} "
                                        f"(cross_domain = {cfg.cross_domain!r})")  # fmt: skip
    return dropped


def _drop_duplicates(ranked: list[Decision], live: list[int], threshold: int) -> dict[int, Decision]:
    """In rank order, live members that directly duplicate one already kept in their domain, by position."""
    kept: list[Decision] = []
    dropped = {}
    for p in live:
        m = ranked[p]
        hit = closest_duplicate(m, [k for k in kept if k.domain == m.domain], threshold)
        if hit is None:
            kept.append(m)
            continue
        other, d, same = hit
        reason = Reason.EXACT_DUPLICATE if same else Reason.NEAR_DUPLICATE
        detail = f"{d} bits from kept {other.sha256[:16]}"
        dropped[p] = replace(m, status=Status.DUPLICATE, reason=reason, distance=d, detail=detail)
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
