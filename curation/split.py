"""Deterministic, seeded train/test split of duplicate groups that never moves an image once assigned."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from core.config import TEST, TRAIN


def split_for(key: str, seed: int, test_fraction: float) -> str:
    """'test' or 'train' from a seeded hash of `key`: the same answer on every run and machine, independent of
    which other images exist, so adding images never changes an earlier assignment."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    return TEST if u < test_fraction else TRAIN


def group_split(
    ranked_members: Sequence[tuple[str, str]],
    history: dict[tuple[str, str], str],
    seed: int,
    test_fraction: float,
) -> str:
    """The split of one duplicate group, given its members as (domain, sha256), best first.

    An image keeps the split it had on an earlier run: the group takes the earlier split of its best member that
    has one (the kept one when it has one), so a group grown by a new scrape stays where it was. A group with no
    history is placed by `split_for` of its best member's sha256.
    """
    for member in ranked_members:
        if member in history:
            return history[member]
    return split_for(ranked_members[0][1], seed, test_fraction)
