"""Loading more results the ways a person's browser does, until enough are there or nothing new comes.

One event is not enough: when the first batch fits the window, `window.scrollTo` moves nothing and no scroll event
fires; a page may load on an IntersectionObserver sentinel, on wheel events, on the End key or behind a button.
`Loader.load` tries these in turn, waits for the page's requests to settle after each, keeps to what worked, and
stops when the target count is there or the search's time is up. When attempts bring nothing new, the results have
ended only if the page says so (an end message) or no more-results control is on screen after `load_attempts`
attempts in a row; a control still on screen then is its own outcome (it did not respond). The control is found by
meaning (role, label in the page's language, place below the results), the engine's known classes only a hint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from scraper import browser
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.selectors import END_OF_RESULTS_WORDS, MORE_RESULTS_WORDS, EngineProfile

POLL = 0.1
SETTLE_S = 0.5  # after the last request ends, this long without news before an attempt counts as fruitless
BUSY_WAIT_S = 10.0  # at most this much longer than scroll_pause while requests run (pages that poll never settle)
AFTER_GROWTH_S = 2.0  # after new results appear, at most this long for the batch's requests to finish
DRAW_WAIT_S = 2.0  # data read ahead of the page's tiles: this long without a new tile before they count as all drawn
NUDGES = ("scroll", "show_more", "end_key", "last_tile", "wheel", "resize")

# Counts the page's fetch/XHR requests in flight, so waiting can last as long as the page is still loading.
NETWORK_JS = """
(() => {
  if (window.__sakuraNet) return;
  const n = window.__sakuraNet = {busy: 0, last: Date.now()};
  const done = () => { n.busy = Math.max(0, n.busy - 1); n.last = Date.now(); };
  if (window.fetch) {
    const f = window.fetch;
    window.fetch = function (...a) { n.busy++; n.last = Date.now(); return f.apply(this, a).finally(done); };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...a) {
    n.busy++; n.last = Date.now(); this.addEventListener('loadend', done); return send.apply(this, a);
  };
})();
"""

# Elements of the first selector that matches anything; XPath when it starts with '//' or '('.
FIND_JS = """
window.__sakuraFind = window.__sakuraFind || function (sels, root) {
  root = root || document;
  for (const s of sels) {
    let found = [];
    if (s.startsWith('//') || s.startsWith('(')) {
      const r = document.evaluate(s, root, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      for (let i = 0; i < r.snapshotLength; i++) found.push(r.snapshotItem(i));
    } else {
      found = Array.from(root.querySelectorAll(s));
    }
    if (found.length) return found;
  }
  return [];
};
"""

_SIGNATURE_JS = (
    FIND_JS
    + """
const n = window.__sakuraNet || {busy: 0, last: 0};
return [window.__sakuraFind(arguments[0]).length, document.documentElement.scrollHeight,
        n.busy, Date.now() - n.last];
"""
)

_VISIBLE_JS = """
window.__sakuraVisible = window.__sakuraVisible || function (el) {
  const r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;
  for (let e = el; e; e = e.parentElement) {
    const s = getComputedStyle(e);
    if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
  }
  return true;
};
"""

# The more-results control: a visible element of the engine's known classes, else a button (button, input button,
# role=button, a link that stays on the page) below the last tile whose label holds one of the words.
_CONTROL_JS = (
    FIND_JS
    + _VISIBLE_JS
    + """
const [hints, words, tileSels] = arguments, seen = window.__sakuraVisible;
const hinted = window.__sakuraFind(hints).filter(seen);
if (hinted.length) return hinted[0];
const label = el => [el.innerText, el.value, el.getAttribute('aria-label'), el.title].filter(Boolean).join(' ')
  .toLowerCase().replace(/\\s+/g, ' ').trim();
const means = el => { const t = label(el); return t.length <= 80 && words.some(w => t.includes(w)); };
const stays = el => el.tagName !== 'A' || el.getAttribute('role') === 'button' ||
  /^(#|javascript:|$)/.test((el.getAttribute('href') || '').trim());
const tiles = window.__sakuraFind(tileSels);
const lastTop = tiles.length ? tiles[tiles.length - 1].getBoundingClientRect().top : -Infinity;
const below = el => el.getBoundingClientRect().bottom >= lastTop;
const sends = el => el.form && (el.type || '').toLowerCase() === 'submit';  // would leave the page
const roles = 'button, input[type=button], [role=button], a';
for (const el of document.querySelectorAll(roles)) {
  if (stays(el) && !sends(el) && means(el) && below(el) && seen(el)) return el;
}
return null;
"""
)

# Whether a visible text of the page says the results have ended.
_END_JS = (
    _VISIBLE_JS
    + """
const words = arguments[0], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walk.nextNode(); n; n = walk.nextNode()) {
  const t = n.nodeValue.toLowerCase().replace(/\\s+/g, ' ').trim();
  if (t && t.length <= 200 && words.some(w => t.includes(w)) && n.parentElement &&
      !['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(n.parentElement.tagName) &&
      window.__sakuraVisible(n.parentElement)) return true;
}
return false;
"""
)

_SCROLL_JS = """
window.scrollTo(0, document.documentElement.scrollHeight);
for (const t of [window, document]) t.dispatchEvent(new Event('scroll'));
"""


def watch_network(d) -> None:
    """Count the page's requests in every document this browser opens from now on (and in the current one)."""
    if not getattr(d, "sakura_network_watched", False):
        try:
            d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NETWORK_JS})
        except (AttributeError, WebDriverException):  # not Chromium's CDP: count from the current page on
            pass
        d.sakura_network_watched = True
    d.execute_script(NETWORK_JS)


