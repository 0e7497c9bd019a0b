"""Scraper stage: search queries -> image URLs -> raw image files with provenance."""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module it comes from: imported on first use (PEP 562), so that a caller of one
# submodule (curation reads scraper.layout) does not import Selenium, requests and the rest.
_WHERE = {
    "BrowserError": "scraper.browser",
    "DriverChoice": "scraper.browser",
    "close_driver": "scraper.browser",
    "make_driver": "scraper.browser",
    "resolve_driver": "scraper.browser",
    "ScrapeConfig": "scraper.config",
    "BrowserEngine": "scraper.engine",
    "make_engine": "scraper.engine",
    "Downloader": "scraper.fetch",
    "RawLayout": "scraper.layout",
    "collect": "scraper.pipeline",
    "download_candidates": "scraper.pipeline",
    "plan": "scraper.pipeline",
    "remaining": "scraper.pipeline",
    "scrape": "scraper.pipeline",
    "summarize": "scraper.pipeline",
    "Candidate": "scraper.records",
    "Counts": "scraper.records",
    "Fetched": "scraper.records",
    "QueryResult": "scraper.records",
    "ScrapeResult": "scraper.records",
    "SearchOutcome": "scraper.records",
    "query_row": "scraper.report",
    "shortfall": "scraper.report",
    "Engines": "scraper.search",
    "search_query": "scraper.search",
    "run_searches": "scraper.sequence",
    "LocalReader": "scraper.sources",
    "folder_candidates": "scraper.sources",
    "read_url_list": "scraper.sources",
    "Store": "scraper.store",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'scraper' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # once: later lookups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
