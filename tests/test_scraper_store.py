"""Tests for scraper.store: content-named files, one manifest row per (domain, URL), resumable state."""

from __future__ import annotations

import sqlite3

import pytest

from core.files import temp_path
from scraper import records as R
from scraper.layout import RawLayout
from scraper.records import Candidate, Fetched
from scraper.store import Store
from scraper.validate import check_image
from tests.support.scraper_images import image_bytes

CONTRACT_COLUMNS = {"domain", "url", "query", "engine", "rank", "page_url", "title", "status", "error", "sha256",
                    "bytes", "width", "height", "fetched_at", "path", "is_thumbnail"}  # fmt: skip


def _ok(url: str, name: str, domain: str = "A", **kw) -> Fetched:
    data = image_bytes(name)
    c = check_image(data)
    cand = Candidate(url, page_url="http://page", title="t", rank=3, domain=domain, query="q", engine="google", **kw)
    return Fetched(cand, R.OK, None, 200, data, c.ext, c.width, c.height, c.sha256, R.utc_now())


def _failed(url: str, status: str, code: int | None = None, domain: str = "A") -> Fetched:
    return Fetched(Candidate(url, domain=domain), status, "why", code, fetched_at=R.utc_now())


def test_manifest_has_the_contract_columns_and_wal(tmp_path):
    Store(tmp_path).close()
    db = sqlite3.connect(RawLayout(tmp_path).manifest)
    cols = {r[1] for r in db.execute("PRAGMA table_info(images)")}
    assert CONTRACT_COLUMNS <= cols
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_ok_file_is_named_by_content_and_row_has_provenance(tmp_path):
    with Store(tmp_path) as st:
        f = _ok("http://x/1.jpg", "one", is_thumbnail=True)
        assert st.record(f) == R.OK
        (row,) = st.rows()
    assert row["path"] == f"A/{f.sha256}.jpg"
    assert (tmp_path / row["path"]).read_bytes() == f.data
    assert (row["query"], row["engine"], row["rank"], row["page_url"], row["title"]) == (
        "q",
        "google",
        3,
        "http://page",
        "t",
    )
    assert (row["bytes"], row["width"], row["height"], row["is_thumbnail"]) == (len(f.data), 64, 48, 1)
    assert list((tmp_path / ".partial").iterdir()) == []


def test_same_bytes_are_stored_once(tmp_path):
    with Store(tmp_path) as st:
        assert st.record(_ok("http://x/1.jpg", "same")) == R.OK
        assert st.record(_ok("http://y/2.jpg", "same")) == R.DUPLICATE
        assert st.record(_ok("http://z/3.jpg", "same", domain="B")) == R.DUPLICATE
        rows = {r["url"]: r for r in st.rows()}
    assert len(list((tmp_path / "A").iterdir())) == 1 and not (tmp_path / "B").exists()
    dup = rows["http://y/2.jpg"]
    assert dup["path"] is None and dup["sha256"] == rows["http://x/1.jpg"]["sha256"]
    assert "same bytes as A/" in dup["error"]


def test_found_rows_keep_first_provenance_and_become_final(tmp_path):
    with Store(tmp_path) as st:
        c1 = Candidate("http://x/1.jpg", rank=0, domain="A", query="first", engine="google")
        assert st.add_found([c1, Candidate("http://x/2.jpg", rank=1, domain="A", query="first")]) == 2
        assert st.add_found([Candidate("http://x/1.jpg", rank=9, domain="A", query="second")]) == 0
        assert st.count("A", R.PENDING) == 2
        st.record(_failed("http://x/1.jpg", R.TIMEOUT))
        (row,) = st.rows("url = ?", ("http://x/1.jpg",))
    assert (row["status"], row["query"], row["rank"]) == (R.TIMEOUT, "first", 0)