@dataclass
class _Signature:
    tiles: int
    height: int
    busy: int
    quiet_ms: int

    def grew_from(self, other: _Signature) -> bool:
        return self.tiles > other.tiles or self.height > other.height


class Loader:
    """Loads more results on one page; `attempts` counts the tries, `worked` names the ways that brought results."""

    def __init__(self, d, profile: EngineProfile, cfg: ScrapeConfig, deadline: float) -> None:
        self.d, self.profile, self.cfg, self.deadline = d, profile, cfg, deadline
        self.attempts, self.worked, self._next = 0, [], 0

    def load(self, target: int, available: Callable[[], int]) -> str:
        """Load until `available()` reaches `target` (STOP_ASKED) or time is up (STOP_TIMEOUT). When nothing new
        comes: STOP_END once the page says the results ended, or after `load_attempts` fruitless attempts in a row with
        no more-results control on screen; STOP_CONTROL when such a control is still there then."""
        idle, have = 0, available()
        while have < target:
            if time.monotonic() >= self.deadline:
                return R.STOP_TIMEOUT
            if idle and self.says_end():
                return R.STOP_END
            if idle >= self.cfg.load_attempts:
                return R.STOP_END if self.control() is None else R.STOP_CONTROL
            before = self._signature()
            nudge = NUDGES[self._next % len(NUDGES)]
            if not self._nudge(nudge):  # nothing to do it with (no visible button, no tile): not an attempt
                self._next += 1
                continue
            self.attempts += 1
            grew = self._wait_for_growth(before)
            now = available()
            if grew or now > have:
                idle = 0
                if nudge not in self.worked:
                    self.worked.append(nudge)
            else:
                idle += 1
                self._next += 1  # what worked is tried first again; what did not, next time round
            have = now
        return R.STOP_ASKED

    def wait_for_tiles(self, want: int) -> int:
        """Wait for the page to draw `want` tiles: data read from its responses can run ahead of the tiles it draws
        from them (and only the tiles may name page and title). Returns as soon as `want` are there, or when no tile
        came for DRAW_WAIT_S with no request running, or at the deadline; the number of tiles drawn."""
        last, since = self._signature(), time.monotonic()
        while last.tiles < want and time.monotonic() < self.deadline:
            time.sleep(POLL)
            sig = self._signature()
            if sig.tiles > last.tiles or sig.busy:
                since = time.monotonic()
            elif time.monotonic() - since >= DRAW_WAIT_S:
                break
            last = sig
        return last.tiles

    def control(self):
        """The visible more-results control (a WebElement), or None."""
        return self.d.execute_script(
            _CONTROL_JS, list(self.profile.show_more), list(MORE_RESULTS_WORDS), list(self.profile.thumbnails)
        )

    def says_end(self) -> bool:
        """Whether the page shows a message that the results have ended."""
        return bool(self.d.execute_script(_END_JS, list(END_OF_RESULTS_WORDS)))

    def _signature(self) -> _Signature:
        return _Signature(*self.d.execute_script(_SIGNATURE_JS, list(self.profile.thumbnails)))

    def _wait_for_growth(self, before: _Signature) -> bool:
        """Wait for more tiles or a taller page: at least scroll_pause, longer while the page's requests run."""
        start = time.monotonic()
        limit = min(self.deadline, start + min(self.cfg.page_timeout, self.cfg.scroll_pause + BUSY_WAIT_S))
        while True:
            time.sleep(POLL)
            sig = self._signature()
            if sig.grew_from(before):
                self._settle()
                return True
            waited = time.monotonic() - start
            settled = sig.busy == 0 and sig.quiet_ms >= 1000 * min(SETTLE_S, self.cfg.scroll_pause)
            if (waited >= self.cfg.scroll_pause and settled) or time.monotonic() >= limit:
                return False

    def _settle(self) -> None:
        """After growth: let the batch finish (requests done) so the next count sees all of it."""
        limit = min(self.deadline, time.monotonic() + AFTER_GROWTH_S)
        while time.monotonic() < limit:
            sig = self._signature()
            if sig.busy == 0 and sig.quiet_ms >= 1000 * POLL * 2:
                return
            time.sleep(POLL)

    def _nudge(self, how: str) -> bool:
        """One way of asking the page for more; False when there was nothing to do it with (no tile, no button)."""
        d = self.d
        if how == "scroll":
            d.execute_script(_SCROLL_JS)
        elif how == "end_key":  # to the page, not to a focused search box
            d.execute_script("document.activeElement && document.activeElement.blur && document.activeElement.blur()")
            ActionChains(d).send_keys(Keys.END).perform()
        elif how == "last_tile":
            tiles = browser.first_match(d, self.profile.thumbnails)
            if not tiles:
                return False
            d.execute_script("arguments[0].scrollIntoView({block: 'end'})", tiles[-1])
            ActionChains(d).scroll_to_element(tiles[-1]).scroll_by_amount(0, 200).perform()
        elif how == "show_more":
            control = self.control()
            if control is None:
                return False
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", control)
            try:
                control.click()
            except WebDriverException:
                d.execute_script("arguments[0].click()", control)
        elif how == "wheel":  # twice: the second one turns the wheel at the very bottom
            ActionChains(d).scroll_by_amount(0, 100_000).pause(POLL).scroll_by_amount(0, 100_000).perform()
        elif how == "resize":
            self._resize()
        return True

    def _resize(self) -> None:
        """Shrink the window and restore it: elements watched by an IntersectionObserver leave the view and come back,
        and a page that fits the window gets a scrollable moment."""
        d = self.d
        size = d.get_window_size()
        d.set_window_size(size["width"], max(200, size["height"] // 4))
        d.execute_script("window.scrollTo(0, 0)")
        time.sleep(POLL)
        d.execute_script(_SCROLL_JS)
        d.set_window_size(size["width"], size["height"])
        d.execute_script("window.scrollBy(0, -window.innerHeight)")  # and back: scroll listeners that want a move
        time.sleep(POLL)
        d.execute_script(_SCROLL_JS)
