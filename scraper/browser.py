"""Headless Chromium through Selenium: find a browser and a driver, start a WebDriver that dies with this process."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import urllib3
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from core.environment import environment, variable
from scraper import reaper as R

log = logging.getLogger(__name__)

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
DRIVER_ENV, BROWSER_ENV = variable("chromedriver"), variable("chromium")
# Without the background-networking flags Chromium keeps trying to reach Google hosts at start-up.
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
)
MAX_SCRATCH_PATH = 50  # + "/org.chromium.Chromium.scoped_dir.XXXXXX/SingletonSocket" < 108 bytes (AF_UNIX)
INSTALL_HINT = (
    "install them with `apt-get install -y chromium chromium-driver` (Debian/Ubuntu), or set "
    f"{BROWSER_ENV}=/path/to/chrome and {DRIVER_ENV}=/path/to/chromedriver"
)


class BrowserError(RuntimeError):
    """No usable browser or driver; the message names the fix."""


@dataclass(frozen=True)
class DriverChoice:
    """Which chromedriver and browser binary will be used, and how they were found."""

    driver_path: str
    driver_source: str  # "setting", "PATH" or "webdriver-manager"
    browser_path: str | None


def find_browser(explicit: str | None = None) -> str | None:
    """The Chromium/Chrome binary: an explicit path, $SAKURA_CHROMIUM, or the first known name on PATH."""
    explicit = explicit or environment().chromium
    if explicit:
        if not Path(explicit).is_file():
            raise BrowserError(f"browser binary {explicit!r} does not exist; {INSTALL_HINT}")
        return explicit
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def resolve_driver(explicit: str | None = None, browser: str | None = None) -> DriverChoice:
    """Find chromedriver: explicit setting -> chromedriver on PATH -> webdriver-manager (needs the internet)."""
    browser_path = find_browser(browser)
    explicit = explicit or environment().chromedriver
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            raise BrowserError(f"chromedriver {explicit!r} (from the setting) is not an executable; {INSTALL_HINT}")
        return DriverChoice(explicit, "setting", browser_path)
    on_path = shutil.which("chromedriver")
    if on_path:
        return DriverChoice(on_path, "PATH", browser_path)
    try:
        from webdriver_manager.chrome import ChromeDriverManager
        from webdriver_manager.core.os_manager import ChromeType

        chrome_type = ChromeType.CHROMIUM if browser_path and "chromium" in browser_path else ChromeType.GOOGLE
        return DriverChoice(ChromeDriverManager(chrome_type=chrome_type).install(), "webdriver-manager", browser_path)
    except Exception as e:  # webdriver-manager raises plain Exceptions (e.g. offline); report them as one error
        raise BrowserError(
            f"no chromedriver: none set, none on PATH, and webdriver-manager failed ({e}); {INSTALL_HINT}"
        ) from e


def chrome_options(
    headless: bool = True,
    browser_path: str | None = None,
    user_data_dir: str | None = None,
    window_size: tuple[int, int] = (1366, 900),
    lang: str | None = None,
    extra_args: tuple[str, ...] = (),
) -> webdriver.ChromeOptions:
    """Chrome options for scraping and tests: headless by default, no background network traffic."""
    opts = webdriver.ChromeOptions()
    for arg in BASE_ARGS + extra_args:
        opts.add_argument(arg)
    if headless:
        opts.add_argument("--headless=new")
    opts.add_argument(f"--window-size={window_size[0]},{window_size[1]}")
    if lang:
        opts.add_argument(f"--lang={lang}")
    if user_data_dir:
        opts.add_argument(f"--user-data-dir={user_data_dir}")
    if browser_path:
        opts.binary_location = browser_path
    # The network layer reads the page's own responses from the performance log (scraper.network).
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    opts.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    return opts


def make_driver(
    headless: bool = True,
    driver_path: str | None = None,
    browser_path: str | None = None,
    lang: str | None = None,
    extra_args: tuple[str, ...] = (),
) -> webdriver.Chrome:
    """Start Chromium under Selenium with a fresh profile; log which driver was used and how it was found.

    chromedriver and Chromium run in their own process group, killed with this process even on kill -9
    (scraper.reaper); profiles left by dead runs are removed first.
    """
    choice = resolve_driver(driver_path, browser_path)
    if choice.browser_path is None:
        raise BrowserError(f"no Chromium or Chrome browser found on PATH; {INSTALL_HINT}")
    log.info("chromedriver %s (from %s), browser %s", choice.driver_path, choice.driver_source, choice.browser_path)
    R.remove_stale_profiles()
    profile = R.new_profile()
    opts = chrome_options(
        headless=headless,
        browser_path=choice.browser_path,
        user_data_dir=os.path.join(profile, "user-data"),
        lang=lang,
        extra_args=extra_args,
    )
    # Chromium's own temp files (org.chromium.Chromium.*) go with the profile, or, when its path is too long for
    # Chromium's socket (AF_UNIX), into a scratch folder of the same kind under a short root: removed with it.
    scratch = profile if len(profile) <= MAX_SCRATCH_PATH else _short_scratch()
    env = {**os.environ, "TMPDIR": scratch} if scratch else None
    service = Service(choice.driver_path, env=env, popen_kw=R.reaper().popen_kw(profile, scratch or profile))
    folders = tuple(dict.fromkeys(filter(None, (profile, scratch))))
    try:
        driver = webdriver.Chrome(service=service, options=opts)
    except BaseException:
        _end_group(service)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    driver.sakura_profile_dirs = folders  # removed by close_driver
    return driver


def _short_scratch() -> str | None:
    """A scratch folder under SHORT_ROOT, or None when that cannot be made (Chromium then uses the temp folder)."""
    try:
        return R.new_profile(R.SHORT_ROOT)
    except OSError:
        return None


def _end_group(service: Service) -> None:
    """Kill what is left of a driver's process group, then tell the reaper it is gone."""
    proc = getattr(service, "process", None)
    if proc is None:
        return
    if proc.poll() is None:  # the leader still runs, so the group id is still this driver's
        R.kill_group(proc.pid)
        proc.wait(timeout=10)
    R.reaper().forget(proc.pid)


