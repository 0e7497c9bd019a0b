"""Contact sheets: JPEG grids of thumbnails of kept images, duplicate groups and rejections with their reasons."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from core.config import DOMAIN_KEYS
from curation.config import CurationConfig
from curation.records import ID_PREFIX, Decision, Reason, Status, duplicate_groups
from curation.workers import process_map

SHEET_KINDS = ("kept_A", "kept_B", "duplicates", "rejected")
COLUMNS = 10
ROWS_PER_PAGE = 10
CAPTION = 30
PAD = 4
_BG = (245, 245, 245)
_COLOURS = {Status.KEPT: (30, 140, 60), Status.DUPLICATE: (200, 120, 0), Status.REJECTED: (200, 30, 30)}


@lru_cache(maxsize=2)
def _font(size: int = 11) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _thumb(staging: Path, row: Decision, side: int) -> Image.Image:
    """The row's staged image shrunk to fit side x side, or a grey tile when it could not be decoded."""
    if not row.staged:
        tile = Image.new("RGB", (side, side), (90, 90, 90))
        ImageDraw.Draw(tile).text((6, side // 2 - 8), f"no image:\n{row.reason}", fill="white", font=_font())
        return tile
    with Image.open(staging / row.staged) as im:
        im.draft("RGB", (side, side))  # a JPEG decodes at 1/2..1/8 scale
        im.load()  # now, while the file is open: a tile smaller than `side` is not touched again below
        im = im if im.mode == "RGB" else im.convert("RGB")
        im.thumbnail((side, side), Image.Resampling.BICUBIC)
        return im


def _caption(row: Decision) -> tuple[str, str]:
    first = f"{row.sha256[:ID_PREFIX]} {row.domain}"
    if row.status is Status.KEPT:
        return first, f"{row.status} {row.split}"
    if row.status is Status.DUPLICATE and row.reason is not Reason.CROSS_DOMAIN:
        kind = "exact" if row.reason is Reason.EXACT_DUPLICATE else "near"
        score = "" if row.score is None else f" {row.score:.2f}"
        return first, f"{kind} {'?' if row.distance is None else row.distance} bits{score}"
    return first, str(row.reason)


def render_grid(staging: Path, grid: list[list[Decision]], side: int, title: str) -> Image.Image:
    """One sheet: a row of tiles per list in `grid`, each tile captioned with id, domain and status or reason."""
    cell_w, cell_h = side + 2 * PAD, side + CAPTION + 2 * PAD
    head = 22
    sheet = Image.new("RGB", (COLUMNS * cell_w, head + len(grid) * cell_h), _BG)
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, 4), title, fill="black", font=_font(13))
    for y, line in enumerate(grid):
        for x, row in enumerate(line[:COLUMNS]):
            left, top = x * cell_w + PAD, head + y * cell_h + PAD
            colour = _COLOURS[row.status]
            tile = _thumb(staging, row, side)
            sheet.paste(tile, (left + (side - tile.width) // 2, top + (side - tile.height) // 2))
            draw.rectangle((left - 2, top - 2, left + side + 1, top + side + 1), outline=colour, width=2)
            first, second = _caption(row)
            draw.text((left, top + side + 2), first, fill="black", font=_font())
            draw.text((left, top + side + 15), second, fill=colour, font=_font())
    return sheet


def _pages(lines: list[list[Decision]]) -> list[list[list[Decision]]]:
    return [lines[i : i + ROWS_PER_PAGE] for i in range(0, len(lines), ROWS_PER_PAGE)]


def _chunks(items: list[Decision]) -> list[list[Decision]]:
    return [items[i : i + COLUMNS] for i in range(0, len(items), COLUMNS)]


def sheet_lines(rows: list[Decision], limit: int) -> dict[str, list[list[Decision]]]:
    """The rows of each kind of sheet, at most `limit` images each: kept per domain, duplicate groups (as
    `duplicate_groups` orders them, one group a line), rejections sorted by reason."""
    lines: dict[str, list[list[Decision]]] = {}
    for d in DOMAIN_KEYS:
        kept = sorted((r for r in rows if r.status is Status.KEPT and r.domain == d), key=lambda r: r.sha256)
        lines[f"kept_{d}"] = _chunks(kept[:limit])
    dup_lines, shown = [], 0
    for g in duplicate_groups(rows):
        if shown >= limit:
            break
        dup_lines.append(g[:COLUMNS])
        shown += len(dup_lines[-1])
    lines["duplicates"] = dup_lines
    rejected = sorted((r for r in rows if r.status is Status.REJECTED), key=lambda r: (r.reason, r.sha256))
    lines["rejected"] = _chunks(rejected[:limit])
    return lines


def write_sheets(
    out_dir: Path,
    staging: Path,
    rows: list[Decision],
    cfg: CurationConfig,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, list[Path]]:
    """Write every contact sheet as JPEG under `out_dir` (old sheets removed); return their paths by kind.

    When nothing any sheet shows has changed since the last run, the sheets on disk are kept as they are.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = [
        (kind, i, page)
        for kind, lines in sheet_lines(rows, cfg.sheet_max_images).items()
        for i, page in enumerate(_pages(lines), start=1)
    ]
    sheets: dict[str, list[Path]] = {k: [] for k in SHEET_KINDS}
    for kind, i, _ in plan:
        sheets[kind].append(out_dir / f"{kind}_{i:02d}.jpg")
    index = out_dir / "index.json"
    key = _fingerprint(plan, cfg.sheet_thumb)
    paths = [p for v in sheets.values() for p in v]
    if index.is_file() and json.loads(index.read_text()).get("key") == key and all(p.is_file() for p in paths):
        return sheets
    for old in out_dir.glob("*.jpg"):
        old.unlink()
    jobs = [
        (staging, page, cfg.sheet_thumb, f"{kind.replace('_', ' ')}  page {i}  ({sum(map(len, page))} images)",
         out_dir / f"{kind}_{i:02d}.jpg")
        for kind, i, page in plan
    ]  # fmt: skip
    for n, _ in enumerate(process_map(_write_page, jobs, cfg.n_workers, min_items=2), start=1):
        if progress is not None:
            progress("sheets", n, len(plan))
    index.write_text(json.dumps({"key": key}))
    return sheets


def _write_page(job: tuple[Path, list[list[Decision]], int, str, Path]) -> Path:
    staging, page, side, title, path = job
    render_grid(staging, page, side, title).save(path, "JPEG", quality=85)
    return path


def _fingerprint(plan: list, side: int) -> str:
    """A hash of everything the sheets show: pages, images, captions and tile size."""
    shown = [(kind, i, [[(r.sha256, r.staged, *_caption(r)) for r in line] for line in page])
             for kind, i, page in plan]  # fmt: skip
    return hashlib.sha256(json.dumps([side, shown]).encode()).hexdigest()
