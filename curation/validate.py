"""Rejection reasons and the rules that turn a decoded file's measurements into keep or reject."""

from __future__ import annotations

from typing import Any

from curation.config import CurationConfig

# Every reason a raw file can be left out, in the order they are checked; each is a key of the report.
DECODE_REASONS = ("unreadable", "empty", "unidentifiable", "decompression_bomb", "truncated", "corrupt")
RULE_REASONS = ("animated", "too_small", "aspect_ratio", "near_uniform", "grayscale")
REVIEW_REASONS = ("excluded",)
DUPLICATE_REASONS = ("exact_duplicate", "near_duplicate", "cross_domain", "split_conflict")
REJECT_REASONS = DECODE_REASONS + RULE_REASONS + REVIEW_REASONS

REASON_HELP = {
    "unreadable": "the file could not be read (permissions, I/O error)",
    "empty": "the file has zero bytes",
    "unidentifiable": "not an image format Pillow can read (e.g. an HTML error page saved as .jpg)",
    "decompression_bomb": "width x height above max_pixels; rejected from the header, never decoded",
    "truncated": "the image data ends early (full decode; truncated images are never loaded)",
    "corrupt": "the header or the data is malformed",
    "animated": "more than one frame (animated GIF/PNG/WebP); set animated = 'first_frame' to keep frame 1",
    "too_small": "shorter side below min_side",
    "aspect_ratio": "long side / short side above max_aspect (panoramas, banners)",
    "near_uniform": "almost no variance: grey-level standard deviation below min_std (blank or flat images)",
    "grayscale": "no colour: 99th percentile of per-pixel chroma at most grayscale_max_chroma",
    "excluded": "listed in curation/excluded.txt by review",
    "exact_duplicate": "the same decoded pixels as an image kept in its domain (the better one)",
    "near_duplicate": "phash within `threshold` bits of an image kept in its domain (larger, or same size and file)",
    "cross_domain": "a duplicate of an image in the other domain: dropped from both, or from the domain not named "
    "by cross_domain",
    "split_conflict": "was in the other split on an earlier run; a new image joined its group to that split, "
    "and images never change split",
}


def judge(rec: dict[str, Any], cfg: CurationConfig) -> tuple[str | None, str | None]:
    """(reason, detail) for a rejected record, (None, None) for one that passes every rule.

    `rec` is what `curation.decode.analyse_file` returned; decode failures keep their own reason.
    """
    if rec["status"] != "ok":
        return rec["reason"], rec.get("detail")
    w, h = rec["width"], rec["height"]
    if rec.get("frames", 1) > 1 and cfg.animated == "reject":
        return "animated", f"{rec['frames']} frames"
    short, long_ = min(w, h), max(w, h)
    if short < cfg.min_side:
        return "too_small", f"{w}x{h}: shorter side {short} < min_side {cfg.min_side}"
    if long_ / short > cfg.max_aspect:
        return "aspect_ratio", f"{w}x{h}: aspect {long_ / short:.2f} > max_aspect {cfg.max_aspect}"
    if rec["grey_std"] < cfg.min_std:
        return "near_uniform", f"grey std {rec['grey_std']:.2f} < min_std {cfg.min_std}"
    if cfg.reject_grayscale and rec["chroma"] <= cfg.grayscale_max_chroma:
        return "grayscale", f"chroma p99 {rec['chroma']:.1f} <= grayscale_max_chroma {cfg.grayscale_max_chroma}"
    return None, None
