"""Scraper stage: search queries -> image URLs -> raw image files with provenance."""

from scraper.browser import BrowserError, DriverChoice, close_driver, make_driver, resolve_driver

__all__ = ["BrowserError", "DriverChoice", "close_driver", "make_driver", "resolve_driver"]
