"""The writer: alone owns raw/<domain>/<sha256>.<ext> files and the SQLite (WAL) manifest."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from core.files import temp_writer_pid, write_atomic
from scraper import records as R
from scraper.layout import RawLayout
from scraper.records import Candidate, Fetched, SearchOutcome

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    domain TEXT NOT NULL,
    url TEXT NOT NULL,
    query TEXT,
    engine TEXT,
    rank INTEGER,
    page_url TEXT,
    title TEXT,
    status TEXT NOT NULL,
    error TEXT,
    http_status INTEGER,
    sha256 TEXT,
    bytes INTEGER,
    width INTEGER,
    height INTEGER,
    ext TEXT,
    fetched_at TEXT,
    path TEXT,
    is_thumbnail INTEGER NOT NULL DEFAULT 0,
    found_at TEXT,
    PRIMARY KEY (domain, url)
);
CREATE INDEX IF NOT EXISTS images_sha256 ON images (sha256);
CREATE INDEX IF NOT EXISTS images_status ON images (status);
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL,
    query TEXT NOT NULL,
    engine TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    layer TEXT,
    found INTEGER NOT NULL,
    debug_files TEXT,
    searched_at TEXT NOT NULL,
    asked INTEGER,
    stop TEXT,
    fallback_from TEXT,
    fallback_reason TEXT,
    layer_counts TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    config TEXT NOT NULL
);
"""
# Columns added after the first manifests were written: added to older manifests on open.
_ADDED_COLUMNS = {
    "searches": ("asked INTEGER", "stop TEXT", "fallback_from TEXT", "fallback_reason TEXT", "layer_counts TEXT")
}
# Rows a rerun skips unless asked to retry failures: fixed outcomes, and 4xx answers other than 408/429.
_SETTLED_SQL = (
    f"status IN ({','.join(repr(s) for s in R.SETTLED)}) OR (status = 'http_error' AND http_status >= 400 "
    "AND http_status < 500 AND http_status NOT IN (408, 429))"
)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _remove_stale_partials(folder: Path) -> None:
    """Delete temp files left by killed runs (never renamed, so never visible); other live writers keep theirs."""
    for part in folder.iterdir():
        pid = temp_writer_pid(part)
        if pid is None or not _pid_alive(pid):
            part.unlink(missing_ok=True)


@dataclass(frozen=True)
class Stored:
    """A fetch result after the store decided it: final status, reason and file path (None unless stored)."""

    fetched: Fetched
    status: str
    error: str | None
    path: str | None


