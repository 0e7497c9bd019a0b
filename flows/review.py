"""Human review of a curated dataset in the Prefect UI: the review flow, its artifacts with thumbnails, the pause
and its form, and what the decision does (exclusions, then the dataset curated again)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prefect import flow, pause_flow_run
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.input import RunInput, create_flow_run_input
from prefect.runtime import flow_run
from pydantic import Field, create_model

from core.config import DOMAIN_KEYS, SPLITS, ConfigError
from core.files import write_json
from core.settings import PositiveInt, Settings
from curation import CurationResult, add_excluded, review_summary
from curation.config import CurationConfig
from curation.layout import DatasetLayout
from curation.outputs import read_manifest
from curation.records import DECODE_REASONS, Decision, Status, duplicate_groups
from flows.artifacts import Tile, artifact_key, cell, gallery, strip_uri, table_rows
from flows.curation_step import curate_dataset, named
from flows.fingerprint import raw_digest, settings_digest
from flows.steps import paused_saying, review_message

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


def image_file(cur: Curated, r: Decision) -> Path | None:
    """The file to show for a row (its output if kept, else the raw file), or None if it cannot be drawn."""
    path = cur.layout.root / r.output if r.output else cur.layout.raw.root / r.relpath
    return path if path.is_file() and r.reason not in UNSHOWABLE else None


def _tiles(cur: Curated, rows: list[Decision], caption: Callable[[Decision], str]) -> list[Tile]:
    return [Tile(p, caption(r)) for r in rows if (p := image_file(cur, r)) is not None]


def member_caption(r: Decision) -> str:
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
        shown = _tiles(cur, g[:GROUP_COLUMNS], member_caption)
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


# What Prefect's Resume form renders (measured in 3.9.1, benchmarks/probe_resume_form.py): markdown in the pause
# description in full (tables too); in a field's description images and inline code, but no tables, and every image
# on a line of its own; a multi-select's options are its values as plain text. So each option reads
# `<id> · <domain> <split> ...` (the id first: what apply_review reads back), and right above each list its pictures
# are drawn as strips (one JPEG a row, the id under each thumbnail).
SEP = " · "
FORM_COLUMNS, FORM_THUMB = 4, 88  # the Resume dialog's fields are about 410 px wide
FORM_IMAGES = 240  # kept thumbnails drawn in the form; more: the review page (`sakura review <run>`)
GROUP_PREFIX = "g"  # group ids are `g` + hex, image ids hex only
REVIEW_REQUEST = "sakura-review"  # the paused run's input naming the dataset it asks about (the review page reads it)


def review_groups(cur: Curated) -> list[list[Decision]]:
    """The duplicate groups a reviewer can leave out: those that hold a duplicate (as on the artifact pages)."""
    return [g for g in duplicate_groups(list(cur.rows)) if any(r.status is Status.DUPLICATE for r in g)]


def image_label(r: Decision, group_size: int = 0) -> str:
    """A kept image as an option of the form: `1a2b3c4d5e6f · A train` (`· group of 3` when it has duplicates)."""
    more = f"{SEP}group of {group_size}" if group_size > 1 else ""
    return f"{_short(r)}{SEP}{r.domain} {r.split}{more}"


def group_label(g: list[Decision]) -> str:
    """A duplicate group as an option: `g21c10ff901aa186f · A · kept 1a2b3c4d5e6f · 3 images`."""
    kept = next((r for r in g if r.status is Status.KEPT), g[0])
    return f"{g[0].group}{SEP}{kept.domain}{SEP}kept {_short(kept)}{SEP}{len(g)} images"


def kept_by_place(cur: Curated) -> dict[tuple[str, str], list[Decision]]:
    """The kept images by (domain, split), in DOMAIN_KEYS and SPLITS order, each sorted by id."""
    return {
        (d, s): sorted((r for r in cur.rows if r.status is Status.KEPT and r.domain == d and r.split == s),
                       key=lambda r: r.sha256)
        for d in DOMAIN_KEYS for s in SPLITS
    }  # fmt: skip


def _strips(cur: Curated, rows: list[Decision], caption: Callable[[Decision], str], columns: int) -> str:
    """Markdown: the rows' thumbnails as strips of `columns` (one image each); the alt text lists their ids."""
    tiles = _tiles(cur, rows, caption)
    parts = []
    for i in range(0, len(tiles), columns):
        chunk = tiles[i : i + columns]
        alt = " ".join(t.caption.split(" ")[0] for t in chunk)
        parts.append(f"![{alt}]({strip_uri(chunk, FORM_THUMB)})")
    return " ".join(parts)


