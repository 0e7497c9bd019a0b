"""Scraper stage: search queries -> image URLs -> raw image files with provenance."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "BrowserEngine": "engine",
        "BrowserError": "browser",
        "Candidate": "records",
        "Counts": "records",
        "Downloader": "fetch",
        "DriverChoice": "browser",
        "Engines": "search",
        "Fetched": "records",
        "LocalReader": "sources",
        "QueryResult": "records",
        "RawLayout": "layout",
        "ScrapeConfig": "config",
        "ScrapeResult": "records",
        "SearchOutcome": "records",
        "Store": "store",
        "close_driver": "browser",
        "collect": "pipeline",
        "plan": "pipeline",
        "download_candidates": "pipeline",
        "folder_candidates": "sources",
        "make_driver": "browser",
        "make_engine": "engine",
        "read_url_list": "sources",
        "query_row": "report",
        "remaining": "pipeline",
        "resolve_driver": "browser",
        "scrape": "pipeline",
        "search_query": "search",
        "shortfall": "report",
        "summarize": "pipeline",
    },
)
