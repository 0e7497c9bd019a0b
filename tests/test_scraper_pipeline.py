"""Tests for scraper.pipeline: search -> download -> store end to end on loopback, resumable runs."""

from __future__ import annotations

import sqlite3

import pytest

from core.config import ConfigError, DatasetSpec, Query
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.fetch import Downloader
from scraper.pipeline import collect, scrape
from scraper.records import Candidate, Counts, SearchOutcome
from scraper.report import shortfall
from scraper.store import Store
from scraper.validate import check_image
from tests.support.net import serve
from tests.support.scraper_faults import fault_handler
from tests.support.scraper_images import image_bytes
from tests.support.scraper_replica import replica_handler

SPEC = DatasetSpec(
    name="testset",
    domains={"A": {"label": "street trees", "queries": ["가로수길", "blockme", "tree street"]},
             "B": {"label": "cherry blossoms", "queries": ["벚꽃길"]}},
)  # fmt: skip


def _cfg(tmp_path, base_url="http://127.0.0.1:9", **kw) -> ScrapeConfig:
    base = dict(
        data_root=tmp_path, google_url=base_url, bing_url=base_url, fallback_engine="none",
        allow_private_networks=("127.0.0.1/32",), scroll_pause=0.5,
        load_attempts=2, per_query_limit=8, workers=4, backoff=0.05, read_timeout=2, total_timeout=3,
    )  # fmt: skip
    return ScrapeConfig(**{**base, **kw})


@pytest.fixture
def google(driver):
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    handler = replica_handler("google", "json", n_results=30)
    srv = serve(handler)
    srv.log = handler.log
    yield srv
    srv.close()


def _images(tmp_path, domain):
    d = tmp_path / SPEC.name / "raw" / domain
    return sorted(d.iterdir()) if d.exists() else []


@pytest.mark.browser
def test_scrape_end_to_end_and_rerun_fetches_nothing_again(tmp_path, driver, google):
    cfg = _cfg(tmp_path, google.base_url)
    seen: list[Counts] = []
    result = scrape(
        cfg, SPEC, engine=make_engine(cfg, driver=driver), progress=lambda c: seen.append(Counts(**vars(c)))
    )
    assert result.stored_per_domain == {"A": 16, "B": 8}
    assert result.statuses == {R.OK: 24}
    assert [q.search_status for q in result.queries] == [R.OK, R.BLOCKED, R.OK, R.OK]
    assert "unusual-traffic" in result.blocked[0].message
    assert seen[-1].found == 24 and seen[-1].downloaded == 24 and seen[-1].failed == 0
    for domain in "AB":
        for f in _images(tmp_path, domain):
            assert f.name == f"{check_image(f.read_bytes()).sha256}.jpg"
    db = sqlite3.connect(result.manifest)
    row = db.execute(
        "SELECT query, engine, rank, page_url, title, path FROM images WHERE domain='B' AND rank=0"
    ).fetchone()
    assert row[:2] == ("벚꽃길", "google") and row[3].endswith("?from=g") and row[4] == "Title 0 & more"
    assert db.execute("SELECT status FROM searches WHERE query='blockme'").fetchone() == ("blocked",)
    fetched_before = sum(p.startswith("/img/") for p in google.log)

    again = scrape(cfg, SPEC, engine=make_engine(cfg, driver=driver))
    assert again.statuses == {} and again.counts.skipped == 24 and again.collected == 24
    assert sum(p.startswith("/img/") for p in google.log) == fetched_before


@pytest.mark.browser
def test_per_domain_limit_and_query_override(tmp_path, driver, google):
    cfg = _cfg(tmp_path, google.base_url, per_domain_limit=5)
    result = scrape(cfg, SPEC, domains=["A"], queries=[Query(text="one", hl="en"), Query(text="two", hl="en")],
                    engine=make_engine(cfg, driver=driver))  # fmt: skip
    assert result.stored_per_domain == {"A": 5}
    assert [q.query for q in result.queries] == ["one"]  # the domain was full before "two"
    assert len(_images(tmp_path, "A")) == 5