@pytest.mark.parametrize(
    ("status", "code", "settled", "settled_when_retrying"),
    [(R.OK, 200, True, True), (R.DUPLICATE, 200, True, True), (R.NOT_IMAGE, 200, True, False),
     (R.HTTP_ERROR, 404, True, False), (R.HTTP_ERROR, 429, False, False), (R.HTTP_ERROR, 503, False, False),
     (R.TIMEOUT, None, False, False), (R.CONNECTION_ERROR, None, False, False), (R.ROBOTS, 200, True, False)],
)  # fmt: skip
def test_which_urls_a_rerun_skips(tmp_path, status, code, settled, settled_when_retrying):
    with Store(tmp_path) as st:
        st.record(_ok("http://x/u", "u") if status == R.OK else _failed("http://x/u", status, code))
        if status == R.DUPLICATE:
            st.record(_ok("http://x/v", "u"))
            url = "http://x/v"
        else:
            url = "http://x/u"
        assert (url in st.settled_urls("A")) is settled
        assert (url in st.settled_urls("A", retry_failed=True)) is settled_when_retrying
        assert url not in st.settled_urls("B")


def test_stale_partial_files_are_removed_on_open(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    partial = tmp_path / ".partial"
    partial.mkdir()
    (partial / f".abc.jpg.{int(dead.stdout)}.0123abcd.tmp").write_bytes(b"half, writer killed")
    (partial / "old-style.part").write_bytes(b"half")
    live = temp_path(tmp_path / "A" / "def.jpg", partial)  # another Store of a live process is writing it
    live.write_bytes(b"in progress")
    Store(tmp_path).close()
    assert list(partial.iterdir()) == [live]


def test_file_left_without_row_by_a_kill_is_adopted(tmp_path):
    f = _ok("http://x/1.jpg", "orphan")
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / f"{f.sha256}.jpg").write_bytes(f.data)
    with Store(tmp_path) as st:
        assert st.record(f) == R.OK
        assert st.count("A") == 1


def test_a_search_and_the_engine_it_fell_back_from_are_both_logged(tmp_path):
    blocked = R.SearchOutcome((), R.BLOCKED, "sorry page", "", (), 5, R.STOP_BLOCKED, "google")
    cands = (Candidate("http://x/1.jpg"),)
    final = R.SearchOutcome(cands, R.OK, "1 candidate", "json", (), 5, R.STOP_END, "bing", "google", "blocked",
                            (blocked,))  # fmt: skip
    with Store(tmp_path) as st:
        st.record_search("A", "q", "google", final)
    db = sqlite3.connect(RawLayout(tmp_path).manifest)
    rows = db.execute("SELECT engine, status, found, asked, stop, fallback_from, fallback_reason FROM searches "
                      "ORDER BY id").fetchall()  # fmt: skip
    assert rows == [("google", "blocked", 0, 5, "blocked", None, None), ("bing", "ok", 1, 5, "end_of_results",
                                                                        "google", "blocked")]  # fmt: skip


def test_an_older_manifest_gets_the_new_search_columns(tmp_path):
    db = sqlite3.connect(tmp_path / "manifest.sqlite")
    db.execute("CREATE TABLE searches (id INTEGER PRIMARY KEY AUTOINCREMENT, domain TEXT NOT NULL, query TEXT NOT "
               "NULL, engine TEXT NOT NULL, status TEXT NOT NULL, message TEXT, layer TEXT, found INTEGER NOT NULL, "
               "debug_files TEXT, searched_at TEXT NOT NULL)")  # fmt: skip
    db.execute("INSERT INTO searches VALUES (1, 'A', 'q', 'google', 'ok', '', 'json', 3, '[]', 'then')")
    db.commit()
    db.close()
    with Store(tmp_path) as st:
        st.record_search("A", "q2", "google", R.SearchOutcome((), R.EMPTY, "none", asked=4, stop=R.STOP_NO_RESULTS))
    db = sqlite3.connect(tmp_path / "manifest.sqlite")
    assert db.execute("SELECT query, asked, stop FROM searches ORDER BY id").fetchall() == [
        ("q", None, None), ("q2", 4, "no_results")]  # fmt: skip


def test_runs_and_searches_are_logged(tmp_path):
    with Store(tmp_path) as st:
        run = st.start_run({"engine": "google"})
        st.record_search("A", "q", "google", R.SearchOutcome((), R.BLOCKED, "sorry page"))
    db = sqlite3.connect(RawLayout(tmp_path).manifest)
    assert db.execute("SELECT id FROM runs").fetchone()[0] == run
    assert db.execute("SELECT status, message, found FROM searches").fetchone() == ("blocked", "sorry page", 0)
