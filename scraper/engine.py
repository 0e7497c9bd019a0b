"""A search engine driven in a real browser: consent, block detection, loading, four extraction layers, retries."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote_plus

from selenium.common.exceptions import TimeoutException, WebDriverException

from core.config import Query
from scraper import browser
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.extract import Extracted
from scraper.layers import Found, layer_text
from scraper.loading import POLL, Loader, watch_network
from scraper.network import NetworkReader
from scraper.preview import PreviewReader, read_tiles, thumbnail_candidates
from scraper.records import SearchOutcome
from scraper.selectors import EngineProfile

log = logging.getLogger(__name__)
EMPTY = R.EMPTY
ERROR = R.SEARCH_ERROR
Layer1 = Callable[[str, tuple[str, ...]], Extracted]


class BrowserEngine:
    """Searches one query at a time in one browser (started on first use, restarted when it crashes)."""

    def __init__(
        self,
        cfg: ScrapeConfig,
        profile: EngineProfile,
        layer1: Layer1,
        driver=None,
        debug_dir: Path | None = None,
    ) -> None:
        self.cfg, self.profile, self.layer1 = cfg, profile, layer1
        self.base_url = cfg.engine_url(profile.name).rstrip("/")
        self.debug_dir = debug_dir
        self._driver, self._owns_driver, self._cookie_set = driver, driver is None, False

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def current_driver(self):
        """The WebDriver in use now, or None before the first search (another engine may share it)."""
        return self._driver

    def close(self) -> None:
        """Quit the browser if this engine started it."""
        if self._driver is not None and self._owns_driver:
            browser.close_driver(self._driver)
        self._driver = None

    def driver(self):
        """The WebDriver, started on first use (headless unless cfg.headed)."""
        if self._driver is None:
            if self.cfg.headed and not browser.has_display():
                raise browser.BrowserError("--headed needs a display: run under Xvfb, e.g. `xvfb-run -a sakura scrape`")
            self._driver = browser.make_driver(
                headless=not self.cfg.headed, driver_path=self.cfg.driver_path, browser_path=self.cfg.browser_path
            )
            self._owns_driver, self._cookie_set = True, False
        self._driver.set_page_load_timeout(self.cfg.page_timeout)
        return self._driver

    def search_url(self, query: Query) -> str:
        return self.base_url + self.profile.search_path.format(q=quote_plus(query.text), hl=quote_plus(query.hl))

    def search(self, query: Query, limit: int) -> SearchOutcome:
        """Open the result page for `query`, load up to `limit` results and extract them layer by layer.

        A browser failure (crash, lost session, page-load timeout) gets a fresh browser and another try, up to
        `search_retries` times; after that it is an `error` outcome saying so, never an empty result.
        """
        for attempt in range(self.cfg.search_retries + 1):
            try:
                return self._search_once(query, limit)
            except WebDriverException as e:
                first_line = (e.msg or str(e) or type(e).__name__).splitlines()[0][:300]
                what = f"browser error: {type(e).__name__}: {first_line}"
                if attempt == self.cfg.search_retries:
                    stop = R.STOP_TIMEOUT if isinstance(e, TimeoutException) else R.STOP_ERROR
                    tries = f" (after {attempt + 1} tries)" if attempt else ""
                    return self._outcome((), ERROR, what + tries, limit, stop)
                log.info("%s %r: %s; restarting the browser and searching again", self.name, query.text, what)
                self._recover()
        raise AssertionError("unreachable")

    def _recover(self) -> None:
        """After a browser failure: keep a browser that still answers, else start a fresh one on next use."""
        if self._driver is not None and browser.alive(self._driver):
            return
        if self._driver is not None and self._owns_driver:
            browser.close_driver(self._driver)
        self._driver = None  # a dead driver handed in by the caller is replaced by one of our own

    def _outcome(self, cands, status: str, message: str, asked: int, stop: str, layer: str = "", files=()):
        return SearchOutcome(tuple(cands), status, message, layer, tuple(files), asked, stop, self.name)

    def _search_once(self, query: Query, limit: int) -> SearchOutcome:
        d = self.driver()
        deadline = time.monotonic() + self.cfg.search_timeout
        watch_network(d)
        self._set_consent_cookie(d)
        net = NetworkReader(d)
        net.forget()  # responses of earlier pages are not this search's
        failed = self._open(d, self.search_url(query))
        if failed:
            return self._give_up(d, query, ERROR, f"could not load {self.search_url(query)} ({failed})", limit)
        if not self._pass_consent(d):
            return self._give_up(d, query, ERROR, "could not get past the consent page", limit)
        if self._blocked(d):
            other = "bing" if self.name == "google" else "google"
            msg = (
                f"{self.name} answered with its unusual-traffic page ({d.current_url[:120]}); the query was "
                f"stopped, no CAPTCHA is attempted. Wait a while, try --headed (under Xvfb), or --engine {other}."
            )
            return self._outcome((), R.BLOCKED, msg, limit, R.STOP_BLOCKED)
        watch_network(d)
        return self._extract(d, net, query, limit, deadline)

    def _set_consent_cookie(self, d) -> None:
        if self._cookie_set or not (self.cfg.consent_cookie and self.profile.consent_cookie):
            return
        if self._open(d, self.base_url + "/robots.txt"):  # any page of the host, so the cookie belongs to it
            return  # the search itself will report that the host cannot be reached
        name, value = self.profile.consent_cookie
        d.add_cookie({"name": name, "value": value, "path": "/"})
        self._cookie_set = True

    @staticmethod
    def _open(d, url: str) -> str | None:
        """Load a page; None when it loaded, else why not (net::ERR_...). A browser failure raises."""
        try:
            d.get(url)
        except WebDriverException as e:
            if "net::ERR_" not in (e.msg or ""):
                raise
            return (e.msg or "").split("net::", 1)[1].split()[0]
        if str(d.execute_script("return location.href")).startswith("chrome-error://"):
            return "no connection?"
        return None

    def _on_consent_page(self, d) -> bool:
        return any(m in d.current_url for m in self.profile.consent_url_markers)

    def _pass_consent(self, d) -> bool:
        """Click the first visible consent button (id/attribute selectors, never text); False if still stuck."""
        buttons = [b for b in browser.first_match(d, self.profile.consent_buttons) if b.is_displayed()]
        if not buttons:
            return not self._on_consent_page(d)
        was_consent_page = self._on_consent_page(d)
        try:
            buttons[0].click()
        except WebDriverException:
            d.execute_script("arguments[0].click()", buttons[0])
        deadline = time.monotonic() + self.cfg.page_timeout
        while was_consent_page and self._on_consent_page(d) and time.monotonic() < deadline:
            time.sleep(POLL)
        return not self._on_consent_page(d)

    def _blocked(self, d) -> bool:
        if any(m in d.current_url for m in self.profile.blocked_url_markers):
            return True
        return bool(browser.first_match(d, self.profile.blocked_selectors))

    def _extract(self, d, net: NetworkReader, query: Query, limit: int, deadline: float) -> SearchOutcome:
        """Load and read in rounds, layer by layer per tile: the page's data (`json`) and the responses the page
        fetched (`network`) after every loading step, then a click (`preview`) on each tile whose original no layer
        has yet; more loading while originals are missing; thumbnails only when no original was found at all."""
        loader = Loader(d, self.profile, self.cfg, deadline)
        preview = PreviewReader(d, self.profile, self.cfg, self.cfg.preview_clicks(limit))
        found = Found()
        target, stop = limit, R.STOP_ASKED

        def available() -> int:  # after every loading step: bodies are read before Chromium can evict them
            self._read(d, found, net)
            return max(len(browser.first_match(d, self.profile.thumbnails)), len(found))

        while True:
            loaded = loader.load(target, available)
            self._read(d, found, net)
            tiles, infos = browser.first_match(d, self.profile.thumbnails), read_tiles(d, self.profile)
            tiles, infos = tiles[: len(infos)], infos[: len(tiles)]  # tiles come after tiles: the same first ones
            covered = found.cover(infos)
            if len(found) < limit and preview.cap > 0 and not preview.dead:
                preview.read(tiles, infos, [i for i, c in enumerate(covered) if not c], limit, found)
                found.cover(infos)
            if len(found) >= limit:
                break
            if preview.capped:
                stop = R.STOP_PREVIEW_CAP
                break
            if loaded != R.STOP_ASKED:
                stop = loaded
                break
            if not len(found) and (preview.dead or preview.cap == 0) and len(tiles) >= limit:
                break  # no layer finds originals here; enough tiles for the thumbnail layer
            target = max(target, available()) + (limit - len(found))
        if found.lacking(limit) and len(infos) < len(found):  # the data ran ahead of the tiles that name its pages
            if loader.wait_for_tiles(len(found)) > len(infos):
                found.cover(read_tiles(d, self.profile))
        cands, counts = found.candidates(limit), found.counts(limit)
        if not cands and self.cfg.thumbnail_fallback:
            cands = thumbnail_candidates(read_tiles(d, self.profile), limit)
            counts = (("thumbnails", len(cands)),) if cands else ()
        if not cands:
            return self._give_up(d, query, EMPTY, "no results found by any extraction layer", limit, R.STOP_NO_RESULTS)
        layer = "+".join(name for name, _ in counts)
        msg = f"{len(cands)} candidates ({layer_text(counts)}); {loader.attempts} loading attempts"
        if loader.worked:
            msg += f" (more results came by: {', '.join(loader.worked)})"
        if preview.clicks:
            msg += f"; {preview.clicks} preview clicks"
        msg += self._network_note(net)
        stop = R.STOP_ASKED if len(cands) >= limit else stop
        return replace(self._outcome(cands, R.OK, msg, limit, stop, layer), layer_counts=counts)

    def _read(self, d, found: Found, net: NetworkReader) -> None:
        """The `json` layer (the page as it is now) and the `network` layer (responses finished since last time)."""
        found.add_extracted("json", self._layer1(d))
        for _url, body in net.bodies():
            found.add_extracted("network", self.layer1(body, self.profile.thumbnail_url_markers))

    @staticmethod
    def _network_note(net: NetworkReader) -> str:
        if not net.available:
            return f"; network layer off: {net.why_not}"
        return f"; {net.gone} responses were gone before they could be read" if net.gone else ""

    def _layer1(self, d) -> Extracted:
        return self.layer1(d.page_source, self.profile.thumbnail_url_markers)

    def _give_up(self, d, query: Query, status: str, message: str, asked: int, stop: str = R.STOP_ERROR):
        """End a query that found nothing: save page source and screenshot in the debug folder and say where."""
        files: tuple[str, ...] = ()
        if self.debug_dir is not None:
            slug = re.sub(r"[^\w-]+", "_", query.text)[:40] + "-" + hashlib.sha1(query.text.encode()).hexdigest()[:6]
            try:
                files = browser.save_debug(d, self.debug_dir, f"{self.name}-{slug}")
            except (WebDriverException, OSError) as e:
                message += f" (could not save debug files: {e})"
        if files:
            message += f"; page source and screenshot saved to {Path(files[0]).parent}"
        return self._outcome((), status, message, asked, stop, files=files)


def make_engine(
    cfg: ScrapeConfig, name: str | None = None, driver=None, debug_dir: Path | None = None
) -> BrowserEngine:
    """The Google or Bing engine (cfg.engine unless `name` is given), optionally on an existing WebDriver."""
    from scraper.extract import bing_extract, google_extract
    from scraper.selectors import BING, GOOGLE

    name = name or cfg.engine
    profile, layer1 = (BING, bing_extract) if name == "bing" else (GOOGLE, google_extract)
    return BrowserEngine(cfg, profile, layer1, driver=driver, debug_dir=debug_dir)
