"""Human review of a curated dataset in the Prefect UI: artifacts with thumbnails, a pause with a form."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.input import RunInput
from pydantic import Field

from core.settings import PositiveInt, Settings
from curation import add_excluded
from curation.layout import DatasetLayout
from curation.outputs import read_manifest
from curation.records import DECODE_REASONS, Decision, Status, duplicate_groups
from flows.artifacts import Tile, artifact_key, gallery, table_rows

ID_CHARS = 12  # image ids shown in the UI; add_excluded accepts any prefix of 8 or more characters


class ReviewSettings(Settings):
    """Whether a person reviews the curated dataset in the Prefect UI before training, and how long to wait."""

    mode: Literal["auto", "ui"] = Field(
        "auto", description="ui: pause after curation until a reviewer resumes the run; auto: go straight on"
    )
    timeout_s: PositiveInt = Field(3600, description="seconds the pause waits for a reviewer before failing the run")


class ReviewInput(RunInput):
    """The form the paused curate flow shows: approve, and image ids to leave out of the dataset."""

    approve: bool = Field(default=True, description="Train on this dataset (after the exclusions below)")
    exclude: list[str] = Field(default_factory=list, description="Image ids to exclude (the captions under images)")
    note: str = Field(default="", description="Why (kept with the exclusions)")


def _short(row: Decision) -> str:
    return row.sha256[:ID_CHARS]


# Raw files that cannot be decoded (or must not be: a bomb) are listed, not drawn.
UNSHOWABLE = frozenset(DECODE_REASONS)


def _tiles(ds: Path, rows: list[Decision], caption: Callable[[Decision], str]) -> list[Tile]:
    """Tiles for rows whose image can be shown (the output if kept, else the raw file)."""
    raw = DatasetLayout(ds).raw.root
    tiles = []
    for r in rows:
        path = ds / r.output if r.output else raw / r.relpath
        if path.is_file() and r.reason not in UNSHOWABLE:
            tiles.append(Tile(path, caption(r)))
    return tiles


def _status_or_reason(row: Decision) -> str:
    return str(row.status if row.status is Status.KEPT else row.reason)


def domain_markdown(ds: Path, domain: str, rows: list[Decision], counts: dict[str, Any], limit: int) -> str:
    """The review page of one domain: kept images, duplicate groups and rejections with their reasons."""
    mine = [r for r in rows if r.domain == domain]
    kept = [r for r in mine if r.status is Status.KEPT]
    dups = [r for r in mine if r.status is Status.DUPLICATE]
    rejected = [r for r in mine if r.status is Status.REJECTED]
    c = counts.get(domain, {})
    parts = [
        f"# Review: domain {domain}\n",
        f"Kept **{len(kept)}** (train {c.get('train', '?')}, test {c.get('test', '?')}), "
        f"duplicates **{len(dups)}**, rejected **{len(rejected)}**. To leave an image out, resume the flow run "
        "with its id (the caption under it) in *exclude*; its near-duplicates go with it.\n",
        f"## Kept ({len(kept)})\n",
        gallery(_tiles(ds, kept, lambda r: f"{_short(r)} {r.split}"), limit=limit),
    ]
    dup_groups = [g for g in duplicate_groups(mine) if any(r.status is Status.DUPLICATE for r in g)]
    parts.append(f"## Duplicate groups ({len(dup_groups)})\n")
    parts.append("Each row starts with the image kept; the others were dropped as its duplicates.\n")
    ordered = [r for g in dup_groups for r in g]
    parts.append(gallery(_tiles(ds, ordered, lambda r: f"{_short(r)} {_status_or_reason(r)}"), limit=limit))
    parts.append(f"## Rejected ({len(rejected)})\n")
    parts.append(gallery(_tiles(ds, rejected, lambda r: f"{_short(r)} {r.reason}"), limit=limit))
    unshown = [r for r in rejected if r.reason in UNSHOWABLE]
    if unshown:
        parts.append(
            "\nNot drawable:\n\n"
            + "\n".join(f"- `{_short(r)}` {r.reason}: {(r.detail or '')[:120]}" for r in unshown[:limit])
            + "\n"
        )
    return "\n".join(parts)


def publish_review(ds: Path, counts: dict[str, Any], limit: int = 48) -> dict[str, str]:
    """Markdown artifacts per domain plus a table of counts; returns artifact ids by key."""
    rows = read_manifest(DatasetLayout(ds).manifest)
    ids = {}
    for domain in ("A", "B"):
        md = domain_markdown(ds, domain, rows, counts, limit)
        key = artifact_key("review", ds.name, domain)
        ids[key] = str(create_markdown_artifact(markdown=md, key=key, description=f"Curated domain {domain}"))
    table = [
        {"domain": d, **{k: (v if not isinstance(v, dict) else json.dumps(v)) for k, v in c.items()}}
        for d, c in counts.items()
    ]
    key = artifact_key("curation", ds.name)
    ids[key] = str(create_table_artifact(table=table_rows(table), key=key, description="Curation counts per domain"))
    return ids


def apply_review(ds: Path, decision: ReviewInput) -> list[str]:
    """Record the reviewer's exclusions (honoured by every later curation run); return them."""
    ids = [i.strip() for i in decision.exclude if i.strip()]
    if ids:
        add_excluded(ds, ids, note=decision.note or "excluded in review")
    return ids


def approved_fingerprint(ds: Path) -> str | None:
    """The curation fingerprint a reviewer last approved (None: never)."""
    try:
        return json.loads(DatasetLayout(ds).review_record.read_text())["fingerprint"]
    except (FileNotFoundError, KeyError, ValueError):
        return None


def record_approval(ds: Path, fingerprint: str, excluded: list[str]) -> None:
    """Remember that the dataset with this fingerprint was approved, so a rerun does not ask again."""
    path = DatasetLayout(ds).review_record
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"fingerprint": fingerprint, "excluded": excluded}))
    tmp.replace(path)


__all__ = ["ReviewInput", "ReviewSettings", "apply_review", "publish_review"]
