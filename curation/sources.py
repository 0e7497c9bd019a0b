"""Beside the raw files curation reads: their provenance (the scraper's manifest) and the review's exclusions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scraper.layout import RawLayout

PROVENANCE_COLUMNS = ("url", "page_url", "query", "engine")


class Provenance:
    """Source URL, page, query and engine of raw files, from the scraper's `raw/manifest.sqlite` (read-only).

    Looked up by the file's path relative to `raw/`, else by (domain, sha256). Without a manifest, or for files
    it does not list (a local import), every field is empty: curation never needs it.
    """

    def __init__(self, raw: RawLayout) -> None:
        self.by_path: dict[str, dict[str, str]] = {}
        self.by_sha: dict[tuple[str, str], dict[str, str]] = {}
        self.warning: str | None = None
        path = raw.manifest
        if path.is_file():
            try:
                self._load(path)
            except sqlite3.Error as e:
                self.warning = f"{path}: provenance not read ({type(e).__name__}: {e}); curation goes on without it"

    def _load(self, path: Path) -> None:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            have = {row[1] for row in db.execute("PRAGMA table_info(images)")}
            if not {"domain", "sha256"} <= have:
                self.warning = f"{path}: table images lacks domain/sha256 columns; provenance not read"
                return
            cols = [c for c in PROVENANCE_COLUMNS if c in have]
            path_col = "path" if "path" in have else "NULL"
            where = "WHERE status = 'ok'" if "status" in have else ""
            select = ", ".join(["domain", "sha256", path_col, *cols])
            for row in db.execute(f"SELECT {select} FROM images {where} ORDER BY rowid"):  # noqa: S608
                domain, sha, relpath, *values = row
                info = {c: ("" if v is None else str(v)) for c, v in zip(cols, values, strict=True)}
                if relpath:
                    self.by_path.setdefault(str(relpath), info)
                if sha:
                    self.by_sha.setdefault((str(domain), str(sha)), info)
        finally:
            db.close()

    def lookup(self, domain: str, relpath: str, sha256: str) -> dict[str, str]:
        """The provenance of one raw file; empty strings where unknown."""
        info = self.by_path.get(relpath) or self.by_sha.get((domain, sha256)) or {}
        return {c: info.get(c, "") for c in PROVENANCE_COLUMNS}


def read_excluded(path: Path) -> set[str]:
    """Image ids from excluded.txt, one a line: a sha256, a prefix of at least 8 hex digits, or a file name such
    as `A/<sha256>.jpg` or an output name `<id16>.jpg` (folder and extension are ignored); '#' starts a comment."""
    if not path.is_file():
        return set()
    ids = set()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():  # a stray byte matches no id
        token = line.split("#", 1)[0].strip().lower().rsplit("/", 1)[-1].split(".", 1)[0]
        if token:
            ids.add(token)
    return ids


def is_excluded(sha256: str, excluded: set[str]) -> bool:
    """Whether this id is listed in excluded.txt (in full, or by a prefix of at least 8 characters)."""
    if sha256 in excluded:
        return True
    return any(len(e) >= 8 and sha256.startswith(e) for e in excluded)
