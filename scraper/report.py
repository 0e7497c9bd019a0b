"""What a search's result says, in words: one table row and one shortfall reason (the CLI table and the flow's
table artifact both use these two functions), one line per download and one per domain for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scraper import records as R
from scraper.layers import layer_text
from scraper.records import QueryResult

STOP_TEXT = {
    R.STOP_ASKED: "asked count reached",
    R.STOP_END: "end of results (the page says so, or no more-results control and loading brought nothing new)",
    R.STOP_CONTROL: "a more-results control did not respond (still on screen after every way of loading more)",
    R.STOP_TIMEOUT: "search timeout reached while results were still coming (--search-timeout)",
    R.STOP_PREVIEW_CAP: "preview click cap reached (--max-preview-clicks)",
    R.STOP_BLOCKED: "blocked: unusual-traffic page, no CAPTCHA attempted",
    R.STOP_ERROR: "search failed",
    R.STOP_NO_RESULTS: "no results found by any extraction layer",
    R.STOP_SOURCE: "every item of the list or folder offered",
}


def clip(text: str, limit: int) -> str:
    """`text` up to about `limit` characters, cut only between words: a path or URL is kept whole or left out."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    if cut <= 0:  # one long word: keep it whole
        cut = text.find(" ")
        return text if cut < 0 else text[:cut] + " ..."
    return text[:cut].rstrip(",;:") + " ..."


def _counts(statuses: dict[str, int]) -> str:
    return ", ".join(f"{s} {n}" for s, n in sorted(statuses.items(), key=lambda kv: (-kv[1], kv[0])))


def _search_reason(r: QueryResult) -> str | None:
    if r.search_status != R.OK:
        words = STOP_TEXT.get(r.stop, r.search_status)
        return f"{r.search_status}: {r.message}" if r.message and r.search_status != R.BLOCKED else words
    if r.asked and r.found < r.asked:
        return f"found {r.found} of {r.asked}: {STOP_TEXT.get(r.stop, r.stop or 'unknown')}"
    return None


def _download_reason(r: QueryResult, limit: bool) -> str | None:
    stored, wanted = r.downloaded + r.held, min(r.found, r.asked) if r.asked else r.found
    if not r.found or stored + (0 if limit else r.pending) >= wanted:
        return None
    failed = {s: n for s, n in r.statuses.items() if s not in (R.OK, R.DUPLICATE)}
    parts = [f"{sum(failed.values())} failed ({_counts(failed)})"] if failed else []
    if r.statuses.get(R.DUPLICATE):
        parts.append(f"{r.statuses[R.DUPLICATE]} same bytes as stored files")
    if r.settled:
        parts.append(f"{r.settled} settled by earlier runs (duplicates or failures for good)")
    if r.pending and limit:
        parts.append(f"{r.pending} left pending: the domain holds its limit ({r.domain_limit}, --per-domain)")
    if r.errors:
        parts.append(f"unexpected errors, first: {r.errors[0]}")
    return f"stored {stored} of {r.found}: " + "; ".join(parts)


def shortfall(r: QueryResult, limit: bool = True) -> str | None:
    """Why this search gave less than asked, or took another way than the usual one; None when it did not.

    Counted as shortfalls: fewer results found than asked (with why the search stopped: end of results, timeout,
    preview cap, blocked, error, nothing found), a fallback engine used, thumbnails instead of originals, and
    fewer images stored than found (failed downloads, duplicates, the domain limit; `limit` False leaves that one out,
    for a domain full before the search: `domain_lines` says it once)."""
    reasons = []
    if r.fallback_from:
        reasons.append(f"{r.fallback_from} {r.fallback_reason}: continued on {r.engine}")
    reasons.append(_search_reason(r))
    if r.thumbnails:
        reasons.append(f"thumbnails only ({r.thumbnails}, flagged is_thumbnail): no original URL could be read")
    reasons.append(_download_reason(r, limit))
    text = "; ".join(x for x in reasons if x)
    return text or None


def query_row(r: QueryResult) -> dict[str, Any]:
    """One search as a table row: asked / found / stored, why it stopped, the engine (and the one it replaced),
    and the shortfall reason ('' when none)."""
    return {
        "domain": r.domain,
        "query": r.query,
        "engine": r.engine,
        "fallback_from": r.fallback_from,
        "search": r.search_status,
        "layer": r.layer,
        "by_layer": layer_text(r.layer_counts),
        "asked": r.asked,
        "found": r.found,
        "downloaded": r.downloaded,
        "held": r.held,
        "failed": r.failed,
        "duplicate": r.statuses.get(R.DUPLICATE, 0),
        "pending": r.pending,
        "stop": r.stop,
        "shortfall": shortfall(r) or "",
        "message": r.message,
    }


def download_text(r: QueryResult) -> str | None:
    """What one search's download step did, in words (`12 new, duplicate 2; 28 held`); None when it fetched nothing
    (a domain at its limit, or every candidate settled before: `domain_lines` says that once per domain)."""
    if not r.statuses:
        return None
    others = {s: n for s, n in r.statuses.items() if s != R.OK}
    text = f"{r.downloaded} new" + (f" ({_counts(others)})" if others else "")
    return text + (f"; {r.held} held" if r.held else "")


def domain_lines(results: Sequence[QueryResult], held: Mapping[str, int]) -> list[str]:
    """One line per domain whose searches stored nothing new (`A: nothing new: 100 held, limit 100`), or that reached
    its limit and left candidates pending; `held` is what each domain holds now."""
    lines = []
    for domain, n in held.items():
        mine = [r for r in results if r.domain == domain]
        if not mine:
            continue
        limit = next((r.domain_limit for r in mine if r.domain_limit is not None), None)
        pending = sum(r.pending for r in mine)
        new = sum(r.downloaded for r in mine)
        at = f", limit {limit}" if limit is not None else ""
        if not new:
            lines.append(f"{domain}: nothing new: {n} held{at}")
        elif pending:
            lines.append(f"{domain}: {new} new, {n} held{at} reached; {pending} candidates left pending")
    return lines
