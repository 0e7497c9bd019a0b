"""Run the real scraper (headless Chromium, downloads, manifest) on one generated page and judge what it collected."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from core.config import DatasetSpec
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.pipeline import scrape
from scraper.records import QueryResult
from scraper.report import shortfall
from tests.support.scraper_varied import PageSpec

SWEEP_SETTINGS = dict(
    scroll_pause=0.4, preview_timeout=2.5, page_timeout=20.0, search_timeout=90.0, workers=8,
    allow_private_networks=("127.0.0.1/32",), fallback_engine="none", backoff=0.05, retries=0,
)  # fmt: skip


@dataclass
class Judged:
    """One page's figures: originals offered (valid ones a perfect scraper would store) and those stored with the
    right page URL and title; thumbnails likewise for a thumbnails-only page; the result and its shortfall."""

    spec: PageSpec
    result: QueryResult
    offered: int
    collected: int
    thumbs_offered: int
    thumbs_collected: int
    wrong: list[str]
    shortfall: str | None

    def line(self) -> str:
        s = self.spec
        return (f"{s.name}: {s.engine} {s.data} esc={s.escape} wire={s.wire} holder={s.holder} meta={s.meta} "
                f"panel_prov={s.panel_provenance} {s.loading} n={s.n} first={s.first} asked={s.asked} "
                f"window={s.window} tile={s.tile} consent={s.consent} -> {self.collected}/{self.offered} originals"
                f" {self.thumbs_collected}/{self.thumbs_offered} thumbs; stop={self.result.stop} "
                f"layer={self.result.layer} {self.result.layer_counts}; shortfall: {self.shortfall}")  # fmt: skip


def run_page(driver, base_url: str, spec: PageSpec, data_root: Path, **settings) -> Judged:
    """Scrape `spec`'s page with the real pipeline in `driver` (its window set to the spec's), then compare the
    manifest with what the page offered."""
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.set_window_size(*spec.window)
    cfg = ScrapeConfig(
        data_root=data_root, engine=spec.engine, google_url=base_url, bing_url=base_url,
        per_query_limit=spec.asked, **{**SWEEP_SETTINGS, **settings},
    )  # fmt: skip
    ds = DatasetSpec(name="sweep", domains={"A": {"queries": [{"q": spec.name, "hl": "en"}]}, "B": {"queries": ["b"]}})
    result = scrape(cfg, ds, domains=["A"], engine=make_engine(cfg, driver=driver))
    (q,) = result.queries
    with sqlite3.connect(result.manifest) as db:
        rows = db.execute("SELECT url, page_url, title, status, is_thumbnail FROM images").fetchall()
    ok = {r[0]: r for r in rows if r[3] == "ok"}
    wrong = []
    collected = 0
    offered = [j for j in spec.offered() if j not in spec.broken]
    for j in offered:
        row = ok.get(base_url + spec.image_path(j))
        if row is None:
            continue
        if (row[1], row[2], row[4]) == (base_url + spec.page_path(j), spec.title(j), 0):
            collected += 1
        else:
            wrong.append(f"{j}: {row[1:3]}")
    thumbs_offered = min(spec.asked, spec.n) if spec.data == "thumbnails" else 0
    thumbs_collected = sum(
        1 for i in range(spec.n)
        if (r := ok.get(base_url + spec.thumb_path(i))) and r[4] == 1
        and (r[1], r[2]) == (base_url + spec.page_path(spec.origins[i]), spec.title(spec.origins[i]))
    )  # fmt: skip
    return Judged(spec, q, len(offered), collected, thumbs_offered, thumbs_collected, wrong, shortfall(q))
