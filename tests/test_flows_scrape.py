"""The scrape flow in-process: fan-out on a Dask cluster of two workers, and parameter validation."""

from __future__ import annotations

import sqlite3
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
from prefect.exceptions import ParameterTypeError

from core.config import ConfigError, load_domains
from core.paths import PROJECT_ROOT
from flows.runners import task_runner
from sakura.demo import start_demo_source
from scraper.config import ScrapeConfig
from tests.support.flows_serve import run_deployment, run_logs, serve_log_tail, task_states


@pytest.mark.prefect
@pytest.mark.browser
@pytest.mark.slow
def test_scrape_flow_runs_unchanged_on_dask_with_two_workers(served):
    from prefect_dask import DaskTaskRunner

    from flows.scrape import scrape_flow

    runner = task_runner("dask", dask_workers=2)
    assert isinstance(runner, DaskTaskRunner)
    demo = start_demo_source(load_domains(PROJECT_ROOT / "datasets" / "domains.toml"))
    try:
        summary = scrape_flow.with_options(task_runner=runner)(
            dataset="dask",
            engine_url=demo.url,
            searches_per_minute=600,
            scrape=ScrapeConfig(
                per_query_limit=7,
                per_domain_limit=8,
                allow_private_networks=("127.0.0.1/32",),
                max_preview_clicks=0,
                scroll_pause=0.1,
            ),
        )
    finally:
        demo.close()
    assert summary.stored_per_domain == {"A": 8, "B": 8}, summary.queries
    with sqlite3.connect(served.data_root / "dask" / "raw" / "manifest.sqlite") as db:
        searches = db.execute("SELECT domain, status FROM searches ORDER BY id").fetchall()
    # 7 + 1 fill each domain: its third query is not searched (the scraper's one sequence, as `sakura scrape`)
    assert searches == [("A", "ok"), ("A", "ok"), ("B", "ok"), ("B", "ok")]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"engine": "yahoo"}, "engine"),
        ({"per_query_limit": 0}, "per_query_limit"),
        ({"no_such_setting": 1}, "no_such_setting"),
        ({"allow_private_networks": ["not-a-network"]}, "allow_private_networks"),
    ],
)
def test_the_flow_validates_its_scrape_section(value, field):
    from flows.scrape import scrape_flow

    with pytest.raises(ParameterTypeError, match=field):
        scrape_flow.validate_parameters({"scrape": value})


@pytest.mark.parametrize("value", [0, -3, "6", 1.5])
def test_searches_per_minute_is_a_positive_integer(value):
    from flows.pipeline import collect_and_train
    from flows.scrape import scrape_flow

    for flow in (scrape_flow, collect_and_train):
        with pytest.raises(ParameterTypeError, match="searches_per_minute"):
            flow.validate_parameters({"searches_per_minute": value})


def test_engine_url_points_the_chosen_engine_at_the_url():
    cfg = ScrapeConfig(engine="bing", workers=3).with_engine_url("http://127.0.0.1:9")
    assert (cfg.bing_url, cfg.google_url != cfg.bing_url, cfg.workers) == ("http://127.0.0.1:9", True, 3)
    assert ScrapeConfig().with_engine_url(None) == ScrapeConfig()
    assert cfg.allow_private_networks == ("127.0.0.1/32",)  # the replica's images come from that address too
    assert ScrapeConfig().with_engine_url("https://images.example.org").allow_private_networks == ()


def test_task_runner_setting_is_validated(monkeypatch):
    monkeypatch.setenv("SAKURA_TASK_RUNNER", "ray")
    with pytest.raises(ConfigError, match="SAKURA_TASK_RUNNER"):
        task_runner()


class _Gate(BaseHTTPRequestHandler):
    """An engine address that is down for some queries (503) and otherwise redirects to the demo source."""

    target = ""
    down: set[str] = set()

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        query = parse_qs(parts.query).get("q", [""])[0]
        if parts.path == "/search" and ("*" in self.down or query in self.down):
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"<html><body>Service unavailable</body></html>")
            return
        self.send_response(307)
        self.send_header("Location", self.target + self.path)
        self.end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


def _search_states(run_id: str) -> dict[str, str]:
    return {n: s for n, s in task_states(run_id).items() if n.startswith("search-")}


