"""Tests for sakura.demo: the offline image source behind `make demo`."""

from __future__ import annotations

import io
import sqlite3

import pytest
import requests
from PIL import Image

from core.config import load_domains
from core.paths import PROJECT_ROOT
from sakura.demo import RESULTS_PER_QUERY, start_demo_source
from tests.support.scraper_extract import google_candidates


@pytest.fixture(scope="module")
def demo():
    source = start_demo_source(load_domains(PROJECT_ROOT / "datasets" / "domains.toml"))
    yield source
    source.close()


def test_result_page_embeds_original_urls_with_provenance(demo):
    page = requests.get(f"{demo.url}/search", params={"q": "벚꽃길", "udm": 2}, timeout=10).text
    cands = google_candidates(page)
    assert len(cands) == RESULTS_PER_QUERY
    assert all(c.url.startswith(f"{demo.url}/img/B/") for c in cands)
    assert all(c.page_url.startswith(f"{demo.url}/page/") and c.title.startswith("Street B") for c in cands)


def test_images_are_the_domain_scenes_with_planted_faults(demo):
    page = requests.get(f"{demo.url}/search", params={"q": "가로수길"}, timeout=10).text
    urls = [c.url for c in google_candidates(page)]
    ok = requests.get(urls[0], timeout=10)
    with Image.open(io.BytesIO(ok.content)) as im:
        assert im.format == "JPEG" and im.size == (512, 384)
    broken = next(u for u in urls if u.endswith("b.jpg"))
    r = requests.get(broken, timeout=10)
    assert r.headers["Content-Type"] == "image/jpeg" and r.content.startswith(b"<html>")
    dup = next(u for u in urls if u.endswith("d.jpg"))
    assert requests.get(dup, timeout=10).content != requests.get(dup.replace("d.jpg", ".jpg"), timeout=10).content
    assert any(p.startswith("/img/A/") for p in demo.requests)


def test_unknown_query_has_no_results(demo):
    page = requests.get(f"{demo.url}/search", params={"q": "nothing here"}, timeout=10).text
    assert google_candidates(page) == [] and "No results" in page
    assert requests.get(f"{demo.url}/img/C/1.jpg", timeout=10).status_code == 404


@pytest.mark.browser
def test_the_scraper_collects_from_the_demo_source_with_provenance(demo, tmp_path):
    from scraper.config import ScrapeConfig
    from scraper.pipeline import scrape
    from scraper.report import shortfall

    spec = load_domains(PROJECT_ROOT / "datasets" / "domains.toml")
    cfg = ScrapeConfig(data_root=tmp_path, per_query_limit=20, allow_private_networks=("127.0.0.1/32",),
                       scroll_pause=0.2, max_preview_clicks=0).with_engine_url(demo.url)  # fmt: skip
    result = scrape(cfg, spec, domains=["B"], queries=[spec.domain("B").queries[0]])
    (q,) = result.queries
    assert (q.search_status, q.layer, q.found, q.stop) == ("ok", "json", 20, "asked_reached")
    assert (q.downloaded, q.engine, q.fallback_from, shortfall(q)) == (20, "google", "", None)
    with sqlite3.connect(result.manifest) as db:
        rows = db.execute("SELECT page_url, title FROM images WHERE status = 'ok'").fetchall()
    assert len(rows) == 20 and all(p.startswith(f"{demo.url}/page/B-") and t.startswith("Street B") for p, t in rows)
