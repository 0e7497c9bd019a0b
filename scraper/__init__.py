"""Scraper stage: search queries -> image URLs -> raw image files with provenance."""

from scraper.browser import BrowserError, DriverChoice, close_driver, make_driver, resolve_driver
from scraper.config import ScrapeConfig
from scraper.engine import BrowserEngine, make_engine
from scraper.fetch import Downloader
from scraper.pipeline import Counts, QueryResult, ScrapeResult, download_candidates, scrape, search_query
from scraper.records import Candidate, Fetched, SearchOutcome
from scraper.sources import LocalReader, folder_candidates, read_url_list
from scraper.store import Store

__all__ = [
    "BrowserEngine",
    "BrowserError",
    "Candidate",
    "Counts",
    "Downloader",
    "DriverChoice",
    "Fetched",
    "LocalReader",
    "QueryResult",
    "ScrapeConfig",
    "ScrapeResult",
    "SearchOutcome",
    "Store",
    "close_driver",
    "download_candidates",
    "folder_candidates",
    "make_driver",
    "make_engine",
    "read_url_list",
    "resolve_driver",
    "scrape",
    "search_query",
]
