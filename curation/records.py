"""Curation's records: what decoding found about a raw file (Analysis), what became of it (Decision), and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

ID_PREFIX = 8  # an image id (its sha256) shortened to this many characters: sheets show it, excluded.txt takes it


class Status(StrEnum):
    """What became of a raw file: in the dataset, left out by a rule or review, or dropped as a duplicate."""

    KEPT = "kept"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class Reason(StrEnum):
    """Why a raw file is not in the dataset."""

    UNREADABLE = "unreadable"
    EMPTY = "empty"
    UNIDENTIFIABLE = "unidentifiable"
    DECOMPRESSION_BOMB = "decompression_bomb"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    UNSUPPORTED_FORMAT = "unsupported_format"
    DECODER_UNAVAILABLE = "decoder_unavailable"
    DECODER_CRASHED = "decoder_crashed"
    DECODE_TIMEOUT = "decode_timeout"
    DECODE_ERROR = "decode_error"
    ANIMATED = "animated"
    TOO_SMALL = "too_small"
    ASPECT_RATIO = "aspect_ratio"
    NEAR_UNIFORM = "near_uniform"
    GRAYSCALE = "grayscale"
    EXCLUDED = "excluded"
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    CROSS_DOMAIN = "cross_domain"
    SPLIT_CONFLICT = "split_conflict"


# Every reason a raw file can be left out, in the order they are checked; each is a key of the report.
DECODE_REASONS = (
    Reason.UNREADABLE, Reason.EMPTY, Reason.UNIDENTIFIABLE, Reason.UNSUPPORTED_FORMAT, Reason.DECODER_UNAVAILABLE,
    Reason.DECOMPRESSION_BOMB, Reason.TRUNCATED, Reason.CORRUPT, Reason.DECODER_CRASHED, Reason.DECODE_TIMEOUT,
    Reason.DECODE_ERROR,
)  # fmt: skip
# Decode failures that may not happen again (a codec installed, a permission fixed, a bug fixed, less load): their
# files are decoded again on every run rather than taken from the cache. Not a timeout: trying again would cost the
# whole timeout on every run (touch the file to try it again).
RETRIED_REASONS = frozenset({Reason.UNREADABLE, Reason.DECODER_UNAVAILABLE, Reason.DECODER_CRASHED,
                             Reason.DECODE_ERROR})  # fmt: skip
RULE_REASONS = (Reason.ANIMATED, Reason.TOO_SMALL, Reason.ASPECT_RATIO, Reason.NEAR_UNIFORM, Reason.GRAYSCALE)
REVIEW_REASONS = (Reason.EXCLUDED,)
DUPLICATE_REASONS = (Reason.EXACT_DUPLICATE, Reason.NEAR_DUPLICATE, Reason.CROSS_DOMAIN, Reason.SPLIT_CONFLICT)
REJECT_REASONS = DECODE_REASONS + RULE_REASONS + REVIEW_REASONS

REASON_HELP: dict[Reason, str] = {
    Reason.UNREADABLE: "the file could not be read (permissions, I/O error)",
    Reason.EMPTY: "the file has zero bytes",
    Reason.UNIDENTIFIABLE: "not an image: no format Pillow knows (an HTML error page saved as .jpg, a video, text); "
    "the detail names what it looks like when it can",
    Reason.UNSUPPORTED_FORMAT: "an image format or variant Pillow does not decode (SVG, PDF, JPEG XR, camera raw, a "
    "DDS pixel format or BMP compression it does not implement)",
    Reason.DECODER_UNAVAILABLE: "needs a codec or plugin this machine lacks, named in the detail (EPS: Ghostscript; "
    "HEIC: pillow-heif; TIFF with WebP compression: a libtiff built with WebP); retried on every run",
    Reason.DECOMPRESSION_BOMB: "width x height above max_pixels (or Pillow's own limit, at open or during decoding); "
    "rejected from the header where it tells, never decoded in full",
    Reason.TRUNCATED: "the file ends early (full decode; truncated images are never loaded)",
    Reason.CORRUPT: "the header or the data is malformed",
    Reason.DECODER_CRASHED: "the decoding process died on this file (a crash in a C library, or killed for memory), "
    "also when it was decoded again alone; retried on every run",
    Reason.DECODE_TIMEOUT: "decoding took longer than decode_timeout seconds and was stopped (touch the file, or "
    "delete curation/state.sqlite, to try it again)",
    Reason.DECODE_ERROR: "an unexpected error (probably a bug: please report it with the detail); retried on every run",
    Reason.ANIMATED: "more than one frame (animated GIF/PNG/WebP); set animated = 'first_frame' to keep frame 1",
    Reason.TOO_SMALL: "shorter side below min_side",
    Reason.ASPECT_RATIO: "long side / short side above max_aspect (panoramas, banners)",
    Reason.NEAR_UNIFORM: "almost no variance: grey-level standard deviation below min_std (blank or flat images)",
    Reason.GRAYSCALE: "no colour: 99th percentile of per-pixel chroma at most grayscale_max_chroma",
    Reason.EXCLUDED: "listed in curation/excluded.txt by review",
    Reason.EXACT_DUPLICATE: "the same pixels as an image kept in its domain (the better one): their resized copies "
    "are byte for byte the same",
    Reason.NEAR_DUPLICATE: "the same picture as an image kept in its domain (larger, or same size and file): re-saved, "
    "recompressed, resized, brightened, mirrored or cropped: a candidate pair (within `threshold` bits, whole frame, "
    "mirrored or a window) whose verification score is at least `min_score`",
    Reason.CROSS_DOMAIN: "a duplicate of an image in the other domain: dropped from both, or from the domain not "
    "named by cross_domain",
    Reason.SPLIT_CONFLICT: "was in the other split on an earlier run; a new image joined its group to that split, "
    "and images never change split",
}

# The stored JSON keeps the shape written before these records were typed: a 'status' of 'ok' or 'failed'.
_DECODED, _FAILED = "ok", "failed"


@dataclass(frozen=True, slots=True)
class Analysis:
    """What `curation.decode.analyse_file` found out about one raw file (cached in state.sqlite as JSON).

    `ok` False: it cannot be decoded, `reason` (one of DECODE_REASONS) and `detail` say why, and what was not
    measured is None. `ok` True: `detail` says what normalisation could not do (EXIF orientation unreadable, ICC
    profile not applied), or is None. `staged` is the resized copy's path relative to the staging folder.
    `signature` (`curation.verify.describe`: window hashes that find candidate pairs, detail and profiles that
    verify them); `pixel_hash` is a hash of the staged copy's bytes, equal for the same picture saved in other files
    (exact duplicates).
    """

    domain: str
    relpath: str
    sha256: str = ""
    bytes: int = 0
    mtime_ns: int = 0
    ok: bool = False
    reason: Reason | None = None
    detail: str | None = None
    format: str | None = None
    mode: str | None = None
    frames: int = 1
    width: int | None = None
    height: int | None = None
    icc: str | None = None
    pixel_hash: str | None = None
    grey_std: float | None = None
    chroma: float | None = None
    phash: str | None = None
    signature: bytes | None = None
    staged: str | None = None
    corners: bool = False  # rotated inside its frame, its corners filled dark (`curation.decode.filled_rotation`)
    clipped: float | None = None  # share of the resized copy's pixels clipped to white (a brightened copy's are more)
    quant: float | None = None  # mean step of a JPEG's luminance quantisation table (1: best; None: not a JPEG)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (reason as its word, `ok` stored as status 'ok' or 'failed'), without the signature,
        which is binary (curation.state keeps it beside the JSON)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("ok", "signature")}
        d.update(status=_DECODED if self.ok else _FAILED, reason=None if self.reason is None else self.reason.value)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], signature: bytes | None = None) -> Analysis:
        """The analysis `to_dict` wrote, with its signature (keys it lacks take their defaults; unknown keys are
        ignored)."""
        names = {f.name for f in fields(cls)} - {"ok", "reason", "signature"}
        reason = Reason(d["reason"]) if d.get("reason") else None
        return cls(ok=d["status"] == _DECODED, reason=reason, signature=signature,
                   **{k: v for k, v in d.items() if k in names})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    """What became of one raw file: a row of the manifest (`id` there is `sha256`, `raw_path` is `raw/<relpath>`).

    A duplicate's `distance` (phash bits, whole frame or mirrored) and `score` (verification, 0-1) are to the image
    it duplicates. `pixel_hash`, `staged` and `format` serve grouping and the contact sheets; the manifest does not
    hold them, so a decision read back from it has them None.
    """

    domain: str
    sha256: str
    relpath: str
    status: Status
    reason: Reason | None = None
    detail: str | None = None
    group: str = ""
    split: str = ""
    output: str = ""
    width: int | None = None
    height: int | None = None
    bytes: int = 0
    phash: str | None = None
    url: str = ""
    page_url: str = ""
    query: str = ""
    engine: str = ""
    distance: int | None = None
    score: float | None = None
    pixel_hash: str | None = None
    staged: str | None = None
    format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (status and reason as their words)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update(status=self.status.value, reason=None if self.reason is None else self.reason.value)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Decision:
        """The decision `to_dict` wrote."""
        return cls(**{**d, "status": Status(d["status"]), "reason": Reason(d["reason"]) if d["reason"] else None})

    @classmethod
    def judged(cls, a: Analysis, reason: Reason | None, detail: str | None) -> Decision:
        """The first decision about an analysed file: rejected with `reason`, or (no reason) kept for now."""
        status = Status.KEPT if reason is None else Status.REJECTED
        return cls(
            domain=a.domain, sha256=a.sha256, relpath=a.relpath, status=status, reason=reason,
            detail=a.detail if reason is None else detail,
            width=a.width, height=a.height, bytes=a.bytes, phash=a.phash, pixel_hash=a.pixel_hash, staged=a.staged,
            format=a.format,
        )  # fmt: skip


_GROUP_ORDER = {Status.KEPT: 0, Status.DUPLICATE: 1, Status.REJECTED: 2}


def duplicate_groups(rows: Iterable[Decision]) -> list[list[Decision]]:
    """The duplicate groups among `rows`: rows sharing a `group` with more than one member.

    Each group is ordered kept first, then duplicates, then rejected, ties by sha256; groups largest first, then by
    their first member's sha256.
    """
    groups: dict[str, list[Decision]] = {}
    for r in rows:
        if r.group:
            groups.setdefault(r.group, []).append(r)
    multi = [sorted(g, key=lambda r: (_GROUP_ORDER[r.status], r.sha256)) for g in groups.values() if len(g) > 1]
    multi.sort(key=lambda g: (-len(g), g[0].sha256))
    return multi
