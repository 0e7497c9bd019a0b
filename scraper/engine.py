"""A search engine driven in a real browser: consent, block detection, scrolling and three extraction layers."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus

from selenium.common.exceptions import WebDriverException

from core.config import Query
from scraper import browser
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.records import Candidate, SearchOutcome
from scraper.selectors import EngineProfile

log = logging.getLogger(__name__)
EMPTY = "empty"
ERROR = "error"
POLL = 0.1
MAX_PREVIEW_MISSES = 3  # clicks in a row that show no original: the preview layer does not work on this page
Layer1 = Callable[[str, tuple[str, ...]], list[Candidate]]

_PREVIEW_JS = """
const img = arguments[0];
const r = img.getBoundingClientRect();
return [img.currentSrc || img.src || '', img.complete, img.naturalWidth, r.width > 0 && r.height > 0];
"""


class BrowserEngine:
    """Searches one query at a time in one browser (started on first use) and returns candidates."""

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
            self._owns_driver = True
        self._driver.set_page_load_timeout(self.cfg.page_timeout)
        return self._driver

    def search_url(self, query: Query) -> str:
        return self.base_url + self.profile.search_path.format(q=quote_plus(query.text), hl=quote_plus(query.hl))

    def search(self, query: Query, limit: int) -> SearchOutcome:
        """Open the result page for `query`, load up to `limit` results and extract them layer by layer."""
        d = self.driver()
        try:
            self._set_consent_cookie(d)
            d.get(self.search_url(query))
            if self._load_failed(d):
                return self._give_up(d, query, ERROR, f"could not load {self.search_url(query)} (no connection?)")
            if not self._pass_consent(d):
                return self._give_up(d, query, ERROR, "could not get past the consent page")
            if self._blocked(d):
                msg = (
                    f"{self.name} answered with its unusual-traffic page ({d.current_url[:120]}); the query was "
                    "stopped, no CAPTCHA is attempted. Wait a while, try --headed (under Xvfb), or --engine "
                    f"{'bing' if self.name == 'google' else 'google'}."
                )
                log.warning(msg)
                return SearchOutcome((), R.BLOCKED, msg)
            self._load_results(d, limit)
            return self._extract(d, query, limit)
        except WebDriverException as e:
            first_line = (e.msg or str(e)).splitlines()[0][:300]
            msg = f"browser error: {type(e).__name__}: {first_line}"
            if "net::ERR_" in first_line:
                msg = f"could not load {self.search_url(query)} ({first_line.split('net::')[1]})"
            return self._give_up(d, query, ERROR, msg)

    def _set_consent_cookie(self, d) -> None:
        if self._cookie_set or not (self.cfg.consent_cookie and self.profile.consent_cookie):
            return
        d.get(self.base_url + "/robots.txt")  # any page of the host, so the cookie belongs to it
        if self._load_failed(d):
            return  # the search itself will report that the host cannot be reached
        name, value = self.profile.consent_cookie
        d.add_cookie({"name": name, "value": value, "path": "/"})
        self._cookie_set = True

    @staticmethod
    def _load_failed(d) -> bool:
        return str(d.execute_script("return location.href")).startswith("chrome-error://")

    def _on_consent_page(self, d) -> bool:
        return any(m in d.current_url for m in self.profile.consent_url_markers)

    def _pass_consent(self, d) -> bool:
        """Click the first consent button there is (id/attribute selectors, never text); False if still stuck."""
        buttons = browser.first_match(d, self.profile.consent_buttons)
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

    def _progress_signature(self, d) -> tuple[int, int]:
        tiles = len(browser.first_match(d, self.profile.thumbnails))
        return tiles, int(d.execute_script("return document.body ? document.body.scrollHeight : 0") or 0)

    def _load_results(self, d, limit: int) -> None:
        """Scroll and press "show more" until `limit` tiles or originals are there or nothing grows any more."""
        idle = 0
        while idle < self.cfg.max_idle_scrolls:
            before = self._progress_signature(d)
            if before[0] >= limit or len(self.layer1(d.page_source, self.profile.thumbnail_url_markers)) >= limit:
                return
            d.execute_script("window.scrollTo(0, document.body.scrollHeight)")
            for button in browser.first_match(d, self.profile.show_more):
                if button.is_displayed():
                    d.execute_script("arguments[0].click()", button)
                    break
            deadline = time.monotonic() + self.cfg.scroll_pause
            grew = False
            while time.monotonic() < deadline and not grew:
                time.sleep(POLL)
                grew = self._progress_signature(d) != before
            idle = 0 if grew else idle + 1

    def _extract(self, d, query: Query, limit: int) -> SearchOutcome:
        cands = self.layer1(d.page_source, self.profile.thumbnail_url_markers)[:limit]
        layer = "json" if cands else ""
        if len(cands) < limit and self.cfg.max_preview_clicks > 0:
            more = self._preview_layer(d, limit, {c.url for c in cands})
            if more:
                layer = f"{layer}+preview" if layer else "preview"
                cands += [Candidate(c.url, c.page_url, c.title, len(cands) + i) for i, c in enumerate(more)]
        if not cands and self.cfg.thumbnail_fallback:
            cands = self._thumbnail_layer(d, limit)
            layer = "thumbnails" if cands else ""
        if not cands:
            return self._give_up(d, query, EMPTY, "no results found by any extraction layer")
        msg = f"{len(cands)} candidates ({layer})" + ("; thumbnails only, flagged" if layer == "thumbnails" else "")
        return SearchOutcome(tuple(cands), R.OK, msg, layer)

    def _preview_layer(self, d, limit: int, known: set[str]) -> list[Candidate]:
        """Layer 2: click tiles and read the preview image once the original has replaced the thumbnail."""
        found: list[Candidate] = []
        last, misses = "", 0
        # Tiles are in the same order as the embedded results: start after those layer 1 already has.
        tiles = browser.first_match(d, self.profile.thumbnails)[len(known) :][: self.cfg.max_preview_clicks]
        for tile in tiles:
            if len(known) + len(found) >= limit or misses >= MAX_PREVIEW_MISSES:
                break
            try:
                d.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
                tile.click()
            except WebDriverException:
                try:
                    d.execute_script("arguments[0].click()", tile)
                except WebDriverException:
                    continue
            url = self._wait_original(d, last)
            misses = 0 if url else misses + 1
            last = url or last
            if url and url not in known and url not in {c.url for c in found}:
                page_url, title = self._preview_provenance(d)
                found.append(Candidate(url=url, page_url=page_url, title=title))
        return found

    def _wait_original(self, d, previous: str) -> str | None:
        deadline = time.monotonic() + self.cfg.preview_timeout
        markers = self.profile.thumbnail_url_markers
        seen = None  # an original URL whose image has not loaded in the browser (hotlink blocks): still a URL
        while time.monotonic() < deadline:
            for selector in self.profile.preview_imgs:
                for img in browser.find_all(d, selector):
                    try:
                        src, complete, natural_w, visible = d.execute_script(_PREVIEW_JS, img)
                    except WebDriverException:
                        continue
                    original = src.startswith(("http://", "https://")) and not any(m in src for m in markers)
                    if visible and original and src != previous:
                        if complete and natural_w > 0:
                            return src
                        seen = src
            time.sleep(POLL)
        return seen

    def _preview_provenance(self, d) -> tuple[str | None, str | None]:
        page_url = title = None
        for link in browser.first_match(d, self.profile.preview_links):
            href = link.get_attribute("href") or ""
            if link.is_displayed() and href.startswith(("http://", "https://")):
                page_url = href
                break
        for el in browser.first_match(d, self.profile.preview_titles):
            if el.is_displayed() and el.text.strip():
                title = el.text.strip()
                break
        return page_url, title

    def _thumbnail_layer(self, d, limit: int) -> list[Candidate]:
        """Layer 3: the tiles' own thumbnail images (http(s) only), flagged as thumbnails."""
        urls: list[str] = []
        for img in browser.first_match(d, self.profile.thumbnail_imgs):
            for attr in ("src", "data-src"):
                src = img.get_attribute(attr) or ""
                if src.startswith(("http://", "https://")) and src not in urls:
                    urls.append(src)
                    break
        return [Candidate(url=u, rank=i, is_thumbnail=True) for i, u in enumerate(urls[:limit])]

    def _give_up(self, d, query: Query, status: str, message: str) -> SearchOutcome:
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
        log.warning("%s %r: %s", self.name, query.text, message)
        return SearchOutcome((), status, message, "", files)


def make_engine(
    cfg: ScrapeConfig, name: str | None = None, driver=None, debug_dir: Path | None = None
) -> BrowserEngine:
    """The Google or Bing engine (cfg.engine unless `name` is given), optionally on an existing WebDriver."""
    from scraper.extract import bing_candidates, google_candidates
    from scraper.selectors import BING, GOOGLE

    name = name or cfg.engine
    profile, layer1 = (BING, bing_candidates) if name == "bing" else (GOOGLE, google_candidates)
    return BrowserEngine(cfg, profile, layer1, driver=driver, debug_dir=debug_dir)