def _image_sheet(cur: Curated, places: dict[tuple[str, str], list[Decision]], page_hint: str) -> str:
    """The kept images' thumbnails by domain and split, each captioned with its id (the start of its option)."""
    parts, drawn, total = [], 0, sum(len(v) for v in places.values())
    for (domain, split), kept in places.items():
        rows = kept[: max(0, FORM_IMAGES - drawn)]
        if rows:
            parts.append(f"`{domain} {split}` ({len(kept)}): " + _strips(cur, rows, _short, FORM_COLUMNS))
            drawn += len(rows)
    if total > drawn:
        parts.append(f"{total - drawn} more not drawn here: {page_hint}")
    return " ".join(parts)


def _group_strips(cur: Curated, groups: list[list[Decision]]) -> str:
    """One strip a duplicate group: the kept image first, then its duplicates (their distances: the artifact pages)."""
    return " ".join(
        f"`{g[0].group}` ({len(g)}): " + _strips(cur, g[:GROUP_COLUMNS], _short, GROUP_COLUMNS) for g in groups
    )


def review_form(
    cur: Curated, page_hint: str = "the review page (`sakura review <run id>`)", summary: str = ""
) -> type[RunInput]:
    """The Resume form of a paused review: approve; kept images and whole duplicate groups to leave out, each option
    labelled with its domain and split (groups: their kept image and size) and the thumbnails above the list; more ids
    typed (images or groups, what `sakura resume` and the review page send); a note. `summary`: the counts, in words."""
    groups = review_groups(cur)
    size = {r.sha256: len(g) for g in groups for r in g}
    places = kept_by_place(cur)
    images = [image_label(r, size.get(r.sha256, 0)) for kept in places.values() for r in kept]
    return create_model(
        "ReviewInput",
        __base__=RunInput,
        approve=(
            bool,
            # The pause description collapses to nothing above a form taller than the dialog: what it says, here too.
            Field(
                True,
                description=f"Train on `{cur.name}` ({summary or 'curated'}) after the exclusions below. "
                f"Many images? Click them on {page_hint}: its Submit resumes this run.",
            ),
        ),
        exclude_images=(
            _choices(images),
            Field(
                default_factory=list,
                description="Kept images to leave out (find the id under its picture): "
                + _image_sheet(cur, places, page_hint),
            ),
        ),
        exclude_groups=(
            _choices([group_label(g) for g in groups]),
            Field(
                default_factory=list,
                description="Duplicate groups to leave out whole (every image in them), the kept image first: "
                + _group_strips(cur, groups),
            ),
        ),
        exclude=(
            list[str],
            Field(default_factory=list, description="More image ids (8+ hex) or group ids (`g...`) to leave out"),
        ),
        note=(str, Field("", description="Why (kept with the exclusions)")),
    )


def chosen_ids(cur: Curated, values: list[str]) -> list[str]:
    """Image ids from what a reviewer chose or typed: an option's id (its first word), a bare id, or a group id (each
    image in that group); in order, once each."""
    members: dict[str, list[str]] = {}
    for r in cur.rows:
        if r.group:
            members.setdefault(r.group, []).append(_short(r))
    ids = []
    for value in values:
        token = value.strip().split(SEP.strip())[0].strip() if value.strip() else ""
        if token.startswith(GROUP_PREFIX):
            if token not in members:
                raise ConfigError(f"excluded group: got {token!r}; allowed: a duplicate group of {cur.name}")
            ids += members[token]
        elif token:
            ids.append(token)
    return list(dict.fromkeys(ids))


def apply_review(cur: Curated, decision: RunInput) -> list[str]:
    """Record the reviewer's exclusions (honoured by every later curation run); return the ids excluded."""
    values = [*getattr(decision, "exclude_images", []), *getattr(decision, "exclude_groups", []), *decision.exclude]
    ids = chosen_ids(cur, values)
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