@pytest.mark.prefect
@pytest.mark.browser
@pytest.mark.slow
def test_failed_searches_are_never_cached_and_all_failed_is_a_failed_run(served, http_server):
    spec = load_domains(PROJECT_ROOT / "datasets" / "domains.toml")
    b_queries = {q.text for q in spec.domain("B").queries}
    demo = start_demo_source(spec)
    gate = type("Gate", (_Gate,), {"target": demo.url, "down": set()})
    engine = http_server(gate).base_url
    scrape = {"per_query_limit": 4, "per_domain_limit": 40, "allow_private_networks": ["127.0.0.1/32"],
              "max_preview_clicks": 0, "scroll_pause": 0.1}  # fmt: skip
    params = {"dataset": "flaky", "engine_url": engine, "searches_per_minute": 600, "scrape": scrape}
    try:
        proc, first = run_deployment("scrape/default", params, timeout_s=300)
        assert proc.returncode == 0, serve_log_tail(served)
        assert set(_search_states(first).values()) == {"Completed"}

        gate.down = set(b_queries)  # B's engine is down; A's searches and the images already held are fine
        again = {**params, "scrape": {**scrape, "per_query_limit": 5}}
        proc, second = run_deployment("scrape/default", again, timeout_s=300)
        assert proc.returncode == 0, serve_log_tail(served)
        states = _search_states(second)
        assert {s for n, s in states.items() if n.startswith("search-B")} == {"Failed"}, states
        assert {s for n, s in states.items() if n.startswith("search-A")} == {"Completed"}, states
        # each failed search's shortfall is logged once, by the scraper's own logger (an extra logger of Prefect's)
        warned = [(r.name, r.message) for r in run_logs(second) if r.level == 30 and r.message.startswith("B ")]
        assert len(warned) == len(b_queries) and {n for n, _ in warned} == {"scraper.pipeline"}, warned

        gate.down = set()  # back up: the same run again searches exactly what failed and reuses what did not
        proc, third = run_deployment("scrape/default", again, timeout_s=300)
        assert proc.returncode == 0, serve_log_tail(served)
        states = _search_states(third)
        assert {s for n, s in states.items() if n.startswith("search-B")} == {"Completed"}, states
        assert {s for n, s in states.items() if n.startswith("search-A")} == {"Cached"}, states

        gate.down = {"*"}  # every search fails: a failed run, although the raw folder holds images
        proc, fourth = run_deployment("scrape/default", {**params, "scrape": {**scrape, "per_query_limit": 6}})
        assert proc.returncode != 0
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            state = client.read_flow_run(fourth).state
        assert state.is_failed() and "every search failed (6 of 6)" in state.message, state.message
        assert len(state.message.splitlines()) <= 3
    finally:
        demo.close()


SEQUENCE_DOMAINS = """name = "seq-cli"
[domains.A]
label = "street trees"
queries = [{ q = "blockme first", hl = "en" }, { q = "tree street", hl = "en" }, { q = "full by now", hl = "en" }]
[domains.B]
label = "cherry blossoms"
queries = [{ q = "벚꽃길", hl = "ko" }]
"""


def _manifest(path) -> tuple[list, list]:
    with sqlite3.connect(path) as db:
        searches = db.execute("SELECT domain, query, engine, status, found, asked, stop, fallback_from, "
                              "fallback_reason FROM searches ORDER BY id").fetchall()  # fmt: skip
        images = db.execute("SELECT domain, url, status, query, engine, rank, page_url, title FROM images "
                            "ORDER BY domain, url").fetchall()  # fmt: skip
    return searches, images


@pytest.mark.prefect
@pytest.mark.browser
def test_the_cli_and_the_flow_run_one_scrape_sequence(prefect_server, http_server, tmp_path, monkeypatch, capsys):
    """Google blocks the first search: the fallback (Bing) serves every later search of the run, Google is not asked
    again, a domain full before a search is not searched; `sakura scrape` and the flow leave the same manifest and
    say the same summary."""
    from flows.scrape import scrape_flow
    from sakura.cli import main
    from scraper.cli import summary_table
    from tests.support.scraper_replica import replica_handler

    asked_google = replica_handler("google", n_results=12, block="blockme")
    google, bing = http_server(asked_google), http_server(replica_handler("bing", n_results=12, block=""))
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path))
    domains = tmp_path / "domains.toml"
    domains.write_text(SEQUENCE_DOMAINS, encoding="utf-8")
    settings = {"google_url": google.base_url, "bing_url": bing.base_url, "fallback_engine": "bing",
                "per_query_limit": 5, "per_domain_limit": 10, "allow_private_networks": ["127.0.0.1/32"],
                "scroll_pause": 0.2, "load_attempts": 2, "max_preview_clicks": 0, "workers": 4}  # fmt: skip
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items() if k != "allow_private_networks"]
    code = main(["scrape", "--domains", str(domains), "--no-progress", *flags, "--allow-private-network=127.0.0.1/32"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    flow_result = scrape_flow(domains_file=str(domains), dataset="seq-flow", searches_per_minute=600,
                              scrape=ScrapeConfig(**settings))  # fmt: skip

    cli, flow = _manifest(tmp_path / "seq-cli" / "raw" / "manifest.sqlite"), _manifest(flow_result.manifest)
    assert [s[:4] + s[7:] for s in cli[0]] == [
        ("A", "blockme first", "google", "blocked", None, None),
        ("A", "blockme first", "bing", "ok", "google", "blocked"),
        ("A", "tree street", "bing", "ok", "google", "blocked earlier in this scrape"),
        ("B", "벚꽃길", "bing", "ok", "google", "blocked earlier in this scrape"),
    ]  # google once; "full by now" not searched: A held its 10 before it
    assert cli == flow
    assert summary_table(flow_result) in printed
    assert flow_result.stored_per_domain == {"A": 10, "B": 5}
    assert sum(p.startswith("/search") for p in asked_google.log) == 2  # once by each
