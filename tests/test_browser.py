"""Tests for scraper.browser: finding Chromium and chromedriver, starting a real headless browser."""

from __future__ import annotations

import shutil

import pytest

from scraper.browser import BrowserError, close_driver, make_driver, resolve_driver
from tests.support.net import free_port


def test_resolves_system_chromedriver_from_path(monkeypatch):
    monkeypatch.delenv("SAKURA_CHROMEDRIVER", raising=False)
    choice = resolve_driver()
    assert choice.driver_source == "PATH"
    assert choice.driver_path == shutil.which("chromedriver")
    assert choice.browser_path is not None


def test_explicit_setting_wins(monkeypatch):
    path = shutil.which("chromedriver")
    monkeypatch.setenv("SAKURA_CHROMEDRIVER", path)
    assert resolve_driver().driver_source == "setting"


def test_bad_explicit_driver_is_a_clear_error(tmp_path):
    with pytest.raises(BrowserError, match="is not an executable.*apt-get install -y chromium chromium-driver"):
        resolve_driver(str(tmp_path / "nope"))


def test_no_driver_anywhere_names_the_fix(monkeypatch, tmp_path):
    """With no driver on PATH the webdriver-manager fallback is tried; offline, it fails with one clear error."""
    chromium = shutil.which("chromium")
    monkeypatch.delenv("SAKURA_CHROMEDRIVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    dead_proxy = f"http://127.0.0.1:{free_port()}"  # keeps webdriver-manager's request on loopback
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(var, dead_proxy)
    monkeypatch.setenv("WDM_LOCAL", "1")
    monkeypatch.setenv("WDM_LOG", "0")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BrowserError, match="no chromedriver: none set, none on PATH, and webdriver-manager failed"):
        resolve_driver(browser=chromium)


@pytest.mark.browser
def test_make_driver_starts_headless_chromium():
    driver = make_driver(headless=True)
    try:
        assert driver.execute_script("return navigator.webdriver") is True
        assert "Headless" in driver.execute_script("return navigator.userAgent")
    finally:
        close_driver(driver)
