"""Tests for scraper.extract: layer 1 parsing of embedded result data, on fixed page-source snippets."""

from __future__ import annotations

import html
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.extract import (
    bing_extract,
    google_extract,
    is_thumbnail_url,
    unescape_js,
)
from scraper.selectors import BING, GOOGLE
from tests.support.scraper_extract import bing_candidates, google_candidates

GOOGLE_SOURCE = r"""<script nonce="x">AF_initDataCallback({key: 'ds:1', hash: '2', data:[null,[
[1,[0,"aa",["https://encrypted-tbn0.gstatic.com/images?q\u003dtbn:ANd9GcA\u0026s",194,259],
 ["https://example.org/photos/street.jpg?w\u003d1200\u0026h\u003d800",800,1200],null,0,"rgb(1,2,3)",null,0,
 {"2003":[null,"doc1","https://example.org/blog/post-1","Tree \u0026 street \"quoted\"",null]}]],
[1,[0,"bb",["https://encrypted-tbn0.gstatic.com/images?q\u003dtbn:B",100,100],
 ["https://cdn.example.net/a%20b.png",600,900],null,0,"rgb(0,0,0)"]],
[1,[0,"cc",["https://encrypted-tbn0.gstatic.com/images?q\u003dtbn:C",1,1],
 ["https://example.org/photos/street.jpg?w\u003d1200\u0026h\u003d800",800,1200]]]
]]});</script>"""


def test_google_triples_give_originals_in_order_with_provenance():
    got = google_candidates(GOOGLE_SOURCE)
    assert [c.url for c in got] == [
        "https://example.org/photos/street.jpg?w=1200&h=800",
        "https://cdn.example.net/a%20b.png",
    ]
    assert (got[0].page_url, got[0].title, got[0].rank) == (
        "https://example.org/blog/post-1",
        'Tree & street "quoted"',
        0,
    )
    assert (got[1].page_url, got[1].title, got[1].rank) == (None, None, 1)  # no "2003" entry before the next result


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("a\\u003db", "a=b"), ("a\\\\u003db", "a=b"), ("https:\\/\\/x\\/y", "https://x/y"), ("plain", "plain"),
     ("bad\\x", "bad\\x")],
)  # fmt: skip
def test_unescape_js_handles_single_and_double_escapes(raw, expected):
    assert unescape_js(raw) == expected


@pytest.mark.parametrize(
    ("url", "thumb"),
    [("https://encrypted-tbn0.gstatic.com/images?q=tbn:x", True), ("data:image/jpeg;base64,xx", True),
     ("https://example.org/x.jpg", False)],
)  # fmt: skip
def test_thumbnail_markers(url, thumb):
    assert is_thumbnail_url(url, GOOGLE.thumbnail_url_markers) is thumb


def _bing_tile(m: dict, order: str = "class-first") -> str:
    attr = html.escape(json.dumps(m))
    if order == "class-first":
        return f'<a class="iusc" style="x" m="{attr}" href="/images/x">'
    return f'<a m="{attr}" href="/images/x" class="iusc big">'


@pytest.mark.parametrize("order", ["class-first", "m-first"])
def test_bing_m_attribute(order):
    tiles = [
        {"murl": "https://site.example/p.jpg?a=1&b=2", "purl": "https://site.example/page", "t": "Cherry <b>&</b>"},
        {"murl": "https://tse1.mm.bing.net/th?id=OIP.x", "purl": "https://x"},  # a thumbnail, dropped
        {"murl": "https://site.example/p.jpg?a=1&b=2"},  # repeat, dropped
        {"purl": "https://no-image"},
    ]
    source = "<div>" + "".join(_bing_tile(m, order) for m in tiles) + '<a class="iusc" m="{not json">'
    got = bing_candidates(source)
    assert len(got) == 1
    assert (got[0].url, got[0].page_url, got[0].title) == (tiles[0]["murl"], tiles[0]["purl"], tiles[0]["t"])
    assert BING.thumbnails == ("a.iusc",)


