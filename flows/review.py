"""Human review of a curated dataset in the Prefect UI: artifacts with thumbnails, a pause with a form."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.input import RunInput
from pydantic import Field, create_model

from core.config import DOMAIN_KEYS, SPLITS
from core.files import write_json
from core.settings import PositiveInt, Settings
from curation import add_excluded
from curation.layout import DatasetLayout
from curation.outputs import read_manifest
from curation.records import DECODE_REASONS, Decision, Status, duplicate_groups
from flows.artifacts import Tile, artifact_key, cell, gallery, table_rows

ID_CHARS = 12  # image ids shown in the UI; add_excluded accepts any prefix of ID_PREFIX or more


class ReviewSettings(Settings):
    """Whether a person reviews the curated dataset in the Prefect UI before training, and how long to wait."""

    mode: Literal["auto", "ui"] = Field(
        "auto", description="ui: pause after curation until a reviewer resumes the run; auto: go straight on"
    )
    timeout_s: PositiveInt = Field(3600, description="seconds the pause waits for a reviewer before failing the run")


KEPT_PAGE = 60  # kept images per artifact page
# Sized to fit the artifact pane of a 1280 px wide browser window (about 620-700 px beside the UI's side bars).
COLUMNS, THUMB = 4, 128  # kept and rejected images
GROUP_COLUMNS, GROUP_THUMB = 3, 112  # images shown per duplicate group (the kept one first); the rest are counted


def _short(row: Decision) -> str:
    return row.sha256[:ID_CHARS]


@dataclass(frozen=True)
class Curated:
    """A curated dataset as its review sees it: the layout and the manifest's rows, read once per review."""

    layout: DatasetLayout
    rows: tuple[Decision, ...]

    @classmethod
    def read(cls, ds: str | Path) -> Curated:
        layout = DatasetLayout(Path(ds))
        return cls(layout, tuple(read_manifest(layout.manifest)))

    @property
    def name(self) -> str:
        return self.layout.root.name


# Raw files that cannot be decoded (or must not be: a bomb) are listed, not drawn.
UNSHOWABLE = frozenset(DECODE_REASONS)


def _image(cur: Curated, r: Decision) -> Path | None:
    """The file to show for a row (its output if kept, else the raw file), or None if it cannot be drawn."""
    path = cur.layout.root / r.output if r.output else cur.layout.raw.root / r.relpath
    return path if path.is_file() and r.reason not in UNSHOWABLE else None


def _tiles(cur: Curated, rows: list[Decision], caption: Callable[[Decision], str]) -> list[Tile]:
    return [Tile(p, caption(r)) for r in rows if (p := _image(cur, r)) is not None]


def _member_caption(r: Decision) -> str:
    """`<id> kept`, or `<id> <bits> bits, <score>` (phash distance and verification score to the image it is the same
    picture as), or `<id> <reason>` when the manifest holds neither."""
    if r.status is Status.KEPT:
        return f"{_short(r)} kept"
    if r.distance is not None and r.score is not None:
        return f"{_short(r)} {r.distance} bits, {r.score:.2f}"
    if r.distance is not None:
        return f"{_short(r)} {r.distance} bits"
    return f"{_short(r)} {r.reason}"


def groups_table(cur: Curated, groups: list[list[Decision]]) -> str:
    """One duplicate group per row: its id, then its images (the kept one first) with the distance under each."""
    if not groups:
        return "_none_\n"
    lines = ["| group | " + " | ".join(["kept"] + [" "] * (GROUP_COLUMNS - 1)) + " |", "|---|" + "---|" * GROUP_COLUMNS]
    for g in groups:
        shown = _tiles(cur, g[:GROUP_COLUMNS], _member_caption)
        more = f" +{len(g) - GROUP_COLUMNS} more" if len(g) > GROUP_COLUMNS else ""
        pad = [" "] * (GROUP_COLUMNS - len(shown))
        lines.append(
            f"| `{g[0].group}` ({len(g)}{more}) | " + " | ".join([cell(t, GROUP_THUMB) for t in shown] + pad) + " |"
        )
    return "\n".join(lines) + "\n"


