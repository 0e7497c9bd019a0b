"""Tests for scraper.search: the fallback engine when Google blocks or finds nothing while other queries find results;
real headless Chromium against replicas of both engines on 127.0.0.1."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from core.config import DatasetSpec
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.pipeline import scrape
from tests.support.net import serve
from tests.support.scraper_replica import replica_handler
from tests.support.scraper_varied import PageSpec, varied_handler

pytestmark = pytest.mark.browser


@pytest.fixture
def servers(driver):
    """Factory: start servers for handler classes; all closed after the test (cookies cleared before)."""
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    started = []

    def start(handler):
        srv = serve(handler)
        srv.log = getattr(handler, "log", [])
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.close()


def _spec(*queries: str) -> DatasetSpec:
    return DatasetSpec(name="fb", domains={"A": {"label": "a", "queries": [{"q": q, "hl": "en"} for q in queries]},
                                           "B": {"label": "b", "queries": ["unused"]}})  # fmt: skip


def _cfg(tmp_path, google, bing, **kw) -> ScrapeConfig:
    base = dict(data_root=tmp_path, google_url=google.base_url, bing_url=bing.base_url, per_query_limit=5,
                allow_private_networks=("127.0.0.1/32",), scroll_pause=0.3, load_attempts=2, workers=4)  # fmt: skip
    return ScrapeConfig(**{**base, **kw})


def _searches(result) -> list[tuple]:
    with sqlite3.connect(result.manifest) as db:
        return db.execute("SELECT query, engine, status, fallback_from, fallback_reason, asked, stop FROM searches "
                          "ORDER BY id").fetchall()  # fmt: skip


def test_blocked_google_continues_on_bing_for_the_rest_of_the_scrape(tmp_path, driver, servers, caplog):
    google = servers(replica_handler("google", n_results=10))
    bing = servers(replica_handler("bing", n_results=10, block=""))
    cfg = _cfg(tmp_path, google, bing)
    with caplog.at_level(logging.WARNING):
        result = scrape(cfg, _spec("blockme", "tree street"), domains=["A"], engine=make_engine(cfg, driver=driver))
    assert [(q.engine, q.search_status, q.fallback_from, q.found) for q in result.queries] == [
        ("bing", R.OK, "google", 5), ("bing", R.OK, "google", 5)]  # fmt: skip
    assert [q.fallback_reason for q in result.queries] == ["blocked", "blocked earlier in this scrape"]
    assert _searches(result) == [
        ("blockme", "google", "blocked", None, None, 5, R.STOP_BLOCKED),
        ("blockme", "bing", "ok", "google", "blocked", 5, R.STOP_ASKED),
        ("tree street", "bing", "ok", "google", "blocked earlier in this scrape", 5, R.STOP_ASKED),
    ]
    assert not any(p.startswith("/search?q=tree") for p in google.log)  # google was not asked again
    with sqlite3.connect(result.manifest) as db:
        assert db.execute("SELECT DISTINCT engine FROM images").fetchall() == [("bing",)]
    assert result.stored_per_domain == {"A": 10}
    assert sum("no CAPTCHA is attempted" in r.getMessage() for r in caplog.records) == 1  # the block, said once


def test_no_fallback_when_turned_off(tmp_path, driver, servers):
    google, bing = servers(replica_handler("google", n_results=10)), servers(replica_handler("bing", n_results=10))
    cfg = _cfg(tmp_path, google, bing, fallback_engine="none")
    result = scrape(cfg, _spec("blockme"), domains=["A"], engine=make_engine(cfg, driver=driver))
    assert [(q.engine, q.search_status, q.fallback_from) for q in result.queries] == [("google", R.BLOCKED, "")]
    assert bing.log == []


@pytest.mark.parametrize("order", ["empty-first", "empty-later"])
def test_a_query_google_finds_nothing_for_goes_to_bing_when_others_find_results(tmp_path, driver, servers, order):
    found = [PageSpec(f"found-{k}", n=6, first=6, asked=5) for k in (1, 2)]
    nothing = PageSpec("nothing-on-google", engine="bing", n=6, first=6, asked=5)
    google = servers(varied_handler({s.name: s for s in found}))
    bing = servers(varied_handler({nothing.name: nothing}))
    queries = [nothing.name, "found-1", "found-2"] if order == "empty-first" else ["found-1", nothing.name, "found-2"]
    cfg = _cfg(tmp_path, google, bing)
    result = scrape(cfg, _spec(*queries), domains=["A"], engine=make_engine(cfg, driver=driver))
    by_query = {q.query: q for q in result.queries}
    assert [q.query for q in result.queries] == queries  # in the order asked, the retried one in its place
    q = by_query[nothing.name]
    assert (q.engine, q.search_status, q.fallback_from, q.fallback_reason, q.downloaded) == (
        "bing", R.OK, "google", "found nothing (other queries did)", 5)  # fmt: skip
    assert {by_query[f"found-{k}"].engine for k in (1, 2)} == {"google"}
    rows = [r for r in _searches(result) if r[0] == nothing.name]
    assert [(r[1], r[2], r[3]) for r in rows] == [("google", "empty", None), ("bing", "ok", "google")]


def test_nothing_found_anywhere_is_not_retried(tmp_path, driver, servers):
    google, bing = servers(varied_handler()), servers(varied_handler())
    cfg = _cfg(tmp_path, google, bing)
    result = scrape(cfg, _spec("nothing-1", "nothing-2"), domains=["A"], engine=make_engine(cfg, driver=driver))
    assert [(q.engine, q.search_status) for q in result.queries] == [("google", R.EMPTY), ("google", R.EMPTY)]
