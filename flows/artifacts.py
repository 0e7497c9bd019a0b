"""Markdown for Prefect artifacts: galleries of small thumbnails embedded as data URIs, and count tables."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

THUMB_SIDE = 112
THUMB_QUALITY = 70


@dataclass(frozen=True)
class Tile:
    """One image in a gallery and the caption under it (an image id, a reason, ...)."""

    path: Path
    caption: str


def thumbnail_jpeg(path: str | Path, max_side: int = THUMB_SIDE, quality: int = THUMB_QUALITY) -> bytes:
    """A small JPEG thumbnail of the image (EXIF orientation applied), its longer side at most `max_side`."""
    with Image.open(path) as im:
        im.draft("RGB", (max_side, max_side))
        thumb = ImageOps.exif_transpose(im).convert("RGB")
    thumb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    thumb.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def data_uri(path: str | Path, max_side: int = THUMB_SIDE, quality: int = THUMB_QUALITY) -> str:
    """A small JPEG thumbnail of the image as a `data:image/jpeg;base64,...` URI (EXIF orientation applied)."""
    return "data:image/jpeg;base64," + base64.b64encode(thumbnail_jpeg(path, max_side, quality)).decode("ascii")


def strip_uri(tiles: Sequence[Tile], side: int = 88, gap: int = 6, quality: int = THUMB_QUALITY) -> str:
    """One JPEG of the tiles side by side, each caption drawn under its thumbnail, as a data URI: a row of a grid
    for markdown that draws every image on a line of its own (the Resume form's field descriptions)."""
    from PIL import ImageDraw, ImageFont

    font = ImageFont.load_default(size=11)
    cell_w, text_h = side + gap, 15
    sheet = Image.new("RGB", (cell_w * len(tiles), side + text_h + gap), (40, 42, 48))
    draw = ImageDraw.Draw(sheet)
    for i, t in enumerate(tiles):
        with Image.open(io.BytesIO(thumbnail_jpeg(t.path, side))) as thumb:
            x = i * cell_w + (side - thumb.width) // 2
            sheet.paste(thumb, (x, (side - thumb.height) // 2))
        draw.text((i * cell_w, side + 2), t.caption, fill=(230, 230, 230), font=font)
    buf = io.BytesIO()
    sheet.save(buf, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def artifact_key(*parts: str) -> str:
    """An artifact key from parts: Prefect allows only lowercase letters, digits and '-'."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def cell(tile: Tile, max_side: int = THUMB_SIDE) -> str:
    """One table cell: the thumbnail with its caption under it."""
    return f"![{_cell(tile.caption)}]({data_uri(tile.path, max_side)})<br>`{_cell(tile.caption)}`"


def gallery(tiles: Sequence[Tile], columns: int = 6, limit: int = 60, max_side: int = THUMB_SIDE) -> str:
    """A markdown table of thumbnails, each captioned; at most `limit` tiles, the rest counted below it."""
    shown = list(tiles[:limit])
    if not shown:
        return "_none_\n"
    lines = ["| " + " | ".join([" "] * columns) + " |", "|" + "---|" * columns]
    for start in range(0, len(shown), columns):
        row = [cell(t, max_side) for t in shown[start : start + columns]]
        lines.append("| " + " | ".join(row + [" "] * (columns - len(row))) + " |")
    if len(tiles) > limit:
        lines.append(f"\n_... and {len(tiles) - limit} more._")
    return "\n".join(lines) + "\n"


def table_rows(rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """Rows for `create_table_artifact`, with every value made JSON-friendly."""
    return [{k: (v if isinstance(v, int | float | str) or v is None else str(v)) for k, v in r.items()} for r in rows]