def kept_pages(cur: Curated, domain: str) -> dict[str, str]:
    """Every kept image of a domain, by split, KEPT_PAGE to a page: {artifact key: markdown}."""
    pages = {}
    for split in SPLITS:
        mine = (r for r in cur.rows if r.domain == domain and r.status is Status.KEPT and r.split == split)
        kept = sorted(mine, key=lambda r: r.sha256)
        n = max(1, -(-len(kept) // KEPT_PAGE))
        for i in range(n):
            chunk = kept[i * KEPT_PAGE : (i + 1) * KEPT_PAGE]
            head = f"# Kept, domain {domain}, {split}: page {i + 1} of {n} ({len(kept)} images)\n"
            body = gallery(_tiles(cur, chunk, _short), columns=COLUMNS, limit=KEPT_PAGE, max_side=THUMB)
            pages[artifact_key("review", cur.name, domain, split, str(i + 1))] = head + body
    return pages


def domain_markdown(cur: Curated, domain: str, counts: dict[str, Any], pages: list[str]) -> str:
    """The review page of one domain: counts, where the kept images are, duplicate groups, rejections."""
    mine = [r for r in cur.rows if r.domain == domain]
    rejected = [r for r in mine if r.status is Status.REJECTED]
    dup_groups = [g for g in duplicate_groups(mine) if any(r.status is Status.DUPLICATE for r in g)]
    c = counts.get(domain, {})
    parts = [
        f"# Review: domain {domain}\n",
        f"Kept **{c.get('kept', '?')}** (train {c.get('train', '?')}, test {c.get('test', '?')}), "
        f"duplicate groups **{len(dup_groups)}**, rejected **{len(rejected)}**. To leave images out, resume the "
        "paused run: pick image ids or whole groups in its form, or type ids seen here; near-duplicates of an "
        "excluded image go with it.\n",
        "Every kept image: " + ", ".join(f"`{k}`" for k in pages) + " (this run's Artifacts tab).\n",
        f"## Duplicate groups ({len(dup_groups)})\n",
        "One group a row: the image kept first, then the ones dropped as its duplicates, with their distance to "
        "it in bits.\n",
        groups_table(cur, dup_groups),
        f"## Rejected ({len(rejected)})\n",
        gallery(_tiles(cur, rejected, lambda r: f"{_short(r)} {r.reason}"), columns=COLUMNS, limit=120, max_side=THUMB),
    ]
    unshown = [r for r in rejected if r.reason in UNSHOWABLE]
    if unshown:
        parts.append(
            "\nNot drawable:\n\n"
            + "\n".join(f"- `{_short(r)}` {r.reason}: {(r.detail or '')[:120]}" for r in unshown[:120])
            + "\n"
        )
    return "\n".join(parts)


def publish_review(cur: Curated, counts: dict[str, Any]) -> dict[str, str]:
    """Markdown artifacts per domain (duplicate groups, rejections) and per split page (every kept image), plus a
    table of counts, all in the current flow run; returns artifact ids by key."""
    ids = {}
    for domain in DOMAIN_KEYS:
        pages = kept_pages(cur, domain)
        for key, md in pages.items():
            ids[key] = str(create_markdown_artifact(markdown=md, key=key, description=f"Kept images, {domain}"))
        md = domain_markdown(cur, domain, counts, list(pages))
        key = artifact_key("review", cur.name, domain)
        ids[key] = str(create_markdown_artifact(markdown=md, key=key, description=f"Curated domain {domain}"))
    table = [
        {"domain": d, **{k: (v if not isinstance(v, dict) else json.dumps(v)) for k, v in c.items()}}
        for d, c in counts.items()
    ]
    key = artifact_key("curation", cur.name)
    ids[key] = str(create_table_artifact(table=table_rows(table), key=key, description="Curation counts per domain"))
    return ids


def _choices(values: list[str]) -> Any:
    """A multi-select of these values in the form (a free list when there are none)."""
    return list[Literal[tuple(values)]] if values else list[str]


def review_form(cur: Curated) -> type[RunInput]:
    """The Resume form of a paused review: approve, choose kept images or whole duplicate groups to leave out, or
    type ids seen on the pages; and a note."""
    kept = sorted(_short(r) for r in cur.rows if r.status is Status.KEPT)
    groups = sorted({g[0].group for g in duplicate_groups(list(cur.rows))})
    return create_model(
        "ReviewInput",
        __base__=RunInput,
        approve=(bool, Field(True, description="Train on this dataset (after the exclusions below)")),
        exclude_images=(_choices(kept), Field(default_factory=list, description="Kept images to leave out")),
        exclude_groups=(
            _choices(groups),
            Field(default_factory=list, description="Duplicate groups to leave out whole (every image in them)"),
        ),
        exclude=(list[str], Field(default_factory=list, description="More image ids seen on the pages (8+ hex)")),
        note=(str, Field("", description="Why (kept with the exclusions)")),
    )


def apply_review(cur: Curated, decision: RunInput) -> list[str]:
    """Record the reviewer's exclusions (honoured by every later curation run); return the ids excluded."""
    chosen_groups = set(getattr(decision, "exclude_groups", []))
    ids = [*getattr(decision, "exclude_images", []), *decision.exclude]
    ids += [_short(r) for r in cur.rows if r.group and r.group in chosen_groups]
    ids = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if ids:
        add_excluded(cur.layout.root, ids, note=decision.note or "excluded in review")
    return ids


def approved_fingerprint(layout: DatasetLayout) -> str | None:
    """The curation fingerprint a reviewer last approved (None: never)."""
    try:
        return json.loads(layout.review_record.read_text())["fingerprint"]
    except (FileNotFoundError, KeyError, ValueError):
        return None


def record_approval(layout: DatasetLayout, fingerprint: str, excluded: list[str]) -> None:
    """Remember that the dataset with this fingerprint was approved, so a rerun does not ask again."""
    write_json(layout.review_record, {"fingerprint": fingerprint, "excluded": excluded})


__all__ = ["Curated", "ReviewSettings", "apply_review", "publish_review", "review_form"]
