"""The layers read from the live page: the tiles (their links, alt texts and ids), originals from the preview panel
after a click, and the thumbnails.

A click counts only when an image changed after it (a MutationObserver stamps every image whose src is set), so a
result shown under several thumbnails is read each time and a stale panel is never taken for a new result. The panel
image comes from the profile's selectors, else the largest image that changed outside the tiles; page URL and title
from the panel's selectors, else the nearest link and heading around that image.
"""

from __future__ import annotations

import time

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

from scraper.config import ScrapeConfig
from scraper.extract import MIN_KEY
from scraper.layers import Found, Tile
from scraper.loading import FIND_JS, POLL
from scraper.records import Candidate
from scraper.selectors import EngineProfile

PROVENANCE_WAIT_S = 0.5  # after the original appears, how long page URL and title may take to follow
MIN_FALLBACK_PX = 120 * 90  # the largest-image fallback ignores smaller images (icons, logos)

_OBSERVE_JS = """
if (!window.__sakuraObs) {
  const stamp = e => { e.__sakuraAt = performance.now(); };
  window.__sakuraObs = new MutationObserver(ms => {
    for (const m of ms) {
      if (m.type === 'attributes' && m.target.tagName === 'IMG') stamp(m.target);
      for (const n of m.addedNodes || []) {
        if (n.tagName === 'IMG') stamp(n);
        else if (n.querySelectorAll) n.querySelectorAll('img').forEach(stamp);
      }
    }
  });
  window.__sakuraObs.observe(document.documentElement,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['src', 'srcset']});
}
return performance.now();
"""

# Scroll a tile into view; true when its centre is not covered by another element.
_UNCOVER_JS = """
const t = arguments[0];
t.scrollIntoView({block: 'center'});
const r = t.getBoundingClientRect(), hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
return !!hit && (hit === t || t.contains(hit));
"""

_COMMON_JS = (
    FIND_JS
    + """
const [tileSels, markers] = [arguments[0], arguments[1]];
const visible = e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
const here = location.href.split('#')[0];
const external = h => /^https?:\\/\\//.test(h || '') && h.split('#')[0] !== here;
const original = u => /^https?:\\/\\//.test(u) && !markers.some(m => u.includes(m));
const cssTiles = tileSels.filter(s => !s.startsWith('//') && !s.startsWith('('));
const inTile = e => cssTiles.some(s => e.closest(s));
const holdsTile = e => cssTiles.some(s => e.querySelector(s));
const text = e => (e.innerText || e.textContent || '').trim();
"""
)

_PANEL_JS = (
    _COMMON_JS
    + """
const [imgSels, linkSels, titleSels, since] = [arguments[2], arguments[3], arguments[4], arguments[5]];
let img = window.__sakuraFind(imgSels).find(visible) || null;
if (!img) {
  let best = 0;
  for (const e of document.images) {
    if ((e.__sakuraAt || -1) <= since || !visible(e) || inTile(e)) continue;
    const r = e.getBoundingClientRect(), area = r.width * r.height;
    if (area > best && area >= arguments[6]) { best = area; img = e; }
  }
}
if (!img) return null;
const src = img.currentSrc || img.src || '';
let page = (window.__sakuraFind(linkSels).find(a => visible(a) && external(a.href)) || {}).href || null;
let title = null;
for (const e of window.__sakuraFind(titleSels)) { if (visible(e) && text(e)) { title = text(e); break; } }
for (let box = img, k = 0; box && k < 8 && (!page || !title) && !holdsTile(box); box = box.parentElement, k++) {
  if (!page) {
    const a = box.tagName === 'A' ? box : Array.from(box.querySelectorAll('a[href]')).find(
      a => visible(a) && external(a.href) && a.href !== src);
    if (a && external(a.href) && a.href !== src) page = a.href;
  }
  if (!title) {
    const h = box.querySelector('h1, h2, h3, [role=heading]');
    title = (h && text(h)) || null;
  }
}
return [(img.__sakuraAt || -1) > since, src, img.complete, original(src), page, title || img.alt || null];
"""
)

_TILES_JS = (
    _COMMON_JS
    + """
const CARD_LEVELS = 4;
const keyOk = k => typeof k === 'string' && k.length >= arguments[2] && !/^\\d+$/.test(k) && !k.startsWith('data:');
const out = [];
for (const tile of window.__sakuraFind(tileSels)) {
  const img = tile.tagName === 'IMG' ? tile : tile.querySelector('img');
  const http = u => /^https?:\\/\\//.test(u || '');
  const src = img && [img.currentSrc, img.src, img.dataset.src, img.dataset.iurl].find(http);
  let card = tile;  // the tile's card: its largest ancestor (a few levels up) that holds no other tile
  for (let up = 0; up < CARD_LEVELS && card.parentElement && card.parentElement !== document.body
       && window.__sakuraFind(tileSels, card.parentElement).length <= 1; up++) card = card.parentElement;
  const own = tile.closest('a[href]') || tile.querySelector('a[href]');
  const a = own && external(own.href) ? own : Array.from(card.querySelectorAll('a[href]')).find(e => external(e.href));
  const page = tile.dataset.lpage || (a ? a.href : null);
  const title = (img && img.alt) || tile.title || tile.getAttribute('aria-label') || (a && (a.title
    || a.getAttribute('aria-label'))) || text(tile) || null;
  const keys = new Set(), around = tile.closest('a[href]');
  for (const e of [tile, ...tile.querySelectorAll('*'), ...(around ? [around] : [])]) {
    for (const at of e.attributes) {
      if (at.name.startsWith('data-') || ['id', 'href', 'src'].includes(at.name)) keys.add(at.value);
    }
    if (typeof e.href === 'string') keys.add(e.href);
    if (e.tagName === 'IMG') keys.add(e.currentSrc);
  }
  out.push([src || null, page, title, Array.from(keys).filter(keyOk)]);
}
return out;
"""
)