def test_google_triples_escaped_twice_inside_a_js_string():
    source = r'var d = "[1,[0,\"x\",[\"https://encrypted-tbn0.gstatic.com/images?q\\u003dtbn:X\",10,10],' \
             r'[\"https:\/\/example.org\/big.jpg?a\\u003d1\",900,1200]]]";'  # fmt: skip
    assert [c.url for c in google_candidates(source)] == ["https://example.org/big.jpg?a=1"]


# --- property: the same records, however a page embeds them ----------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_URL = st.builds(lambda host, path, q: f"https://{host}.example/{path}?{q}",
                 st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[a-z0-9/._-]{0,20}", fullmatch=True),
                 st.from_regex(r"[a-z]{1,4}=[a-z0-9%&=]{0,12}", fullmatch=True))  # fmt: skip


_RECORD = st.tuples(_URL, _URL, _TEXT)


def _embed(data: str, depth: int) -> str:
    """`data` (JSON text) in a page, at an escaping depth: array literal, JSON.parse('...'), JSON in a JSON string,
    and that in a JS string."""
    if depth == 0:
        code = f"AF_initDataCallback({{key: 'ds:1', data:{data}}});"
    elif depth == 1:
        code = "AF_initDataCallback({key: 'ds:1', data:JSON.parse(" + json.dumps(data) + ")});"
    else:
        code = f"AF_initDataCallback({{key: 'ds:2', data:{json.dumps([['wrb.fr', 'x', data]])}}});"
        if depth == 3:
            code = f"var w = {json.dumps(code)};"
    return f"<html><body><div class='x'>[not, json]</div><script>var a = [1, 2]; {code}</script></body></html>"


@settings(max_examples=150, deadline=None)
@given(
    # hypothesis found these: a page URL that is its own image, a title "http://" (read as a URL); no reader can
    # tell such records apart
    records=st.lists(
        _RECORD.filter(lambda r: r[0] != r[1] and not r[2].startswith("http")),
        min_size=1,
        max_size=6,
        unique_by=lambda r: r[0],
    ),  # fmt: skip
    depth=st.integers(0, 3),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    separators=st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :  ")]),
    ascii_only=st.booleans(),
    google_escapes=st.booleans(),
    meta=st.sampled_from(["2003", "list", "dict", "flat"]),
)
def test_google_records_are_read_whatever_the_escaping_and_whitespace(
    records, depth, indent, separators, ascii_only, google_escapes, meta
):
    def record(i, url, page, title):
        m = {"2003": {"2003": [None, f"d{i}", page, title]}, "list": {"7": [None, [0, [page, title]]]},
             "dict": {"9": {"u": page, "title_text": title}}, "flat": None}[meta]  # fmt: skip
        core = [0, f"id{i}", [f"https://encrypted-tbn0.gstatic.com/images?q=tbn:{i}", 10, 20], [url, 600, 800]]
        return [1, core + ([page, title] if meta == "flat" else [None, m])]

    value = [None, [record(i, *r) for i, r in enumerate(records)]]
    data = json.dumps(value, indent=indent, separators=separators, ensure_ascii=ascii_only)
    if google_escapes:
        data = data.replace("=", "\\u003d").replace("&", "\\u0026")
    got = google_extract(_embed(data, depth))
    assert [(c.url, c.page_url, c.title) for c in got.candidates] == [(u, p, t.strip() or None) for u, p, t in records]
    assert got.records == len(records) and all((c.width, c.height) == (800, 600) for c in got.candidates)


@settings(max_examples=60, deadline=None)
@given(records=st.lists(st.tuples(_URL, _URL, _TEXT), min_size=1, max_size=5, unique_by=lambda r: r[0]),
       spaced=st.booleans(), quote=st.sampled_from(['"', "'"]))  # fmt: skip
def test_bing_metadata_is_read_from_any_attribute_quoting_and_spacing(records, spaced, quote):
    tiles = []
    for url, page, title in records:
        m = json.dumps({"murl": url, "purl": page, "t": title}, separators=(", ", ": ") if spaced else (",", ":"))
        tiles.append(f"<a class=iusc m={quote}{html.escape(m, quote=True)}{quote} href='#'>x</a>")
    got = bing_extract("<html><body>" + "".join(tiles) + "</body></html>")
    assert [(c.url, c.page_url, c.title) for c in got.candidates] == [(u, p, t.strip() or None) for u, p, t in records]


