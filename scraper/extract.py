"""Layer 1 extraction, pure: original image URLs (with page URL and title) from a result page's source."""

from __future__ import annotations

import html
import json

from scraper.records import Candidate
from scraper.selectors import (
    BING,
    BING_META_ATTR,
    BING_RESULT_CLASS,
    GOOGLE,
    GOOGLE_META,
    GOOGLE_TRIPLE,
    HTML_A_TAG,
    HTML_ATTR,
)


def unescape_js(text: str) -> str:
    """Decode JSON string escapes (\\u003d, \\/, ...), also when they were escaped twice."""
    for _ in range(3):
        if "\\" not in text:
            break
        try:
            text = json.loads(f'"{text}"')
        except json.JSONDecodeError:
            text = text.replace("\\u003d", "=").replace("\\u0026", "&").replace("\\/", "/")
            break
    return text


def is_thumbnail_url(url: str, markers: tuple[str, ...]) -> bool:
    """True when the URL looks like an engine-hosted thumbnail rather than an original."""
    return any(m in url for m in markers)


def google_candidates(source: str, markers: tuple[str, ...] = GOOGLE.thumbnail_url_markers) -> list[Candidate]:
    """Originals from the ["url",h,w] triples of Google's embedded JSON, in page order, without thumbnails."""
    triples = [(m.start(), m.end(), unescape_js(m.group(1))) for m in GOOGLE_TRIPLE.finditer(source)]
    originals = [(s, e, u) for s, e, u in triples if not is_thumbnail_url(u, markers)]
    found: dict[str, Candidate] = {}
    for i, (_start, end, url) in enumerate(originals):
        if url in found:
            continue
        stop = originals[i + 1][0] if i + 1 < len(originals) else len(source)
        meta = GOOGLE_META.search(source, end, min(stop, end + 20_000))
        page_url = unescape_js(meta.group(1)) if meta else None
        title = unescape_js(meta.group(2)) if meta else None
        found[url] = Candidate(url=url, page_url=page_url, title=title or None, rank=len(found))
    return list(found.values())


def _bing_m_values(source: str) -> list[str]:
    values = []
    for tag in HTML_A_TAG.finditer(source):
        attrs = dict(HTML_ATTR.findall(tag.group(0)))
        if BING_RESULT_CLASS in attrs.get("class", "").split() and BING_META_ATTR in attrs:
            values.append(attrs[BING_META_ATTR])
    return values


def bing_candidates(source: str, markers: tuple[str, ...] = BING.thumbnail_url_markers) -> list[Candidate]:
    """Originals from the JSON `m` attribute (murl, purl, t) of Bing's a.iusc result links, in page order."""
    found: dict[str, Candidate] = {}
    for raw in _bing_m_values(source):
        try:
            meta = json.loads(html.unescape(raw))
        except json.JSONDecodeError:
            continue
        url = meta.get("murl") if isinstance(meta, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or url in found:
            continue
        if is_thumbnail_url(url, markers):
            continue
        found[url] = Candidate(url=url, page_url=meta.get("purl") or None, title=meta.get("t") or None, rank=len(found))
    return list(found.values())
