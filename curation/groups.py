"""What each image becomes: rules applied, near-duplicates grouped, and per group who is kept, dropped and where."""

from __future__ import annotations

from typing import Any

import numpy as np

from curation.config import CurationConfig
from curation.dedup import exact_pairs, group_duplicates, hex_to_uint64, near_pairs
from curation.sources import is_excluded
from curation.split import group_split
from curation.validate import judge

Row = dict[str, Any]


def decide(
    recs: list[dict[str, Any]], cfg: CurationConfig, excluded: set[str], history: dict[tuple[str, str], str]
) -> list[Row]:
    """One row per analysed file: status kept / rejected / duplicate, reason, detail, group and split.

    Pure given its inputs: files failing a rule are rejected; the rest are joined into groups (union-find over
    phash pairs within `cfg.threshold` and equal pixel hashes) and each group is resolved by `resolve_group`.
    """
    rows, valid = [], []
    for rec in recs:
        reason, detail = judge(rec, cfg)
        row = _row(rec, "rejected" if reason else "kept", reason, detail)
        rows.append(row)
        if reason is None:
            valid.append(row)
    pairs = [tuple(p) for p in near_pairs(hex_to_uint64(r["phash"] for r in valid), cfg.threshold)]
    pairs += exact_pairs([r["pixel_hash"] for r in valid])
    for members in group_duplicates(len(valid), pairs):
        resolve_group([valid[k] for k in members], cfg, excluded, history)
    return rows


def _row(rec: dict[str, Any], status: str, reason: str | None, detail: str | None) -> Row:
    keys = ("domain", "relpath", "sha256", "bytes", "format", "width", "height", "phash", "pixel_hash")
    row = {k: rec.get(k) for k in (*keys, "staged")}
    row.update(status=status, reason=reason, detail=detail, group="", split="", output="")
    return row


def rank_key(row: Row) -> tuple:
    """Best first: largest resolution, then largest file; ties broken by content hash and domain."""
    return (-row["width"] * row["height"], -row["bytes"], row["sha256"], row["domain"])


def closest_duplicate(row: Row, others: list[Row], threshold: int) -> tuple[Row, int, bool] | None:
    """The nearest of `others` that `row` duplicates directly (same pixels, or phash within `threshold`), with
    the distance in bits and whether the pixels are identical; None if there is none."""
    if not others:
        return None
    d = np.bitwise_count(hex_to_uint64(o["phash"] for o in others) ^ np.uint64(int(row["phash"], 16)))  # (k,)
    same = np.array([o["pixel_hash"] == row["pixel_hash"] for o in others])
    hit = same | (d <= threshold)
    if not hit.any():
        return None
    i = int(np.argmax(same)) if same.any() else int(np.argmin(np.where(hit, d, 65)))
    return others[i], int(d[i]), bool(same[i])


def resolve_group(
    members: list[Row], cfg: CurationConfig, excluded: set[str], history: dict[tuple[str, str], str]
) -> None:
    """Decide every member of one group (a connected component of duplicate pairs); all share one split.

    In rank order (`rank_key`): an image listed in excluded.txt, or a direct duplicate of one, is rejected;
    an image that directly duplicates one in the other domain is dropped from both (cross_domain = 'drop') or
    from the domain not named; then each remaining image is kept unless it directly duplicates an image already
    kept in its domain. So the group's best image is always kept, and distinct images that a chain of
    near-duplicates happens to link are not collapsed into one.
    """
    ranked = sorted(members, key=rank_key)
    gid = f"g{ranked[0]['sha256'][:16]}"
    for m in ranked:
        m["group"] = gid
    live = _drop_excluded(ranked, excluded, cfg.threshold)
    live = _drop_cross_domain(live, cfg)
    kept: list[Row] = []
    for m in live:
        hit = closest_duplicate(m, [k for k in kept if k["domain"] == m["domain"]], cfg.threshold)
        if hit is None:
            kept.append(m)
            continue
        other, d, same = hit
        m.update(status="duplicate", reason="exact_duplicate" if same else "near_duplicate", distance=d,
                 detail=f"{d} bits from kept {other['sha256'][:16]}")  # fmt: skip
    if kept:
        _assign_split(ranked, kept, cfg, history)


def _drop_excluded(ranked: list[Row], excluded: set[str], threshold: int) -> list[Row]:
    listed = [m for m in ranked if is_excluded(m["sha256"], excluded)]
    listed_ids = {id(m) for m in listed}
    live = []
    for m in ranked:
        hit = None if id(m) in listed_ids else closest_duplicate(m, listed, threshold)
        if id(m) in listed_ids:
            m.update(status="rejected", reason="excluded", detail="listed in excluded.txt")
        elif hit is not None:
            m.update(status="rejected", reason="excluded", detail=f"duplicate of excluded {hit[0]['sha256'][:16]}")
        else:
            live.append(m)
    return live


def _drop_cross_domain(live: list[Row], cfg: CurationConfig) -> list[Row]:
    by_domain = {d: [m for m in live if m["domain"] == d] for d in ("A", "B")}
    if not by_domain["A"] or not by_domain["B"]:
        return live
    dropped = []
    for m in live:
        other_domain = "B" if m["domain"] == "A" else "A"
        hit = closest_duplicate(m, by_domain[other_domain], cfg.threshold)
        if hit is not None and m["domain"] != cfg.cross_domain:
            dropped.append(m)
            m.update(status="duplicate", reason="cross_domain", distance=hit[1],
                     detail=f"{hit[1]} bits from {hit[0]['sha256'][:16]} in {other_domain} "
                            f"(cross_domain = {cfg.cross_domain!r})")  # fmt: skip
    dropped_ids = {id(m) for m in dropped}
    return [m for m in live if id(m) not in dropped_ids]


def _assign_split(ranked: list[Row], kept: list[Row], cfg: CurationConfig, history: dict[tuple[str, str], str]) -> None:
    """One split for the whole group, from the history of its best kept image first; a kept image whose earlier
    split differs (two earlier groups joined by a new image) is dropped rather than moved."""
    kept_ids = {id(k) for k in kept}
    order = kept + [m for m in ranked if id(m) not in kept_ids]
    split = group_split([(m["domain"], m["sha256"]) for m in order], history, cfg.seed, cfg.test_fraction)
    for m in ranked:
        earlier = history.get((m["domain"], m["sha256"]))
        if id(m) in kept_ids and earlier is not None and earlier != split:
            detail = f"was in {earlier}; its group now lies in {split} and images never change split"
            m.update(status="duplicate", reason="split_conflict", split="", detail=detail)
        elif m["status"] in ("kept", "duplicate") and m["reason"] != "cross_domain":
            m["split"] = split