def test_url_list_with_faults_records_every_status(tmp_path, http_server):
    srv = http_server(fault_handler())
    paths = [
        "/img/1.jpg",
        "/img/2.jpg",
        "/status/404",
        "/html-as-jpeg/x",
        "/noai/x",
        "/same/1",
        "/same/2",
        "/to-private/x",
    ]
    urls = tmp_path / "urls.txt"
    urls.write_text("# my list\n" + "\n".join(srv.url(p) + ("\thttp://page\tnice" if i == 0 else "")
                                              for i, p in enumerate(paths)) + "\n\n")  # fmt: skip
    result = scrape(_cfg(tmp_path), SPEC, domains=["B"], urls_file=urls)
    assert result.statuses == {
        R.OK: 3,
        R.HTTP_ERROR: 1,
        R.NOT_IMAGE: 1,
        R.ROBOTS: 1,
        R.DUPLICATE: 1,
        R.REFUSED_ADDRESS: 1,
    }
    db = sqlite3.connect(result.manifest)
    assert db.execute("SELECT engine, query, page_url, title FROM images WHERE rank=0").fetchone() == (
        "urls", str(urls), "http://page", "nice")  # fmt: skip
    assert len(_images(tmp_path, "B")) == 3


def test_import_folder_of_own_photos(tmp_path):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "a.jpg").write_bytes(image_bytes("mine-a"))
    (photos / "sub" / "b.png").write_bytes(image_bytes("mine-b", fmt="PNG"))
    (photos / "notes.txt").write_text("not a photo")
    (photos / ".hidden.jpg").write_bytes(image_bytes("hidden"))
    result = scrape(_cfg(tmp_path / "data"), SPEC, domains=["A"], import_dir=photos)
    assert result.statuses == {R.OK: 2, R.NOT_IMAGE: 1}
    assert sorted(p.suffix for p in _images(tmp_path / "data", "A")) == [".jpg", ".png"]
    db = sqlite3.connect(result.manifest)
    assert {r[0] for r in db.execute("SELECT engine FROM images")} == {"local"}
    assert all(r[0].startswith("file://") for r in db.execute("SELECT url FROM images"))


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"domains": ["A", "B"], "urls_file": "x"}, "exactly one domain"),
     ({"domains": ["A"], "urls_file": "x", "import_dir": "y"}, "one of them"),
     ({"domains": ["C"]}, "domain: got 'C'")],
)  # fmt: skip
def test_bad_source_choices_raise(tmp_path, kw, match):
    with pytest.raises(ConfigError, match=match):
        scrape(_cfg(tmp_path), SPEC, **kw)


# --- issue 10: one URL never stops the run ----------------------------------------------------------------------


class _Store(Store):
    """A store whose put fails for one URL (a disk error while writing that file)."""

    def put(self, f):
        if "/img/put-fails" in f.candidate.url:
            raise OSError(28, "No space left on device")
        return super().put(f)


class _Fetcher(Downloader):
    """A downloader that raises for some URLs: a bug in fetching, a configuration error."""

    def fetch(self, cand):
        if "/img/fetch-raises" in cand.url:
            raise RuntimeError("fetch exploded")
        if "/img/config" in cand.url:
            raise ConfigError("max_mb: got -1; allowed: greater than 0")
        return super().fetch(cand)


def _outcome(srv, names, domain="A") -> SearchOutcome:
    cands = tuple(Candidate(srv.url(f"/img/{n}.jpg"), rank=i).tagged(domain, "q", "urls") for i, n in enumerate(names))
    return SearchOutcome(cands, R.OK, "", "", (), len(cands), R.STOP_SOURCE, "urls")


