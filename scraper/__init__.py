"""Scraper stage: search queries -> image URLs -> raw image files with provenance."""

from scraper.browser import BrowserError, DriverChoice, close_driver, make_driver, resolve_driver
from scraper.config import ScrapeConfig
from scraper.engine import BrowserEngine, make_engine
from scraper.fetch import Downloader
from scraper.layout import RawLayout
from scraper.pipeline import collect, download_candidates, plan, remaining, scrape, summarize
from scraper.records import Candidate, Counts, Fetched, QueryResult, ScrapeResult, SearchOutcome
from scraper.report import query_row, shortfall
from scraper.search import Engines, search_query
from scraper.sequence import run_searches
from scraper.sources import LocalReader, folder_candidates, read_url_list
from scraper.store import Store

__all__ = [
    "BrowserEngine",
    "BrowserError",
    "Candidate",
    "Counts",
    "Downloader",
    "DriverChoice",
    "Engines",
    "Fetched",
    "LocalReader",
    "QueryResult",
    "RawLayout",
    "ScrapeConfig",
    "ScrapeResult",
    "SearchOutcome",
    "Store",
    "close_driver",
    "collect",
    "download_candidates",
    "folder_candidates",
    "make_driver",
    "make_engine",
    "plan",
    "query_row",
    "read_url_list",
    "remaining",
    "resolve_driver",
    "run_searches",
    "scrape",
    "search_query",
    "shortfall",
    "summarize",
]
