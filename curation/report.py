"""The review report: counts per domain (report.json), contact sheets, and the excluded-ids list review writes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import DOMAIN_KEYS, SPLITS, ConfigError
from core.files import write_json
from curation.config import CurationConfig
from curation.layout import DatasetLayout
from curation.records import (
    DECODE_REASONS,
    DUPLICATE_REASONS,
    ID_PREFIX,
    REASON_HELP,
    REJECT_REASONS,
    Decision,
    Reason,
    Status,
    duplicate_groups,
)
from curation.sheets import SHEET_KINDS, write_sheets
from scraper.layout import RAW_PREFIX

FEW_IMAGES = 20  # a domain that ends with fewer kept images gets a warning: too few to train a CycleGAN on
_EXAMPLES = 3


def problems(rows: list[Decision]) -> dict[str, dict[str, Any]]:
    """The files that could not be decoded, by reason (in DECODE_REASONS order, only those that occur): how many in
    each domain, what the reason means, and up to 3 kinds of detail, most frequent first, each with a count and a
    first file. `decode_error` lists every file (they are unexpected: each is worth a look)."""
    found: dict[str, dict[str, Any]] = {}
    for reason in DECODE_REASONS:
        mine = sorted((r for r in rows if r.reason is reason), key=lambda r: (r.domain, r.relpath))
        if not mine:
            continue
        kinds: dict[str, list[Decision]] = {}
        for r in mine:
            kinds.setdefault(_gist(r.detail or ""), []).append(r)
        ranked = sorted(kinds.values(), key=lambda k: -len(k))
        every = reason is Reason.DECODE_ERROR
        found[reason.value] = {
            "count": len(mine),
            "domains": {d: sum(r.domain == d for r in mine) for d in DOMAIN_KEYS},
            "help": REASON_HELP[reason],
            "kinds": [{"count": len(k), "raw_path": RAW_PREFIX + k[0].relpath, "detail": k[0].detail} for k in ranked][
                : None if every else _EXAMPLES
            ],
            **({"files": [{"raw_path": RAW_PREFIX + r.relpath, "detail": r.detail} for r in mine]} if every else {}),
        }
    return found


def _gist(detail: str) -> str:
    """A detail without its numbers and quoted bits: details that differ only there are one kind of problem."""
    return re.sub(r"\d+|b'[^']*'|\"[^\"]*\"|'[^']*'", "#", detail.split(" (printed: ")[0])[:120]


def shortfall_warnings(rows: list[Decision], found: dict[str, dict[str, Any]]) -> list[str]:
    """Warnings for a domain left with no or few images, and for files that failed unexpectedly or crashed."""
    out = []
    for d in DOMAIN_KEYS:
        raw = sum(r.domain == d for r in rows)
        kept = sum(r.domain == d and r.status is Status.KEPT for r in rows)
        if kept == 0:
            out.append(f"{d}: no images kept (of {raw} raw files): nothing to train on; see the counts by reason, "
                       "the rejected contact sheet and the manifest")  # fmt: skip
        elif kept < FEW_IMAGES:
            out.append(f"{d}: only {kept} images kept (of {raw} raw files), fewer than {FEW_IMAGES}: too few to "
                       "train a CycleGAN; add images or loosen the rules")  # fmt: skip
    for reason, what in ((Reason.DECODE_ERROR, "failed with an unexpected error (probably a bug; please report it)"),
                         (Reason.DECODER_CRASHED, "crashed the decoder process")):  # fmt: skip
        if reason.value in found:
            out.append(f"{found[reason.value]['count']} file(s) {what}: see {reason.value} in report.json "
                       "and the manifest")  # fmt: skip
    return out


def count_rows(rows: list[Decision]) -> dict[str, dict[str, Any]]:
    """Per domain: raw, kept, train, test, rejected by reason, duplicates by kind, and duplicate groups."""
    counts: dict[str, dict[str, Any]] = {}
    for d in DOMAIN_KEYS:
        mine = [r for r in rows if r.domain == d]
        kept = [r for r in mine if r.status is Status.KEPT]
        counts[d] = {
            "raw": len(mine),
            "kept": len(kept),
            **{s: sum(r.split == s for r in kept) for s in SPLITS},
            "rejected": {k.value: sum(r.reason is k for r in mine) for k in REJECT_REASONS},
            "duplicates": {k.value: sum(r.reason is k for r in mine) for k in DUPLICATE_REASONS},
            "duplicate_groups": len(duplicate_groups(mine)),
        }
    return counts


def build_report(
    layout: DatasetLayout,
    rows: list[Decision],
    cfg: CurationConfig,
    analysed: int,
    cached: int,
    warnings: tuple[str, ...],
    progress: Callable[[str, int, int], None] | None = None,
    found: dict[str, dict[str, Any]] | None = None,
) -> tuple[Path, dict[str, dict[str, Any]], dict[str, list[Path]]]:
    """Write the contact sheets and report.json; return (report path, counts, sheets by kind)."""
    cur = layout.curation_dir
    counts = count_rows(rows)
    sheets = write_sheets(layout.sheets, layout.staged, rows, cfg, progress)
    report = {
        "dataset": str(cfg.data_dir()),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "counts": counts,
        "analysed": analysed,
        "cached": cached,
        "sheets": {k: [str(p.relative_to(cur)) for p in v] for k, v in sheets.items()},
        "reasons": {k.value: v for k, v in REASON_HELP.items()},
        "warnings": list(warnings),
        "problems": problems(rows) if found is None else found,
        "config": cfg.to_dict(),
    }
    path = write_json(layout.report, report, indent=2, ensure_ascii=False)
    return path, counts, sheets


@dataclass(frozen=True)
class ReviewSummary:
    """What the review step shows: counts per domain and the contact sheets, by kind (see SHEET_KINDS)."""

    counts: dict[str, dict[str, Any]]
    sheets: dict[str, list[Path]]
    report: Path
    manifest: Path
    excluded: Path


def review_summary(dataset_dir: str | Path) -> ReviewSummary:
    """Counts and contact-sheet paths of the last curation of this dataset (from its curation/report.json)."""
    layout = DatasetLayout(Path(dataset_dir))
    cur, path = layout.curation_dir, layout.report
    if not path.is_file():
        raise ConfigError(f"dataset: {path} not found; run `sakura curate` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    sheets = {k: [cur / p for p in data["sheets"].get(k, [])] for k in data["sheets"]}
    return ReviewSummary(data["counts"], sheets, path, layout.manifest, layout.excluded)


def add_excluded(dataset_dir: str | Path, ids: list[str], note: str = "") -> Path:
    """Append image ids to curation/excluded.txt (the next run leaves them and their duplicates out)."""
    path = DatasetLayout(Path(dataset_dir)).excluded
    path.parent.mkdir(parents=True, exist_ok=True)
    comment = f"  # {note}" if note else ""
    with path.open("a", encoding="utf-8") as fh:
        for i in ids:
            token = str(i).strip()
            if len(token) < ID_PREFIX:
                raise ConfigError(
                    f"excluded id: got {token!r}; allowed: a sha256 or a prefix of at least {ID_PREFIX} characters"
                )
            fh.write(f"{token}{comment}\n")
    return path


__all__ = [
    "FEW_IMAGES", "SHEET_KINDS", "ReviewSummary", "add_excluded", "build_report", "count_rows", "problems",
    "review_summary", "shortfall_warnings",
]  # fmt: skip
