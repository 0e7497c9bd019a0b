"""Tests for scraper.cli: `sakura scrape` as a user runs it, including kill -9 and a rerun."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sakura.cli import main
from scraper.layout import RawLayout
from scraper.validate import check_image
from tests.support.net import serve
from tests.support.scraper_faults import fault_handler
from tests.support.scraper_replica import replica_handler

DOMAINS = """name = "clitest"
[domains.A]
label = "street trees"
queries = ["가로수길", "tree lined street"]
[domains.B]
label = "cherry blossoms"
queries = ["벚꽃길"]
"""
PRIVATE = ["--allow-private-network", "127.0.0.1/32"]


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    (tmp_path / "domains.toml").write_text(DOMAINS, encoding="utf-8")
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path))
    return tmp_path


def _sakura(args, data_root, env=None, **kw):
    env = {**os.environ, "SAKURA_DATA_ROOT": str(data_root), "PYTHONPATH": str(Path(__file__).parent.parent),
           **(env or {})}  # fmt: skip
    cmd = [sys.executable, "-m", "sakura", "scrape", "--domains", str(data_root / "domains.toml"), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _url_file(tmp_path, srv, paths) -> Path:
    f = tmp_path / "urls.txt"
    f.write_text("\n".join(srv.url(p) for p in paths) + "\n")
    return f


def test_url_list_run_prints_summary_and_exits_0(data_root, http_server, capsys):
    srv = http_server(fault_handler())
    urls = _url_file(data_root, srv, ["/img/a.jpg", "/img/b.jpg", "/status/404", "/truncated/t.jpg"])
    code = main(["scrape", "--domain", "A", "--urls", str(urls), "--no-progress", *PRIVATE])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["domain", "engine", "query", "search", "layer", "asked", "found", "downloaded", "held",
                                "failed", "stop", "shortfall"]  # fmt: skip
    assert lines[1].split()[:10] == ["A", "urls", str(urls)[:40], "ok", "4", "4", "2", "0", "2", "source"]
    assert lines[1].endswith("stored 2 of 4: 2 failed (http_error 1, not_image 1)")  # the shortfall, with its reason
    assert lines[2].split() == ["all", "4", "4", "2", "0", "2"]
    assert "download statuses this run: http_error 1, not_image 1, ok 2" in out
    assert "images held now (A: 2)" in out
    assert capsys.readouterr().err.count("stored 2 of 4") <= 1  # the warning is logged once (stderr)


def test_nothing_collected_exits_1(data_root, http_server, capsys):
    srv = http_server(fault_handler())
    urls = _url_file(data_root, srv, ["/status/404", "/img/private-by-default.jpg"])
    assert main(["scrape", "--domain", "A", "--urls", str(urls), "--no-progress"]) == 1  # loopback refused
    assert "nothing could be collected" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--workers", "0"], "--workers: got 0"), (["--max-mb", "0"], "--max-mb: got 0.0"),
     (["--per-query", "-5"], "error: --per-query: got -5; allowed: greater than 0"),
     (["--per-query-limit", "-5"], "error: --per-query-limit: got -5"),
     (["--allow-private-network", "nonsense"], "--allow-private-network: got ['nonsense']"),
     (["--domain", "A", "--urls", "/nonexistent.txt"], "file not found")],
)  # fmt: skip
def test_config_errors_exit_2_with_one_line(data_root, capsys, args, message):
    assert main(["scrape", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.browser
def test_google_engine_run_with_progress_bar(data_root):
    handler = replica_handler("google", "json", n_results=12)
    srv = serve(handler)
    try:
        proc = _sakura(["--google-url", srv.base_url, "--per-query", "6", "--scroll-pause", "0.3", *PRIVATE], data_root)
        out, err = proc.communicate(timeout=120)
    finally:
        srv.close()
    assert proc.returncode == 0, err
    assert "downloaded=18" in err and "found=18" in err  # tqdm's live postfix on stderr
    assert "(from PATH)" in err  # which chromedriver was used, and how it was found
    assert "images held now (A: 12, B: 6)" in out
    assert len(list((data_root / "clitest" / "raw" / "A").iterdir())) == 12


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_loses_nothing(data_root, http_server):
    handler = fault_handler(delay=0.03)
    srv = http_server(handler)
    n = 240
    urls = _url_file(data_root, srv, [f"/img/k{i}.jpg" for i in range(n)])
    args = ["--domain", "B", "--urls", str(urls), "--workers", "4", "--no-progress", *PRIVATE]
    raw = data_root / "clitest" / "raw"
    proc = _sakura(args, data_root)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            db = sqlite3.connect(RawLayout(raw).manifest, timeout=5)
            rows = db.execute("SELECT url, fetched_at FROM images WHERE status='ok'").fetchall()
            db.close()
        except sqlite3.OperationalError:
            continue
        if len(rows) >= 40:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    db = sqlite3.connect(RawLayout(raw).manifest)
    ok_before = dict(db.execute("SELECT url, fetched_at FROM images WHERE status='ok'").fetchall())
    paths = [r[0] for r in db.execute("SELECT path FROM images WHERE status='ok'")]
    db.close()
    assert 40 <= len(ok_before) < n
    for f in (raw / "B").iterdir():  # only complete, content-named files are visible
        assert f.name == f"{check_image(f.read_bytes()).sha256}.jpg"
    assert all((raw / p).is_file() for p in paths)

    rerun = _sakura(args, data_root)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    db = sqlite3.connect(RawLayout(raw).manifest)
    rows = db.execute("SELECT url, status, fetched_at FROM images").fetchall()
    assert len(rows) == n and {r[1] for r in rows} == {"ok"}
    assert all(dict((u, t) for u, _s, t in rows)[u] == t for u, t in ok_before.items())  # finished rows kept
    assert all(handler.hits[u.split(srv.base_url)[1]] == 1 for u in ok_before)  # never refetched
    assert len(list((raw / "B").iterdir())) == n
    assert list((raw / ".partial").iterdir()) == []


@pytest.mark.browser
def test_every_search_is_a_row_with_its_shortfall_and_a_block_is_said_once(data_root):
    (data_root / "domains.toml").write_text(DOMAINS.replace('"tree lined street"', '"blockme please"'))
    srv = serve(replica_handler("google", "json", n_results=12))
    try:
        args = ["--google-url", srv.base_url, "--per-query", "20", "--scroll-pause", "0.2", "--load-attempts", "2",
                "--fallback-engine", "none", "--no-progress", *PRIVATE]  # fmt: skip
        proc = _sakura(args, data_root)
        out, err = proc.communicate(timeout=180)
    finally:
        srv.close()
    assert proc.returncode == 0, err
    rows = {line.split()[2]: line for line in out.splitlines()[1:4]}
    assert set(rows) == {"가로수길", "blockme", "벚꽃길"}  # every search, not only the failed one
    assert rows["가로수길"].split()[3:10] == ["ok", "json:12", "20", "12", "12", "0", "0"]
    assert rows["가로수길"].rstrip().endswith("found 12 of 20: end of results (the page says so, or no more-results "
                                              "control and loading brought nothing new)")  # fmt: skip
    assert "blocked" in rows["blockme"].split() and rows["blockme"].endswith("no CAPTCHA attempted")
    assert err.count("unusual-traffic page") == 1  # the block's message (with its advice) once
    assert "3 of 3 searches fell short" in out


@pytest.mark.browser
def test_a_blocked_google_continues_on_bing_for_the_rest_of_the_run(data_root):
    (data_root / "domains.toml").write_text(DOMAINS.replace('"가로수길", "tree lined street"', '"blockme"'))
    google, bing = serve(replica_handler("google", n_results=6)), serve(replica_handler("bing", n_results=6, block=""))
    try:
        args = ["--google-url", google.base_url, "--bing-url", bing.base_url, "--per-query", "4", "--scroll-pause",
                "0.2", "--no-progress", *PRIVATE]  # fmt: skip
        proc = _sakura(args, data_root)
        out, err = proc.communicate(timeout=180)
    finally:
        google.close()
        bing.close()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[1].split()[:5] == ["A", "bing", "(for", "google)", "blockme"]
    assert lines[1].endswith("google blocked: continued on bing")
    assert lines[2].split()[:4] == ["B", "bing", "(for", "google)"]  # every later search went straight to bing
    assert err.count("continuing on bing for the rest of this scrape") == 1
    assert "images held now (A: 4, B: 4)" in out


@pytest.mark.slow
@pytest.mark.browser
def test_kill_9_during_a_browser_scrape_leaves_no_browser_no_partial_file_no_lost_row(data_root):
    import tempfile
    import uuid

    from tests.support.browser import live_processes_with_env

    base = replica_handler("google", "json", n_results=30)

    class SlowImages(base):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/img/"):
                time.sleep(0.25)
            super().do_GET()

    srv = serve(SlowImages)
    tmp, mark = Path(tempfile.mkdtemp(prefix="sk-", dir="/tmp")), uuid.uuid4().hex
    env = {"TMPDIR": str(tmp), "SAKURA_TEST_MARK": mark}
    args = ["--google-url", srv.base_url, "--per-query", "30", "--scroll-pause", "0.2", "--workers", "2",
            "--per-host", "2", "--no-progress", "--fallback-engine", "none", *PRIVATE]  # fmt: skip
    raw = data_root / "clitest" / "raw"
    try:
        proc = _sakura(args, data_root, env)
        ok_rows = lambda: _ok_rows(raw)  # noqa: E731
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and len(ok_rows()) < 8:
            time.sleep(0.1)
        browsers = {c for _, c in live_processes_with_env("SAKURA_TEST_MARK", mark)}
        assert {"chromium", "chromedriver"} <= browsers, browsers  # killed while the browser runs
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
        committed = dict(ok_rows())
        assert 8 <= len(committed) < 90
        gone = _poll(lambda: not live_processes_with_env("SAKURA_TEST_MARK", mark))
        assert gone, live_processes_with_env("SAKURA_TEST_MARK", mark)  # no chromium, no chromedriver
        assert _poll(lambda: not list(tmp.glob("sakura-chrome-*")))  # nor its profile
        for f in (raw / "A").iterdir():  # only complete, content-named files are visible
            assert f.name == f"{check_image(f.read_bytes()).sha256}.jpg"
        rerun = _sakura(args, data_root, env)
        out, err = rerun.communicate(timeout=180)
        assert rerun.returncode == 0, err
        after = dict(_ok_rows(raw))
        assert all(after[u] == t for u, t in committed.items())  # no committed row lost or redone
        assert len(after) == 90 and len(list((raw / "A").iterdir())) == 60  # 3 queries of 30
        assert list((raw / ".partial").iterdir()) == []
    finally:
        srv.close()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def _ok_rows(raw: Path) -> list[tuple[str, str]]:
    try:
        db = sqlite3.connect(RawLayout(raw).manifest, timeout=5)
        try:
            return db.execute("SELECT url, fetched_at FROM images WHERE status='ok'").fetchall()
        finally:
            db.close()
    except sqlite3.OperationalError:
        return []


def _poll(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        time.sleep(0.05)
    return cond()


def test_missing_chromedriver_is_one_clear_error(data_root, monkeypatch, capsys):
    monkeypatch.setenv("SAKURA_CHROMEDRIVER", str(data_root / "no-such-chromedriver"))
    assert main(["scrape", "--domain", "A", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "is not an executable" in err and "apt-get install -y chromium chromium-driver" in err
