"""Tests for scraper.extract: layer 1 parsing of embedded result data, on fixed page-source snippets."""

from __future__ import annotations

import html
import json

import pytest

from scraper.extract import bing_candidates, google_candidates, is_thumbnail_url, unescape_js
from scraper.selectors import BING, GOOGLE

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