class Store:
    """Files named by content under raw/<domain>/, and one manifest row per (domain, URL)."""

    def __init__(self, raw_dir: str | Path, fsync: bool = True) -> None:
        self.layout = RawLayout(Path(raw_dir))
        self.raw_dir, self.partial_dir, self.fsync = self.layout.root, self.layout.partial_dir, fsync
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(self.partial_dir)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.layout.manifest, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed row survives a killed process; power loss may drop the latest rows
        # (their files are then adopted by the rerun), never corrupt the manifest.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.executescript(SCHEMA)
        self._add_missing_columns()
        rows = self.db.execute("SELECT sha256, path, url FROM images WHERE status = 'ok'").fetchall()
        self._owners: dict[str, tuple[str, str]] = {sha: (path, url) for sha, path, url in rows}

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            for col in columns:
                if col.split()[0] not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {col}")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_run(self, config: dict) -> str:
        """Record a run and the settings it used; returns its id (also the name of its debug folder)."""
        run_id = R.utc_now().replace(":", "").replace("+0000", "Z") + "-" + uuid.uuid4().hex[:6]
        with self._lock:
            self.db.execute("INSERT INTO runs VALUES (?, ?, ?)", (run_id, R.utc_now(), json.dumps(config)))
        return run_id

    def debug_dir(self, run_id: str) -> Path:
        """Where a run saves page sources and screenshots of searches that found nothing."""
        return self.layout.debug_dir(run_id)

    def add_found(self, cands: list[Candidate]) -> int:
        """Record found candidates as pending (first finder's provenance wins); returns how many were new."""
        rows = [
            (
                c.domain,
                c.url,
                c.query,
                c.engine,
                c.rank,
                c.page_url,
                c.title,
                R.PENDING,
                int(c.is_thumbnail),
                R.utc_now(),
            )
            for c in cands
        ]
        with self._lock:
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO images (domain, url, query, engine, rank, page_url, title, status, "
                "is_thumbnail, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return self.db.total_changes - before

    def settled(self, domain: str, retry_failed: bool = False) -> dict[str, str]:
        """URL -> status of this domain's URLs a rerun must not fetch again: ok and duplicate always, fixed failures
        unless retrying."""
        where = "status IN ('ok', 'duplicate')" if retry_failed else f"({_SETTLED_SQL})"
        with self._lock:
            rows = self.db.execute(f"SELECT url, status FROM images WHERE domain = ? AND {where}", (domain,))
            return dict(rows.fetchall())

    def settled_urls(self, domain: str, retry_failed: bool = False) -> set[str]:
        """The URLs of `settled`."""
        return set(self.settled(domain, retry_failed))

    def count(self, domain: str | None = None, status: str = R.OK) -> int:
        """Rows with this status (default ok), for one domain or all."""
        sql, args = "SELECT COUNT(*) FROM images WHERE status = ?", [status]
        if domain:
            sql, args = sql + " AND domain = ?", [status, domain]
        with self._lock:
            return self.db.execute(sql, args).fetchone()[0]

    def status_counts(self) -> dict[tuple[str, str], int]:
        """(domain, status) -> number of rows, over the whole manifest."""
        with self._lock:
            rows = self.db.execute("SELECT domain, status, COUNT(*) FROM images GROUP BY domain, status").fetchall()
        return {(d, s): n for d, s, n in rows}

    def put(self, f: Fetched) -> Stored:
        """Write an ok result's bytes once per content (thread-safe; call it from fetch threads); decide its status.

        The first URL whose bytes have a given sha256 stores them; later ones are duplicates and store nothing.
        """
        if not f.ok:
            return Stored(f, f.status, f.error, None)
        with self._lock:
            owner = self._owners.get(f.sha256)
            if owner is None:
                self._owners[f.sha256] = (
                    self.layout.image_relpath(f.candidate.domain, f.sha256, f.ext),
                    f.candidate.url,
                )
        if owner is not None:
            return Stored(f, R.DUPLICATE, f"same bytes as {owner[0]} ({owner[1][:200]})", None)
        try:
            path = self._write(f.candidate.domain, f.sha256, f.ext, f.data)
        except BaseException:
            with self._lock:  # not stored after all: the next URL with these bytes may store them
                self._owners.pop(f.sha256, None)
            raise
        return Stored(f, R.OK, None, path)

    def commit(self, s: Stored) -> str:
        """Upsert the manifest row of a put() result (one committed transaction); returns its status."""
        with self._lock:
            self._upsert(s.fetched, s.status, s.error, s.path)
        return s.status

    def record(self, f: Fetched) -> str:
        """put() then commit(): store the bytes of an ok result once and upsert its row; returns the final status."""
        return self.commit(self.put(f))

    def _write(self, domain: str, sha256: str, ext: str, data: bytes) -> str:
        rel = self.layout.image_relpath(domain, sha256, ext)
        final = self.raw_dir / rel
        if final.exists():  # written by a run killed before its row was committed: same name, same bytes
            return rel
        final.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(final, data, folder=self.partial_dir, fsync=self.fsync)
        return rel

    def _upsert(self, f: Fetched, status: str, error: str | None, path: str | None) -> None:
        c = f.candidate
        self.db.execute(
            "INSERT INTO images (domain, url, query, engine, rank, page_url, title, status, error, http_status, "
            "sha256, bytes, width, height, ext, fetched_at, path, is_thumbnail, found_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (domain, url) DO UPDATE SET status = excluded.status, error = excluded.error, "
            "http_status = excluded.http_status, sha256 = excluded.sha256, bytes = excluded.bytes, "
            "width = excluded.width, height = excluded.height, ext = excluded.ext, "
            "fetched_at = excluded.fetched_at, path = excluded.path",
            (
                c.domain, c.url, c.query, c.engine, c.rank, c.page_url, c.title, status, error, f.http_status,
                f.sha256, len(f.data) if f.data is not None else None, f.width, f.height, f.ext, f.fetched_at,
                path, int(c.is_thumbnail), f.fetched_at,
            ),
        )  # fmt: skip

    def record_search(self, domain: str, query: str, engine: str, outcome: SearchOutcome) -> None:
        """Log one search (status ok, empty, blocked or error) with its message, what was asked, why it stopped and
        its debug files; an engine it fell back from gets its own row first."""
        with self._lock:
            for o in (*outcome.attempts, outcome):
                self.db.execute(
                    "INSERT INTO searches (domain, query, engine, status, message, layer, found, debug_files, "
                    "searched_at, asked, stop, fallback_from, fallback_reason, layer_counts) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        domain, query, o.engine or engine, o.status, o.message, o.layer, len(o.candidates),
                        json.dumps(list(o.debug_files)), R.utc_now(), o.asked or None, o.stop or None,
                        o.fallback_from or None, o.fallback_reason or None,
                        json.dumps(dict(o.layer_counts)) if o.layer_counts else None,
                    ),
                )  # fmt: skip

    def rows(self, where: str = "1", args: tuple = ()) -> list[dict]:
        """Manifest rows as dicts, filtered by an SQL condition (for reports and tests)."""
        with self._lock:
            cur = self.db.execute(f"SELECT * FROM images WHERE {where} ORDER BY domain, rank, url", args)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
