"""Tests for flows.artifacts: data-URI thumbnails and galleries for the Prefect UI."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image

from flows.artifacts import Tile, data_uri, gallery, table_rows


def _jpeg(path, size=(400, 300), exif_rotate=False):
    im = Image.new("RGB", size, (200, 80, 120))
    exif = Image.Exif()
    if exif_rotate:
        exif[0x0112] = 6  # rotate 90 degrees on display
    im.save(path, format="JPEG", exif=exif)
    return path


def _decode(uri: str) -> Image.Image:
    assert uri.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_data_uri_is_a_small_decodable_thumbnail(tmp_path):
    thumb = _decode(data_uri(_jpeg(tmp_path / "a.jpg"), max_side=100))
    assert thumb.size == (100, 75)


def test_data_uri_applies_exif_orientation(tmp_path):
    thumb = _decode(data_uri(_jpeg(tmp_path / "r.jpg", exif_rotate=True), max_side=100))
    assert thumb.size == (75, 100)


def test_gallery_rows_captions_and_limit(tmp_path):
    tiles = [Tile(_jpeg(tmp_path / f"{i}.jpg", (64, 64)), f"id{i} a|b") for i in range(8)]
    md = gallery(tiles, columns=3, limit=5)
    assert len(re.findall(r"!\[id\d a\\\|b\]\(data:image/jpeg;base64,", md)) == 5
    assert "`id4 a\\|b`" in md and "id5" not in md
    assert "and 3 more" in md
    assert gallery([]) == "_none_\n"


def test_table_rows_make_values_json_friendly(tmp_path):
    assert table_rows([{"a": 1, "b": tmp_path, "c": None}]) == [{"a": 1, "b": str(tmp_path), "c": None}]


def test_artifact_key_keeps_only_what_prefect_allows():
    from flows.artifacts import artifact_key

    assert artifact_key("review", "street2sakura_demo", "A") == "review-street2sakura-demo-a"
    assert artifact_key("metrics", "My Set!") == "metrics-my-set"
