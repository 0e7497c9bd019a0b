"""A real headless Chromium WebDriver for tests (system chromedriver, fresh profile)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from selenium.webdriver.chrome.webdriver import WebDriver

from scraper.browser import close_driver, make_driver


@contextmanager
def headless_chrome() -> Iterator[WebDriver]:
    """A headless Chromium that is quit (and its profile removed) on exit."""
    driver = make_driver(headless=True)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        close_driver(driver)