def close_driver(driver: webdriver.Chrome) -> None:
    """Quit the browser (a crashed one too), kill anything left of its process group, remove its profile."""
    try:
        driver.quit()
    except (WebDriverException, urllib3.exceptions.HTTPError) as e:  # a crashed browser or driver cannot answer;
        # its processes are killed below
        log.info("browser did not quit cleanly (%s); killing its processes", type(e).__name__)
    finally:
        _end_group(driver.service)
        for folder in getattr(driver, "sakura_profile_dirs", ()):
            shutil.rmtree(folder, ignore_errors=True)


def alive(driver: webdriver.Chrome) -> bool:
    """True when the browser still answers."""
    try:
        driver.execute_script("return 1")
    except WebDriverException:
        return False
    return True


def has_display() -> bool:
    """True when a headed browser can open a window (an X or Wayland display, e.g. from Xvfb)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def find_all(scope, selector: str) -> list:
    """Elements matching a selector from the selector data: XPath when it starts with '//' or '(', else CSS.

    No match is an empty list; a browser failure raises (a crashed browser is an error, never "no results").
    """
    from selenium.webdriver.common.by import By

    by = By.XPATH if selector.startswith(("//", "(", "./")) else By.CSS_SELECTOR
    return scope.find_elements(by, selector)


def first_match(scope, selectors: tuple[str, ...]) -> list:
    """The elements of the first selector (in order) that matches anything."""
    for selector in selectors:
        found = find_all(scope, selector)
        if found:
            return found
    return []


def save_debug(driver: webdriver.Chrome, folder: Path, stem: str) -> tuple[str, ...]:
    """Save the page source and a screenshot as <folder>/<stem>.html and .png; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path, png_path = folder / f"{stem}.html", folder / f"{stem}.png"
    html_path.write_text(driver.page_source, encoding="utf-8")
    written = [str(html_path)]
    if driver.save_screenshot(str(png_path)):
        written.append(str(png_path))
    return tuple(written)
