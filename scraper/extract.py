"""Layer 1 extraction, pure: original image URLs with size, source page and title, parsed from a page's embedded data.

The result data of an engine sits somewhere in the page, or in a response the page fetched, as JSON: a script's array
literal, a JSON string inside a JS string (escaped once, twice, ...), an HTML attribute, a text node (template and
noscript content too), a response body behind an anti-hijacking prefix or in length-prefixed chunks, HTML inside a
JSON string. `json_values` finds and decodes all of it, whatever the escaping and the whitespace; the engine readers
then walk the decoded values for result records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import unescape as html_unescape
from typing import Any

from scraper.records import Candidate
from scraper.selectors import BING, BING_RECORD_KEYS, GOOGLE, GOOGLE_META_KEY

_DECODER = json.JSONDecoder(strict=False)  # JS strings may hold raw tabs
# Elements whose content is raw text in a serialized DOM (noscript: while scripts run), then any start tag.
_RAW = re.compile(r"<(script|noscript|style)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_TAG = re.compile(r"""<[a-zA-Z](?:[^>"']|"[^"]*"|'[^']*')*>|</[a-zA-Z][^>]*>|<!--.*?-->""", re.S)
_ATTR_VALUE = re.compile(r"""\s[^\s=/>"']+\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CODE_START = re.compile(r"""[\[{"']""")
_JS_STRING = {'"': re.compile(r'"(?:[^"\\\n]|\\.)*"', re.S), "'": re.compile(r"'(?:[^'\\\n]|\\.)*'", re.S)}
_JS_TOKEN = re.compile(r'\\(x[0-9a-fA-F]{2}|.)|"', re.S)  # an escape sequence, or a raw " (in a '...' literal)
_JS_ONLY = {"'": "'", "\n": "", "v": "\\u000b", "0": "\\u0000"}  # JS escapes JSON lacks
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
MAX_DEPTH = 4  # JSON in a string in a string ...: decoded this many levels deep
MIN_NESTED = 8  # shorter strings are never parsed as nested JSON
PROVENANCE_DEPTH = 6  # how deep under a result record its page URL and title are looked for
MIN_KEY = 3  # shorter strings of a record never match it to a tile


def _js_string(literal: str) -> str | None:
    """The value of a JS string literal ("..." or '...'), or None when it does not decode."""

    def to_json(m: re.Match) -> str:
        esc = m.group(1)
        if esc is None:
            return '\\"'
        if len(esc) == 3:
            return "\\u00" + esc[1:]
        return _JS_ONLY.get(esc, "\\" + esc)

    body = _JS_TOKEN.sub(to_json, literal[1:-1])
    try:
        return _DECODER.decode(f'"{body}"')
    except json.JSONDecodeError:
        return None


def _values_in_code(text: str, depth: int) -> Iterator[Any]:
    """JSON arrays and objects in JS code or JSON text, in order; string literals holding JSON are decoded too."""
    pos = 0
    while (m := _CODE_START.search(text, pos)) is not None:
        start, ch = m.start(), m.group()
        if ch in "\"'":
            lit = _JS_STRING[ch].match(text, start)
            if lit is None:
                pos = start + 1
                continue
            pos = lit.end()
            if depth < MAX_DEPTH and ("[" in lit.group() or "{" in lit.group()):
                decoded = _js_string(lit.group())
                if decoded:
                    yield from _values_in_code(decoded, depth + 1)
            continue
        try:
            value, pos = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        yield value
        yield from _nested(value, depth)


def _nested(value: Any, depth: int) -> Iterator[Any]:
    """JSON held in the string values of a decoded value (a JSON string inside JSON), decoded in turn."""
    if depth >= MAX_DEPTH:
        return
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            s = v.lstrip(")]}'\n ")
            if len(s) >= MIN_NESTED and s[0] in "[{":
                yield from _values_in_code(s, depth + 1)
            elif len(s) >= MIN_NESTED and s[0] == "<" and ("[" in s or "{" in s):  # HTML in a JSON string
                yield from _values_in_html(s, depth + 1)
        elif isinstance(v, list):
            stack.extend(reversed(v))
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))


def _values_in_html(source: str, depth: int) -> Iterator[Any]:
    """The JSON values of an HTML document or fragment, in order: in scripts and noscript (raw text), in attribute
    values and in text nodes (both HTML-escaped)."""
    pos = 0
    for m in re.finditer(f"{_RAW.pattern}|{_TAG.pattern}", source, re.S | re.I):
        yield from _values_in_text(source[pos : m.start()], depth)
        pos = m.end()
        if m.group(1) is not None:
            if m.group(1).lower() != "style":
                yield from _values_in_code(m.group(2), depth)
            continue
        for attr in _ATTR_VALUE.finditer(m.group()):
            raw = attr.group(1) if attr.group(1) is not None else attr.group(2)
            if "[" in raw or "{" in raw:
                yield from _values_in_code(html_unescape(raw), depth + 1)
    yield from _values_in_text(source[pos:], depth)


def _values_in_text(text: str, depth: int) -> Iterator[Any]:
    if "[" in text or "{" in text:
        yield from _values_in_code(html_unescape(text), depth)


def json_values(source: str) -> Iterator[Any]:
    """Every JSON array or object a page source or a response body holds, in order: in scripts (also inside JS
    strings, escaped any number of times), in HTML attribute values and text nodes (HTML-escaped), in JSON strings
    (JSON or HTML). A source that is not HTML is read as code: a `)]}'` prefix, length lines between chunks and
    other text around the values are skipped."""
    if not source.lstrip().startswith("<"):
        yield from _values_in_code(source, 0)
        return
    yield from _values_in_html(source, 0)


def unescape_js(text: str) -> str:
    """Decode what an extra level of escaping left in a decoded URL (\\u003d, \\/ and the like; a URL has no
    backslashes of its own). Titles are never passed through this: a backslash in a title is the title's."""
    for _ in range(3):
        if "\\" not in text:
            break
        try:
            text = json.loads(f'"{text}"')
        except json.JSONDecodeError:
            text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text).replace("\\/", "/")
            break
    return text


def is_thumbnail_url(url: str, markers: tuple[str, ...]) -> bool:
    """True when the URL looks like an engine-hosted thumbnail rather than an original."""
    return any(m in url for m in markers)


def _is_url(v: Any) -> bool:
    return isinstance(v, str) and v.startswith(("http://", "https://"))


def _is_triple(v: Any) -> bool:
    """["http...", height, width]: how Google's data gives an image URL and its size."""
    return (
        isinstance(v, list)
        and len(v) == 3
        and _is_url(v[0])
        and all(isinstance(n, int) and not isinstance(n, bool) for n in v[1:])
    )


@dataclass
class Extracted:
    """What layer 1 read from a page: unique originals in page order, how many result records it saw, and the
    strings of each record (ids, URLs) by which a tile on the page can be matched to its original."""

    candidates: list[Candidate] = field(default_factory=list)
    records: int = 0  # result records seen; an original under several thumbnails counts each time
    keys: dict[str, set[str]] = field(default_factory=dict)  # a record's string -> the originals of such records
    _by_url: dict[str, int] = field(default_factory=dict, repr=False)

    def add(
        self,
        url: str,
        page_url: str | None,
        title: str | None,
        size: tuple[int, int] | None = None,
        keys: Iterable[str] = (),
    ) -> None:
        """One result record: a new original, or more provenance for one already seen."""
        self.records += 1
        url, page_url = unescape_js(url), unescape_js(page_url) if page_url else None
        for k in keys:
            self.keys.setdefault(k, set()).add(url)
        title = title.strip() if title else None
        i = self._by_url.get(url)
        if i is None:
            self._by_url[url] = len(self.candidates)
            h, w = size or (None, None)
            self.candidates.append(Candidate(url, page_url, title or None, len(self.candidates), False, w, h))
            return
        old = self.candidates[i]
        if (old.page_url is None and page_url) or (old.title is None and title):
            self.candidates[i] = Candidate(url, old.page_url or page_url, old.title or title or None, old.rank,
                                           False, old.width, old.height)  # fmt: skip


def _strings_provenance(values: list[Any], url: str, markers: tuple[str, ...]) -> tuple[str | None, str | None]:
    """In a list: the first page URL (an http string that is not the image nor a thumbnail) and the string after it."""
    for i, v in enumerate(values):
        if _is_url(v) and v != url and not is_thumbnail_url(v, markers):
            nxt = values[i + 1] if i + 1 < len(values) else None
            return v, nxt if isinstance(nxt, str) and not _is_url(nxt) else None
    return None, None


def _provenance(scope: list[Any], url: str, markers: tuple[str, ...]) -> tuple[str | None, str | None]:
    """Page URL and title of a result from the values around its original: Google's "2003" entry when there is one,
    else the first list or object below that holds a page URL (and a title after it)."""
    page, title = _strings_provenance(scope, url, markers)  # a flat record: [..., page URL, title, ...]
    if page and title:
        return page, title
    queue = [(v, 0) for v in scope]
    for v, _ in queue:
        if isinstance(v, dict) and isinstance(v.get(GOOGLE_META_KEY), list):
            return _strings_provenance(v[GOOGLE_META_KEY], url, markers)
    found: tuple[str | None, str | None] = (page, title)
    while queue:
        v, d = queue.pop(0)
        if isinstance(v, list) and not _is_triple(v):
            page, title = _strings_provenance(v, url, markers)
            if page and title:
                return page, title
            found = found if found[0] else (page, title)
            if d < PROVENANCE_DEPTH:
                queue.extend((x, d + 1) for x in v if isinstance(x, list | dict))
        elif isinstance(v, dict):
            page = next((x for x in v.values() if _is_url(x) and x != url and not is_thumbnail_url(x, markers)), None)
            title = next((x for k, x in v.items() if isinstance(x, str) and "title" in str(k).lower()), None)
            if page and title:
                return page, title
            found = found if found[0] else (page, title)
            if d < PROVENANCE_DEPTH:
                queue.extend((x, d + 1) for x in v.values() if isinstance(x, list | dict))
    return found


def record_keys(values: Iterable[Any]) -> set[str]:
    """The strings of a record (ids, URLs, thumbnail URLs; down to PROVENANCE_DEPTH), URLs unescaped: what a tile
    of the page may carry too. Strings shorter than MIN_KEY or only digits are no key."""
    keys: set[str] = set()
    stack = [(v, 0) for v in values]
    while stack:
        v, d = stack.pop()
        if isinstance(v, str):
            if len(v) >= MIN_KEY and not v.isdigit():
                keys.add(unescape_js(v) if _is_url(v) else v)
        elif d < PROVENANCE_DEPTH and isinstance(v, list | dict):
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return keys


def _google_walk(value: Any, markers: tuple[str, ...], out: Extracted) -> None:
    """Depth-first in page order; a list holding an original's ["url",h,w] triple is that result's record."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
            continue
        if not isinstance(v, list) or _is_triple(v):
            continue
        originals = [i for i, x in enumerate(v) if _is_triple(x) and not is_thumbnail_url(x[0], markers)]
        bounds = [-1, *originals, len(v)]
        for k, i in enumerate(originals):
            record = v[bounds[k] + 1 : bounds[k + 2]]
            scope = [x for x in record if not _is_triple(x)]
            page, title = _provenance(scope, v[i][0], markers)
            out.add(v[i][0], page, title, (v[i][1], v[i][2]), record_keys(record))
        stack.extend(reversed([x for x in v if isinstance(x, list | dict) and not _is_triple(x)]))


def google_extract(source: str, markers: tuple[str, ...] = GOOGLE.thumbnail_url_markers) -> Extracted:
    """Originals from Google's embedded result data: each record's ["url",h,w] triple that is not a thumbnail, with
    the page URL and title of the same record."""
    out = Extracted()
    for value in json_values(source):
        _google_walk(value, markers, out)
    return out


def bing_extract(source: str, markers: tuple[str, ...] = BING.thumbnail_url_markers) -> Extracted:
    """Originals from Bing's result metadata: objects with murl (image), purl (page) and t (title), wherever they are
    (the `m` attribute of a.iusc links today)."""
    image, page, title = BING_RECORD_KEYS
    out = Extracted()
    for value in json_values(source):
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, list):
                stack.extend(reversed(v))
            elif isinstance(v, dict):
                url = v.get(image)
                if _is_url(url) and not is_thumbnail_url(url, markers):
                    p, t = v.get(page), v.get(title)
                    out.add(url, p if _is_url(p) else None, t if isinstance(t, str) else None, keys=record_keys([v]))
                stack.extend(reversed([x for x in v.values() if isinstance(x, list | dict)]))
    return out
