"""Curation state kept between runs (SQLite): cached analyses of raw files, verdicts of pairs, every split ever
assigned, and the last run's decisions by what they were decided from."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from core.config import ConfigError
from curation.policy import Match
from curation.records import Analysis, Decision

_SCHEMA = """
CREATE TABLE IF NOT EXISTS analysis (
    domain TEXT NOT NULL, relpath TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    decode_key TEXT NOT NULL, record TEXT NOT NULL, signature BLOB, PRIMARY KEY (domain, relpath));
CREATE TABLE IF NOT EXISTS splits (
    domain TEXT NOT NULL, sha256 TEXT NOT NULL, split TEXT NOT NULL CHECK (split IN ('train', 'test')),
    assigned_at REAL NOT NULL, PRIMARY KEY (domain, sha256));
CREATE TABLE IF NOT EXISTS decisions (
    inputs TEXT NOT NULL PRIMARY KEY, history TEXT NOT NULL, rows TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (
    a TEXT NOT NULL, b TEXT NOT NULL, policy TEXT NOT NULL, bits INTEGER, score REAL, inliers INTEGER,
    PRIMARY KEY (a, b, policy));
"""


class CurationState:
    """The state file `<dataset>/curation/state.sqlite`; a context manager that commits on exit."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(analysis)")}
            if "signature" not in columns:  # a state file from before signatures: its analyses are redone anyway
                self.db.execute("ALTER TABLE analysis ADD COLUMN signature BLOB")
            self.db.execute(
                "SELECT domain, relpath, size, mtime_ns, decode_key, record, signature FROM analysis LIMIT 1"
            )
            self.db.execute("SELECT domain, sha256, split, assigned_at FROM splits LIMIT 1")
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise ConfigError(
                f"curation state {self.path}: not readable ({type(e).__name__}: {e}); delete it to start over "
                "(every file is decoded again and the train/test split is drawn anew)"
            ) from e

    def __enter__(self) -> CurationState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit and close."""
        self.db.commit()
        self.db.close()

    def all_cached(self, decode_key: str) -> dict[tuple[str, str], tuple[int, int, Analysis]]:
        """Every stored analysis made with these decode settings, by (domain, relpath): (size, mtime_ns, analysis)."""
        rows = self.db.execute(
            "SELECT domain, relpath, size, mtime_ns, record, signature FROM analysis WHERE decode_key = ?",
            (decode_key,),
        )
        out = {}
        for d, p, s, m, r, sig in rows:
            try:
                out[(d, p)] = (s, m, Analysis.from_dict(json.loads(r), sig))
            except (ValueError, KeyError, TypeError):  # a record this version cannot read: a miss, decoded again
                continue
        return out

    def store(self, records: Iterable[Analysis], decode_key: str) -> None:
        """Save analyses (from `curation.decode.analyse_file`) and commit."""
        self.db.executemany(
            "INSERT OR REPLACE INTO analysis (domain, relpath, size, mtime_ns, decode_key, record, signature)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r.domain, r.relpath, r.bytes, r.mtime_ns, decode_key, json.dumps(r.to_dict()), r.signature)
             for r in records],
        )  # fmt: skip
        self.db.commit()

    def prune(self, present: set[tuple[str, str]]) -> list[Analysis]:
        """Forget analyses of raw files that are gone; return them (without their signatures)."""
        keys = self.db.execute("SELECT domain, relpath FROM analysis").fetchall()
        gone = [(d, p) for d, p in keys if (d, p) not in present]
        records = [self.db.execute("SELECT record FROM analysis WHERE domain = ? AND relpath = ?", k).fetchone()[0]
                   for k in gone]  # fmt: skip
        self.db.executemany("DELETE FROM analysis WHERE domain = ? AND relpath = ?", gone)
        self.db.commit()
        return [Analysis.from_dict(json.loads(r)) for r in records]

    def split_history(self) -> dict[tuple[str, str], str]:
        """Every split ever assigned, by (domain, sha256): an image never changes split once it has one."""
        return {(d, s): sp for d, s, sp in self.db.execute("SELECT domain, sha256, split FROM splits")}

    def record_splits(self, assignments: dict[tuple[str, str], str]) -> None:
        """Remember new assignments; existing ones are never overwritten."""
        now = time.time()
        self.db.executemany(
            "INSERT OR IGNORE INTO splits (domain, sha256, split, assigned_at) VALUES (?,?,?,?)",
            [(d, s, sp, now) for (d, s), sp in assignments.items()],
        )
        self.db.commit()

    def verdicts(self, policy: str) -> dict[tuple[str, str], Match | None]:
        """Every stored verdict of a pair of files (sha256, in order) decided under `policy` (a Match, or None: not
        the same picture); verdicts of other policies are forgotten."""
        self.db.execute("DELETE FROM verdicts WHERE policy != ?", (policy,))
        rows = self.db.execute("SELECT a, b, bits, score, inliers FROM verdicts WHERE policy = ?", (policy,))
        return {
            (a, b): None if bits is None else Match(bits, score, False, inliers) for a, b, bits, score, inliers in rows
        }

    def store_verdicts(self, verdicts: dict[tuple[str, str], Match | None], policy: str) -> None:
        """Save verdicts of pairs (by both files' sha256, in order) decided under `policy`, and commit."""
        self.db.executemany(
            "INSERT OR REPLACE INTO verdicts (a, b, policy, bits, score, inliers) VALUES (?, ?, ?, ?, ?, ?)",
            [(a, b, policy, *((None, None, None) if m is None else (m.bits, m.score, m.inliers)))
             for (a, b), m in verdicts.items()],
        )  # fmt: skip
        self.db.commit()

    def decisions(self, inputs: str, history: str) -> list[Decision] | None:
        """The decisions stored for these inputs (`curation.groups.decision_key`) when the split history of their
        files is still `history` (the digest it had after they were decided), else None."""
        row = self.db.execute("SELECT history, rows FROM decisions WHERE inputs = ?", (inputs,)).fetchone()
        if row is None or row[0] != history:
            return None
        try:
            return [Decision.from_dict(d) for d in json.loads(row[1])]
        except (ValueError, KeyError, TypeError):  # stored by a version that wrote them otherwise: decided again
            return None

    def store_decisions(self, inputs: str, history: str, rows: list[Decision]) -> None:
        """Keep these decisions (only the last run's) by their inputs and their files' split history after them."""
        self.db.execute("DELETE FROM decisions")
        self.db.execute("INSERT INTO decisions (inputs, history, rows) VALUES (?, ?, ?)",
                        (inputs, history, json.dumps([r.to_dict() for r in rows])))  # fmt: skip
        self.db.commit()
