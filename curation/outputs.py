"""Write the dataset: {train,test}/{A,B}/ (and optionally trainA/...) from staged copies, and the manifest CSV."""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.config import CurationConfig
from sakura.config import DOMAIN_KEYS

OUTPUT_NAME_RE = re.compile(r"^[0-9a-f]{16}\.(jpg|png)$")
MANIFEST_COLUMNS = (
    "domain", "id", "raw_path", "status", "reason", "detail", "group", "split", "output",
    "width", "height", "bytes", "phash", "url", "page_url", "query", "engine",
)  # fmt: skip


def output_dirs(split: str, domain: str, official: bool) -> list[str]:
    """Folders (relative to the dataset) an image of this split and domain is written to."""
    dirs = [f"{split}/{domain}"]
    if official:
        dirs.append(f"{split}{domain}")
    return dirs


def _all_output_dirs(ds: Path) -> list[Path]:
    return [ds / d for s in ("train", "test") for k in DOMAIN_KEYS for d in output_dirs(s, k, True)]


def write_outputs(
    ds: Path,
    staging: Path,
    rows: list[dict[str, Any]],
    cfg: CurationConfig,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Make the output folders hold exactly the kept images; set each kept row's `output`. Returns files written.

    Staged copies are hard-linked (copied where links are not possible); an output file this stage wrote before
    and no longer wants is removed. Other files in those folders are left alone.
    """
    wanted: dict[Path, Path] = {}
    for r in rows:
        if r["status"] != "kept":
            continue
        name = f"{r['sha256'][:16]}.{cfg.output_format}"
        dirs = output_dirs(r["split"], r["domain"], cfg.official_layout)
        r["output"] = f"{dirs[0]}/{name}"
        for d in dirs:
            wanted[ds / d / name] = staging / r["staged"]
    for d in _all_output_dirs(ds):
        if d.is_dir():
            for p in d.iterdir():
                if OUTPUT_NAME_RE.match(p.name) and p not in wanted:
                    p.unlink()
    for split in ("train", "test"):
        for domain in DOMAIN_KEYS:
            for d in output_dirs(split, domain, cfg.official_layout):
                (ds / d).mkdir(parents=True, exist_ok=True)  # the full layout, even where a folder stays empty
    written = 0
    for n, (dest, src) in enumerate(wanted.items(), start=1):
        if not (dest.exists() and os.path.samefile(dest, src)):
            _place(src, dest)
            written += 1
        if progress is not None and (n % 256 == 0 or n == len(wanted)):
            progress("write", n, len(wanted))
    return written


def _place(src: Path, dest: Path) -> None:
    """Hard-link (else copy) `src` to `dest`, atomically replacing a file already there; the folder exists."""
    if not dest.exists():
        try:
            os.link(src, dest)  # nothing to replace, and a link appears whole
            return
        except OSError:  # no hard links across file systems, or `dest` appeared meanwhile: the general way below
            pass
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def write_manifest(path: Path, rows: list[dict[str, Any]]) -> Path:
    """The manifest: one row per raw file (kept, rejected or duplicate) with its output, group, split and source."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in sorted(rows, key=lambda r: (r["domain"], r["relpath"])):
            w.writerow({**r, "id": r["sha256"], "raw_path": f"raw/{r['relpath']}"})
    os.replace(tmp, path)
    return path


def read_manifest(path: Path) -> list[dict[str, str]]:
    """The manifest rows as dicts of strings."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