def read_tiles(d, profile: EngineProfile) -> list[Tile]:
    """Every result tile of the page, in page order (the order `browser.first_match` gives for the same selectors)."""
    rows = d.execute_script(_TILES_JS, list(profile.thumbnails), list(profile.thumbnail_url_markers), MIN_KEY)
    return [Tile(src, page, title, tuple(keys)) for src, page, title, keys in rows]


class PreviewReader:
    """Clicks tiles one by one (in page order, from `next`), reading the original each click shows."""

    def __init__(self, d, profile: EngineProfile, cfg: ScrapeConfig, cap: int) -> None:
        self.d, self.profile, self.cfg, self.cap = d, profile, cfg, cap
        self.clicks = self.misses = 0
        self.clicked: set[int] = set()
        self._last: tuple[str, str | None] = ("", None)

    @property
    def capped(self) -> bool:
        return self.clicks >= self.cap

    @property
    def dead(self) -> bool:
        """Clicks in a row showed no original: this page's preview does not work."""
        return self.misses >= self.cfg.max_preview_misses

    def read(self, tiles: list, infos: list[Tile], todo: list[int], want: int, found: Found) -> None:
        """Click the tiles `todo` (indices, in order; each tile once per search) until `found` holds `want` originals,
        the cap or the misses; page URL and title the panel does not show come from the clicked tile."""
        for i in todo:
            if len(found) >= want or self.capped or self.dead:
                return
            if i in self.clicked:
                continue
            self.clicked.add(i)
            since = self.d.execute_script(_OBSERVE_JS)
            if not self._click(tiles[i]):
                continue
            self.clicks += 1
            got = self._wait_original(since, infos[i])
            self.misses = 0 if got else self.misses + 1
            if got:
                url, page, title = got
                found.add("preview", Candidate(url, page or infos[i].page, title or infos[i].title))

    def _click(self, tile) -> bool:
        """A real click where the tile can be clicked; a script click where something covers it (the preview panel,
        an overlay), which chromedriver would only report after retrying for a second."""
        try:
            if self.d.execute_script(_UNCOVER_JS, tile):
                try:
                    tile.click()
                    return True
                except StaleElementReferenceException:
                    return False
                except WebDriverException:  # not interactable after all: a script click still works
                    pass
            self.d.execute_script("arguments[0].click()", tile)
        except StaleElementReferenceException:
            return False
        return True

    def _panel(self, since: float):
        p = self.profile
        return self.d.execute_script(
            _PANEL_JS, list(p.thumbnails), list(p.thumbnail_url_markers), list(p.preview_imgs),
            list(p.preview_links), list(p.preview_titles), since, MIN_FALLBACK_PX,
        )  # fmt: skip

    def _wait_original(self, since: float, tile: Tile) -> tuple[str, str | None, str | None] | None:
        """The original the panel shows after the click, once its image is loaded (or failed to load: a hotlink
        block still leaves a URL worth fetching), with the panel's page URL and title."""
        deadline = time.monotonic() + self.cfg.preview_timeout
        seen = None
        while time.monotonic() < deadline:
            state = self._panel(since)
            if state is not None:
                changed, src, complete, original, page, title = state
                if changed and original:
                    seen = (src, page, title)
                    if complete:
                        break
            time.sleep(POLL)
        if seen is None:
            return None
        return self._with_provenance(since, *seen, tile)

    def _with_provenance(self, since: float, src: str, page: str | None, title: str | None, tile: Tile):
        """Give page URL and title a moment to follow the image, and to change when the result did; no moment when
        the tile names both (a page URL the panel has not changed yet is then the tile's)."""
        if tile.page and tile.title:
            page = None if self._stale(src, page) else page
            self._last = (src, page or tile.page)
            return src, page, title
        limit = time.monotonic() + PROVENANCE_WAIT_S
        while (page is None or title is None or self._stale(src, page)) and time.monotonic() < limit:
            time.sleep(POLL)
            state = self._panel(since)
            if state is not None and state[1] == src:
                page, title = state[4] or page, state[5] or title
        self._last = (src, page)
        return src, page, title

    def _stale(self, src: str, page: str | None) -> bool:
        """A new image under the previous result's page URL: the panel's link may not have caught up yet."""
        return src != self._last[0] and page is not None and page == self._last[1]


def thumbnail_candidates(tiles: list[Tile], limit: int) -> list[Candidate]:
    """Layer 3: the tiles' own thumbnail images (http(s) only), flagged, with the tile's link and caption."""
    found: dict[str, Candidate] = {}
    for t in tiles:
        if t.src and t.src not in found and len(found) < limit:
            found[t.src] = Candidate(url=t.src, page_url=t.page, title=t.title, rank=len(found), is_thumbnail=True)
    return list(found.values())