def test_an_exception_in_fetch_validation_or_store_is_that_url_s_status(tmp_path, http_server, monkeypatch):
    import scraper.fetch

    real_check = scraper.fetch.check_image

    def check(data, max_pixels):
        if data == image_bytes("/img/validate-raises.jpg"):
            raise MemoryError("decoder ran out of memory")
        return real_check(data, max_pixels)

    monkeypatch.setattr(scraper.fetch, "check_image", check)
    srv = http_server(fault_handler())
    cfg = _cfg(tmp_path)
    names = ["ok-1", "fetch-raises", "validate-raises", "put-fails", "ok-2"]
    with _Store(cfg.raw_dir("iso")) as store:
        fetcher = _Fetcher(cfg)
        result = collect(cfg, store, fetcher, _outcome(srv, names), "A", "q", "urls")
        rows = {r["url"].rsplit("/", 1)[1]: r for r in store.rows()}
        fetcher.close()
    assert result.statuses == {R.OK: 2, R.ERROR: 3}
    assert (rows["fetch-raises.jpg"]["status"], rows["fetch-raises.jpg"]["error"]) == (
        R.ERROR, "fetching: RuntimeError: fetch exploded")  # fmt: skip
    assert rows["validate-raises.jpg"]["error"] == "fetching: MemoryError: decoder ran out of memory"
    assert rows["put-fails.jpg"]["error"] == "storing: OSError: [Errno 28] No space left on device"
    assert result.errors[0].endswith("fetching: RuntimeError: fetch exploded") and len(result.errors) == 3
    assert "3 failed (error 3)" in shortfall(result)
    assert {rows[f"ok-{k}.jpg"]["status"] for k in (1, 2)} == {R.OK}
    with Store(cfg.raw_dir("iso")) as store:  # not settled: the next run tries those URLs again
        assert store.settled_urls("A") == {srv.url("/img/ok-1.jpg"), srv.url("/img/ok-2.jpg")}


def test_a_configuration_error_still_stops_the_run(tmp_path, http_server):
    srv = http_server(fault_handler())
    cfg = _cfg(tmp_path, workers=1)
    with Store(cfg.raw_dir("iso")) as store, pytest.raises(ConfigError, match="max_mb"):
        collect(cfg, store, _Fetcher(cfg), _outcome(srv, ["ok-1", "config", "ok-2"]), "A", "q", "urls")


def test_an_unwritable_row_becomes_an_error_row(tmp_path, http_server, monkeypatch):
    srv = http_server(fault_handler())
    cfg = _cfg(tmp_path)
    with Store(cfg.raw_dir("iso")) as store:
        real = store.commit

        def commit(s):
            if s.status == R.OK and "ok-2" in s.fetched.candidate.url:
                raise sqlite3.InterfaceError("Error binding parameter 5")
            return real(s)

        monkeypatch.setattr(store, "commit", commit)
        result = collect(cfg, store, Downloader(cfg), _outcome(srv, ["ok-1", "ok-2"]), "A", "q", "urls")
        (row,) = store.rows("url LIKE ?", ("%ok-2%",))
    assert result.statuses == {R.OK: 1, R.ERROR: 1}
    assert row["status"] == R.ERROR and row["error"] == "recording: InterfaceError: Error binding parameter 5"


def test_a_domain_at_its_limit_says_so_once_not_per_search(tmp_path, http_server, caplog):
    from scraper.report import domain_lines

    srv = http_server(fault_handler())
    cfg = _cfg(tmp_path, per_domain_limit=2)
    with Store(cfg.raw_dir(SPEC.name)) as store, caplog.at_level("WARNING", logger="scraper.pipeline"):
        first = collect(cfg, store, Downloader(cfg), _outcome(srv, ["l1", "l2", "l3"]), "A", "q1", "urls")
        assert first.downloaded == 2 and first.pending == 1
        assert len(caplog.records) == 1 and "left pending" in caplog.records[0].getMessage()  # filled by this search
        caplog.clear()
        outcomes = {f"q{q}": _outcome(srv, [f"m{q}{i}" for i in range(3)]) for q in (2, 3)}
        later = [collect(cfg, store, Downloader(cfg), o, "A", q, "urls") for q, o in outcomes.items()]
        assert [r.pending for r in later] == [3, 3] and not caplog.records  # full before: no line per search
        held = {"A": store.count("A")}
    assert domain_lines(later, held) == ["A: nothing new: 2 held, limit 2"]
    assert domain_lines([first, *later], held) == ["A: 2 new, 2 held, limit 2 reached; 7 candidates left pending"]