def test_an_original_under_several_thumbnails_is_one_candidate_counted_in_each_record():
    rec = lambda i, url: [1, [0, f"id{i}", ["https://encrypted-tbn0.gstatic.com/images?q=tbn:x", 1, 1],  # noqa: E731
                              [url, 10, 10], {"2003": [None, "d", f"https://p.example/{i}", f"T{i}"]}]]  # fmt: skip
    data = json.dumps([rec(0, "https://a.example/1.jpg"), rec(1, "https://a.example/2.jpg"),
                       rec(2, "https://a.example/1.jpg")])  # fmt: skip
    got = google_extract(f"<script>AF_initDataCallback({{data:{data}}});</script>")
    assert [c.url for c in got.candidates] == ["https://a.example/1.jpg", "https://a.example/2.jpg"]
    assert got.records == 3 and got.candidates[0].page_url == "https://p.example/0"  # the first record's provenance


def test_js_string_literals_with_js_only_escapes():
    source = "<script>var d = JSON.parse('[1,[0,\\x22a\\x22,[\\'https://x.example/i.jpg\\',5,6]]]');</script>"
    assert source.count("\\x22") == 2
    assert [c.url for c in google_extract(source.replace("\\'", '\\"')).candidates] == ["https://x.example/i.jpg"]


# --- responses the page fetched, and text nodes ------------------------------------------------------------------

_REC = [1, [0, "tile-7", ["https://encrypted-tbn0.gstatic.com/images?q=tbn:7", 9, 9], ["https://o.example/7.jpg", 8, 6],
            {"2003": [None, "d7", "https://p.example/7", "Seven & <b>co</b>"]}]]  # fmt: skip
_DATA = json.dumps([None, [_REC]])
_WANT = [("https://o.example/7.jpg", "https://p.example/7", "Seven & <b>co</b>")]


@pytest.mark.parametrize(
    "body",
    [
        ")]}'\n" + _DATA,  # anti-hijacking prefix
        f')]}}\'\n\n{len(_DATA)}\n{_DATA}\n25\n[["di",42],["af.httprm",7]]\n',  # length-prefixed chunks
        f"{len(_DATA):x};{_DATA}",  # hex length and a separator
        ")]}'\n" + json.dumps([["wrb.fr", "HoAMBc", _DATA, None, None, "generic"]]),  # JSON in a JSON string
        json.dumps({"html": "<div class='t'></div><script>AF_initDataCallback({data:" + _DATA + "});</script>"}),
        json.dumps({"html": f"<template>{html.escape(_DATA)}</template>", "n": 1}),  # HTML in a JSON string
    ],
    ids=["prefix", "chunks", "hex-chunks", "nested", "html-script", "html-template"],
)
def test_response_bodies_are_read_with_the_same_parser(body):
    assert [(c.url, c.page_url, c.title) for c in google_extract(body).candidates] == _WANT


@pytest.mark.parametrize(
    "holder",
    [
        f"<template><div>{html.escape(_DATA)}</div></template>",
        "<noscript>" + _DATA.replace("</", "<\\/") + "</noscript>",  # raw text while scripts run: tags are text
        f"<div hidden>{html.escape(_DATA)}</div>",
        f"<!-- a comment --><p>{html.escape(json.dumps([['wrb.fr', 'x', _DATA]]))}</p>",
    ],
    ids=["template", "noscript", "text", "nested-text"],
)
def test_text_nodes_of_the_dom_are_read(holder):
    source = f"<html><head><style>.t {{ width: 3px }}</style></head><body>{holder}</body></html>"
    assert [(c.url, c.page_url, c.title) for c in google_extract(source).candidates] == _WANT


def test_a_records_strings_are_its_keys_for_matching_tiles():
    got = google_extract(")]}'\n" + _DATA)
    assert {"tile-7", "https://p.example/7", "https://encrypted-tbn0.gstatic.com/images?q=tbn:7"} <= set(got.keys)
    assert got.keys["tile-7"] == {"https://o.example/7.jpg"}
    assert "d7" not in got.keys and "7" not in got.keys  # too short, or digits only: never a key
