"""Write the dataset: {train,test}/{A,B}/ (and optionally trainA/...) from staged copies, and the manifest CSV."""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.config import DOMAIN_KEYS, SPLITS
from core.files import atomic_open, atomic_path
from curation.config import CurationConfig
from curation.layout import DatasetLayout
from curation.records import Decision, Reason, Status
from scraper.layout import RAW_PREFIX

OUTPUT_NAME_RE = re.compile(r"^[0-9a-f]{16}\.(jpg|png)$")
MANIFEST_COLUMNS = (
    "domain", "id", "raw_path", "status", "reason", "detail", "group", "distance", "score", "split", "output",
    "width", "height", "bytes", "phash", "url", "page_url", "query", "engine",
)  # fmt: skip


def write_outputs(
    ds: Path,
    staging: Path,
    rows: list[Decision],
    cfg: CurationConfig,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[Decision], int]:
    """Make the output folders hold exactly the kept images. Returns the decisions, each kept one with its
    `output` set, and the number of files written.

    Staged copies are hard-linked (copied where links are not possible); an output file this stage wrote before
    and no longer wants is removed. Other files in those folders are left alone.
    """
    layout = DatasetLayout(ds)
    wanted: dict[Path, Path] = {}
    placed = []
    for r in rows:
        if r.status is Status.KEPT:
            name = f"{r.sha256[:16]}.{cfg.output_format}"
            dirs = layout.output_dirs(r.split, r.domain, cfg.official_layout)
            r = replace(r, output=(dirs[0] / name).relative_to(ds).as_posix())
            for d in dirs:
                wanted[d / name] = staging / r.staged
        placed.append(r)
    for d in layout.all_output_dirs():
        if d.is_dir():
            for p in d.iterdir():
                if OUTPUT_NAME_RE.match(p.name) and p not in wanted:
                    p.unlink()
    for split in SPLITS:
        for domain in DOMAIN_KEYS:
            for d in layout.output_dirs(split, domain, cfg.official_layout):
                d.mkdir(parents=True, exist_ok=True)  # the full layout, even where a folder stays empty
    written = 0
    for n, (dest, src) in enumerate(wanted.items(), start=1):
        if not (dest.exists() and os.path.samefile(dest, src)):
            _place(src, dest)
            written += 1
        if progress is not None and (n % 256 == 0 or n == len(wanted)):
            progress("write", n, len(wanted))
    return placed, written


def _place(src: Path, dest: Path) -> None:
    """Hard-link (else copy) `src` to `dest`, atomically replacing a file already there; the folder exists."""
    if not dest.exists():
        try:
            os.link(src, dest)  # nothing to replace, and a link appears whole
            return
        except OSError:  # no hard links across file systems, or `dest` appeared meanwhile: the general way below
            pass
    with atomic_path(dest) as tmp:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def write_manifest(path: Path, rows: list[Decision]) -> Path:
    """The manifest: one row per raw file (kept, rejected or duplicate) with its output, group, split and source."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
        w.writeheader()
        for r in sorted(rows, key=lambda r: (r.domain, r.relpath)):
            w.writerow(_manifest_row(r))
    return path


def read_manifest(path: Path) -> list[Decision]:
    """The decisions in a manifest (without what it does not hold: pixel hash, signature, staged copy, format)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [_decision(row) for row in csv.DictReader(fh)]


def _manifest_row(r: Decision) -> dict[str, Any]:
    row = {c: getattr(r, c) for c in MANIFEST_COLUMNS if c not in ("id", "raw_path")}
    score = "" if r.score is None else f"{r.score:.4f}"
    return {**row, "id": r.sha256, "raw_path": RAW_PREFIX + r.relpath, "score": score}


def _decision(row: dict[str, str]) -> Decision:
    """A manifest row parsed back: '' is None for the optional columns, sizes are ints."""
    number = {c: int(row[c]) if row.get(c) else None for c in ("width", "height", "bytes", "distance")}
    return Decision(
        domain=row["domain"], sha256=row["id"], relpath=row["raw_path"].removeprefix(RAW_PREFIX),
        status=Status(row["status"]), reason=Reason(row["reason"]) if row["reason"] else None,
        detail=row["detail"] or None, group=row["group"], split=row["split"], output=row["output"],
        width=number["width"], height=number["height"], bytes=number["bytes"] or 0, phash=row["phash"] or None,
        url=row["url"], page_url=row["page_url"], query=row["query"], engine=row["engine"],
        distance=number["distance"], score=float(row["score"]) if row.get("score") else None,
    )  # fmt: skip
