"""Tests for curation.sheets: contact sheets of kept images, duplicate groups and rejections."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PIL import Image

from curation.config import CurationConfig
from curation.records import Decision, Reason, Status
from curation.sheets import COLUMNS, ROWS_PER_PAGE, sheet_lines, write_sheets
from tests.support import curation_images as ci


def _kept(i: int, sha: str, domain: str) -> Decision:
    return Decision(domain, sha, f"{domain}/{sha}.jpg", Status.KEPT, split="train", group=f"g{i}",
                    staged=f"{sha[:2]}/{sha}.jpg")  # fmt: skip


def _rows(tmp_path, n_kept: int) -> tuple[list[Decision], object]:
    staging = tmp_path / "staged"
    rows = []
    for i in range(n_kept):
        sha = f"{i:064x}"
        p = staging / sha[:2] / f"{sha}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(ci.jpeg_bytes(ci.scene(i, (381, 286))))
        rows.append(_kept(i, sha, "AB"[i % 2]))
    dup = replace(rows[0], sha256="d" * 64, status=Status.DUPLICATE, reason=Reason.NEAR_DUPLICATE, distance=4)
    bad = Decision("A", "e" * 64, "A/bad.jpg", Status.REJECTED, Reason.TRUNCATED, "x")
    return [*rows, dup, bad], staging


def test_sheet_lines_groups_and_limits(tmp_path):
    rows, _ = _rows(tmp_path, 25)
    lines = sheet_lines(rows, limit=10)
    assert sum(len(line) for line in lines["kept_A"]) == 10 and all(len(x) <= COLUMNS for x in lines["kept_A"])
    (group,) = lines["duplicates"]
    assert [r.status for r in group] == [Status.KEPT, Status.DUPLICATE]
    assert [r.reason for line in lines["rejected"] for r in line] == [Reason.TRUNCATED]


def test_write_sheets_jpeg_pages(tmp_path):
    rows, staging = _rows(tmp_path, 2 * COLUMNS * ROWS_PER_PAGE + 3)
    cfg = CurationConfig(dataset_dir=tmp_path, sheet_thumb=48, sheet_max_images=1000)
    sheets = write_sheets(tmp_path / "sheets", staging, rows, cfg)
    assert len(sheets["kept_A"]) == 2 and len(sheets["duplicates"]) == len(sheets["rejected"]) == 1
    with Image.open(sheets["kept_A"][0]) as im:
        assert im.format == "JPEG" and im.width == COLUMNS * (48 + 8)
    with Image.open(sheets["rejected"][0]) as im:  # the red frame of a rejection is drawn
        px = im.convert("RGB").getpixel((3, 22 + 3))
        assert px[0] > 150 and px[1] < 100
    first = sheets["kept_A"][0].stat().st_mtime_ns
    same = write_sheets(tmp_path / "sheets", staging, rows, cfg)
    assert same == sheets and sheets["kept_A"][0].stat().st_mtime_ns == first  # unchanged: not redrawn
    rerun = write_sheets(tmp_path / "sheets", staging, rows[:1], cfg)
    assert sorted(p.name for p in (tmp_path / "sheets").glob("*.jpg")) == sorted(
        p.name for v in rerun.values() for p in v
    )


@pytest.mark.parametrize(("size", "workers"), [((40, 30), 1), ((40, 30), 2), ((381, 286), 1)])
def test_tiles_from_staged_copies_smaller_or_larger_than_the_tile(tmp_path, size, workers):
    staging = tmp_path / "staged"
    rows = []
    for i in range(3):
        sha = f"{i + 1:064x}"
        path = staging / sha[:2] / f"{sha}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ci.jpeg_bytes(ci.scene(i, size)))
        rows.append(_kept(i, sha, "A"))
    cfg = CurationConfig(dataset_dir=tmp_path, sheet_thumb=48, workers=workers)
    (page,) = write_sheets(tmp_path / "sheets", staging, rows, cfg)["kept_A"]
    with Image.open(page) as im:
        tile = im.convert("RGB").crop((4, 22 + 4, 4 + 48, 22 + 4 + 48))
        assert max(tile.getextrema()[0]) > 0 and tile.getextrema()[0] != (245, 245)  # the picture, not background