__all__ = [
    "Curated", "ReviewSettings", "apply_review", "chosen_ids", "group_label", "image_file", "image_label",
    "kept_by_place", "member_caption", "publish_review", "review_form", "review_groups",
]  # fmt: skip


class ReviewRejected(RuntimeError):
    """The reviewer did not approve the dataset."""


@dataclass(frozen=True)
class Reviewed:
    """What the review decided: the ids it excluded, the counts it leaves, and the curation it ran again when it
    excluded images (None when it did not)."""

    counts: dict[str, dict[str, Any]]
    excluded: tuple[str, ...] = ()
    recurated: CurationResult | None = None


def _review_description(ds: Path, counts: dict[str, Any], page_hint: str) -> str:
    lines = [
        f"### Review the curated dataset `{ds.name}`",
        "",
        "| domain | kept | train | test |",
        "|---|---|---|---|",
    ]
    lines += [f"| {d} | {c.get('kept')} | {c.get('train')} | {c.get('test')} |" for d, c in counts.items()]
    lines += ["", "Approve to train. To leave images out, pick them below (each list has its pictures above it, "
              "captioned with the ids its options start with); each excluded image's near-duplicates go with it.",
              "", f"Many images? Click them on {page_hint}: every kept image by domain and split, duplicate groups "
              "side by side; its Submit resumes this run. Rejections and every image also are on this run's "
              "**Artifacts** tab (`review-...`)."]  # fmt: skip
    return "\n".join(lines)


def _summary(counts: dict[str, Any]) -> str:
    """The counts in words: `A 92 kept (81 train, 11 test); B ...`."""
    return "; ".join(
        f"{d} {c.get('kept')} kept ({c.get('train')} train, {c.get('test')} test)" for d, c in counts.items()
    )


def review_dataset(cfg: CurationConfig, review: ReviewSettings) -> Reviewed:
    """Publish the curated dataset's review artifacts in the current flow run; in mode `ui`, pause this run (the one
    the user started and watches) for a reviewer, then apply the exclusions.

    An exclusion re-curates the dataset at once (before any training) and stays in curation/excluded.txt for
    every later run. A dataset approved once is not asked about again until it changes.
    """
    ds = cfg.data_dir()
    cur = Curated.read(ds)
    counts = review_summary(ds).counts
    publish_review(cur, counts)
    if review.mode == "auto":
        return Reviewed(counts)
    if approved_fingerprint(cur.layout) == settings_digest([raw_digest(ds), cfg.to_dict()]):
        print("this dataset was already approved in an earlier review; not pausing")
        return Reviewed(counts)
    run_id = flow_run.get_id()
    hint = f"the review page: `.venv/bin/sakura review {run_id}` (prints its address)"
    create_flow_run_input(REVIEW_REQUEST, {"dataset_dir": str(ds)})  # what `sakura review <run>` shows
    print(review_message(run_id, ds.name))  # the log line `--watch` shows; the Paused state says the same
    with paused_saying(review_message(run_id, ds.name)):
        decision = pause_flow_run(
            wait_for_input=review_form(cur, hint, _summary(counts)).with_initial_data(
                description=_review_description(ds, counts, hint)
            ),
            timeout=review.timeout_s,
        )
    if not decision.approve:
        raise ReviewRejected(f"the reviewer did not approve {ds.name}: {decision.note or 'no reason given'}")
    excluded = apply_review(cur, decision)
    recurated = None
    if excluded:
        print(f"excluding {len(excluded)} image(s) from {ds.name}: {excluded}; curating again")
        recurated = curate_dataset(cfg)
        counts = recurated.counts
        publish_review(Curated.read(ds), counts)  # the manifest curation just wrote
    record_approval(cur.layout, settings_digest([raw_digest(ds), cfg.to_dict()]), excluded)
    return Reviewed(counts, tuple(excluded), recurated)


@flow(name="review", log_prints=True)
def review_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    curation: CurationConfig = CurationConfig(),
    review: ReviewSettings = ReviewSettings(mode="ui"),
) -> Reviewed:
    """Publish the last curation's review artifacts; in mode `ui` (this deployment's default), pause for a reviewer."""
    return review_dataset(named(curation, dataset, domains_file), review)
