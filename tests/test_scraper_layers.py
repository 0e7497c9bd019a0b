"""Tests for scraper.layers: originals from several layers counted once, tiles matched to records, provenance."""

from __future__ import annotations

from scraper.extract import Extracted
from scraper.layers import Found, Tile, layer_text
from scraper.records import Candidate


def _ext(*records: tuple[str, str | None, str | None, tuple[str, ...]]) -> Extracted:
    ext = Extracted()
    for url, page, title, keys in records:
        ext.add(url, page, title, keys=keys)
    return ext


def test_an_original_seen_by_several_layers_counts_once_for_the_first():
    found = Found()
    assert found.add_extracted("json", _ext(("https://o/1", "https://p/1", "T1", ()))) == 1
    assert found.add_extracted("network", _ext(("https://o/1", None, None, ()), ("https://o/2", None, None, ()))) == 1
    assert found.add("preview", Candidate("https://o/3", "https://p/3", "T3"))
    assert not found.add("preview", Candidate("https://o/2", "https://p/2", "T2"))  # provenance only
    assert found.counts(10) == (("json", 1), ("network", 1), ("preview", 1))
    assert found.counts(2) == (("json", 1), ("network", 1))
    assert [(c.url, c.page_url, c.title, c.rank) for c in found.candidates(10)] == [
        ("https://o/1", "https://p/1", "T1", 0), ("https://o/2", "https://p/2", "T2", 1),
        ("https://o/3", "https://p/3", "T3", 2)]  # fmt: skip
    assert layer_text(found.counts(10)) == "json 1, network 1, preview 1"


def test_tiles_are_matched_by_a_record_string_and_give_what_the_record_lacks():
    found = Found()
    found.add_extracted("network", _ext(("https://o/1", None, None, ("doc-1", "https://t/1")),
                                        ("https://o/2", "https://p/2", "Rec 2", ("doc-2", "shared")),
                                        ("https://o/3", None, None, ("doc-3", "shared"))))  # fmt: skip
    tiles = [
        Tile(None, "https://p/1", "Tile 1", ("https://t/1",)),  # by its thumbnail URL
        Tile(None, "https://p/x", "Tile 2", ("doc-2",)),  # the record's provenance wins
        Tile(None, "https://p/3", "Tile 3", ("shared",)),  # two records hold it: covered, but whose?
        Tile(None, "https://p/4", "Tile 4", ("doc-4", "https://p/4")),  # no record: to be clicked
    ]
    assert found.cover(tiles) == [True, True, True, False]
    assert [(c.page_url, c.title) for c in found.candidates(10)] == [
        ("https://p/1", "Tile 1"), ("https://p/2", "Rec 2"), (None, None)]  # fmt: skip
