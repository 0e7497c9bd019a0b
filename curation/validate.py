"""The rules that turn a decoded file's measurements into keep or a rejection reason (the reasons: curation.records)."""

from __future__ import annotations

from curation.config import CurationConfig
from curation.records import Analysis, Reason


def judge(analysis: Analysis, cfg: CurationConfig) -> tuple[Reason | None, str | None]:
    """(reason, detail) for a rejected file, (None, None) for one that passes every rule.

    `analysis` is what `curation.decode.analyse_file` returned; decode failures keep their own reason.
    """
    if not analysis.ok:
        return analysis.reason, analysis.detail
    w, h = analysis.width, analysis.height
    if analysis.frames > 1 and cfg.animated == "reject":
        return Reason.ANIMATED, f"{analysis.frames} frames"
    short, long_ = min(w, h), max(w, h)
    if short < cfg.min_side:
        return Reason.TOO_SMALL, f"{w}x{h}: shorter side {short} < min_side {cfg.min_side}"
    if long_ / short > cfg.max_aspect:
        return Reason.ASPECT_RATIO, f"{w}x{h}: aspect {long_ / short:.2f} > max_aspect {cfg.max_aspect}"
    if analysis.grey_std < cfg.min_std:
        return Reason.NEAR_UNIFORM, f"grey std {analysis.grey_std:.2f} < min_std {cfg.min_std}"
    if cfg.reject_grayscale and analysis.chroma <= cfg.grayscale_max_chroma:
        chroma, limit = analysis.chroma, cfg.grayscale_max_chroma
        return Reason.GRAYSCALE, f"chroma p99 {chroma:.1f} <= grayscale_max_chroma {limit}"
    return None, None
