"""Tests for scraper.engine: real headless Chromium against local replicas of Google and Bing Images."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from core.config import Query
from scraper import records as R
from scraper.browser import BrowserError
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.extract import Extracted, google_extract
from tests.support.net import serve
from tests.support.scraper_replica import replica_handler, result_names

pytestmark = pytest.mark.browser
Q = Query(text="tree lined street", hl="en")
KO = Query(text="가로수길", hl="ko")


@pytest.fixture
def replica(driver):
    """Factory: start a replica (engine, variant, ...) on 127.0.0.1; browser cookies are cleared first."""
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    started = []

    def start(engine="google", variant="json", **kw):
        handler = replica_handler(engine, variant, **kw)
        srv = serve(handler)
        srv.log = handler.log
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.close()


def _engine(srv, driver, tmp_path, name="google", **kw):
    base = dict(scroll_pause=1.0, load_attempts=3, preview_timeout=1.5, max_preview_clicks=6)
    cfg = ScrapeConfig(
        data_root=tmp_path, engine=name, google_url=srv.base_url, bing_url=srv.base_url, **{**base, **kw}
    )
    return make_engine(cfg, driver=driver, debug_dir=tmp_path / "debug")


def _originals(srv, q, n, engine="google"):
    return [f"{srv.base_url}/img/{name}.jpg?w=64&src={engine}" for name in result_names(q, n)]


@pytest.mark.parametrize("engine", ["google", "bing"])
def test_embedded_json_layer_with_scroll_loading(replica, driver, tmp_path, engine):
    srv = replica(engine, "json", n_results=45)
    out = _engine(srv, driver, tmp_path, engine).search(Q, 30)
    assert (out.status, out.layer) == (R.OK, "json")
    assert [c.url for c in out.candidates] == _originals(srv, Q.text, 30, engine)  # \u003d unescaped, in order
    assert [c.rank for c in out.candidates] == list(range(30))
    assert not any(c.is_thumbnail for c in out.candidates)
    first = out.candidates[0]
    if engine == "google":
        assert (first.page_url, first.title) == (f"{srv.base_url}/page/{result_names(Q.text, 1)[0]}?from=g",
                                                 "Title 0 & more")  # fmt: skip
    else:
        assert (first.page_url, first.title) == (
            f"{srv.base_url}/page/{result_names(Q.text, 1)[0]}",
            "Bing result 0 & co",
        )
    assert any("start=20" in p or "first=20" in p for p in srv.log)  # results past the first page came by scrolling


def test_show_more_control_and_stop_when_no_growth(replica, driver, tmp_path):
    srv = replica("google", "json", n_results=45)
    start = time.monotonic()
    out = _engine(srv, driver, tmp_path).search(KO, 100)
    assert len(out.candidates) == 45  # all there is: page 3 only loads after pressing "show more"
    assert any("start=40" in p for p in srv.log)
    assert time.monotonic() - start < 20
    assert "hl=ko" in srv.log[srv.log.index(next(p for p in srv.log if p.startswith("/search")))]


@pytest.mark.parametrize("cookie", [True, False])
def test_consent_page_by_cookie_or_button(replica, driver, tmp_path, cookie):
    srv = replica("google", "json", n_results=20)
    out = _engine(srv, driver, tmp_path, consent_cookie=cookie).search(Q, 10)
    assert len(out.candidates) == 10
    saw_consent = any(p.startswith("/consent/ui") for p in srv.log)
    assert saw_consent is not cookie
    assert ("POST /consent/save" in srv.log) is not cookie  # the #L2AGLb button submitted the consent form


@pytest.mark.parametrize("engine", ["google", "bing"])
def test_blocked_page_ends_the_query(replica, driver, tmp_path, engine):
    srv = replica(engine, "json")
    out = _engine(srv, driver, tmp_path, engine).search(Query(text="blockme please", hl="en"), 10)
    assert out.status == R.BLOCKED
    assert out.candidates == ()
    assert "unusual-traffic" in out.message and "no CAPTCHA is attempted" in out.message
    assert not any(p.startswith("POST") for p in srv.log)  # never submits the captcha form


@pytest.mark.parametrize("engine", ["google", "bing"])
def test_changed_markup_falls_back_to_preview_clicks(replica, driver, tmp_path, engine):
    srv = replica(engine, "changed", n_results=20)
    out = _engine(srv, driver, tmp_path, engine).search(Q, 4)
    assert (out.status, out.layer) == (R.OK, "preview")
    assert [c.url for c in out.candidates] == _originals(srv, Q.text, 4, engine)  # originals, not the thumbnails
    names = result_names(Q.text, 4)
    assert [(c.page_url, c.title) for c in out.candidates] == [
        (f"{srv.base_url}/page/{n}", f"Result {i}") for i, n in enumerate(names)
    ]
    assert driver.find_elements("id", "bnp_container") == []  # Bing's cookie banner was accepted (no-op on Google)


def test_json_layer_topped_up_by_preview_clicks(replica, driver, tmp_path):
    srv = replica("google", "json", n_results=45)
    eng = _engine(srv, driver, tmp_path, load_attempts=2, scroll_pause=0.2)
    eng.layer1 = lambda source, markers: Extracted(google_extract(source, markers).candidates[:3], 3)  # JSON: 3
    out = eng.search(Q, 5)
    assert out.layer == "json+preview"
    assert [c.url for c in out.candidates] == _originals(srv, Q.text, 5)


def test_thumbnails_are_a_flagged_last_resort(replica, driver, tmp_path):
    srv = replica("google", "thumbs", n_results=20)
    out = _engine(srv, driver, tmp_path, preview_timeout=0.5).search(Q, 10)
    assert out.layer == "thumbnails"
    assert len(out.candidates) == 10
    assert all(c.is_thumbnail and "/thumb/" in c.url for c in out.candidates)
    off = _engine(srv, driver, tmp_path, thumbnail_fallback=False, max_preview_clicks=0).search(Q, 10)
    assert off.status == "empty"


@pytest.mark.parametrize("engine", ["google", "bing"])
def test_zero_results_saves_page_source_and_screenshot(replica, driver, tmp_path, engine):
    srv = replica(engine, "empty")
    out = _engine(srv, driver, tmp_path, engine, scroll_pause=0.2).search(KO, 10)
    assert out.status == "empty"
    assert len(out.debug_files) == 2
    html, png = out.debug_files
    assert html.endswith(".html") and "No results" in open(html, encoding="utf-8").read()
    assert png.endswith(".png") and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert str(tmp_path / "debug") in out.message


def test_headed_without_display_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    eng = make_engine(ScrapeConfig(data_root=tmp_path, headed=True))
    with pytest.raises(BrowserError, match="xvfb-run"):
        eng.search(Q, 1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install -y xvfb)")
def test_headed_browser_under_xvfb(replica, monkeypatch, tmp_path):
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x1000x24", "-nolisten", "tcp"])
    try:
        time.sleep(1.0)
        monkeypatch.setenv("DISPLAY", display)
        srv = replica("google", "json", n_results=20)
        cfg = ScrapeConfig(data_root=tmp_path, headed=True, google_url=srv.base_url, scroll_pause=0.5)
        eng = make_engine(cfg)
        try:
            out = eng.search(Q, 5)
            assert len(out.candidates) == 5
            assert "Headless" not in eng.driver().execute_script("return navigator.userAgent")
        finally:
            eng.close()
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def test_unreachable_search_host_is_an_error_status(driver, tmp_path):
    from tests.support.net import free_port

    cfg = ScrapeConfig(data_root=tmp_path, google_url=f"http://127.0.0.1:{free_port()}")
    out = make_engine(cfg, driver=driver, debug_dir=tmp_path / "debug").search(Q, 5)
    assert out.status == "error" and "could not load" in out.message
    assert out.candidates == ()


@pytest.mark.network
@pytest.mark.parametrize("engine", ["google", "bing"])
def test_live_engine_finds_originals(driver, tmp_path, engine):
    """Against the real site (make test-live): originals with page URLs, or a clearly reported block."""
    eng = make_engine(ScrapeConfig(data_root=tmp_path, engine=engine), driver=driver, debug_dir=tmp_path / "debug")
    out = eng.search(Query(text="cherry blossom street", hl="en"), 20)
    if out.status == R.BLOCKED:
        pytest.skip(out.message)
    assert out.status == R.OK, (out.message, out.debug_files)
    assert len(out.candidates) >= 10
    assert not any(c.is_thumbnail for c in out.candidates)
    assert sum(c.page_url is not None for c in out.candidates) >= 5
