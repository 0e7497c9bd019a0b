"""collect-and-train and scrape as served deployments on a real Prefect server, against the local demo source."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from tests.support.flows_serve import TINY, run_deployment, serve_log_tail, task_states
from tests.support.net import free_port

pytestmark = [pytest.mark.prefect, pytest.mark.browser, pytest.mark.slow]


def _ok_rows(raw: Path) -> dict[str, str]:
    with sqlite3.connect(raw / "manifest.sqlite") as db:
        return dict(db.execute("SELECT url, fetched_at FROM images WHERE status = 'ok'").fetchall())


def test_collect_and_train_then_scrape_rerun_then_cached(served, demo):
    params = {**TINY, "dataset": "pipe", "engine_url": demo.url}
    first, run1 = run_deployment("collect-and-train/default", params)
    assert first.returncode == 0, serve_log_tail(served)
    ds = served.data_root / "pipe"
    for split, domain in [("train", "A"), ("train", "B"), ("test", "A"), ("test", "B")]:
        assert any((ds / split / domain).iterdir()), f"{split}/{domain} is empty"
    (run_dir,) = (ds / "runs").iterdir()
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert (run_dir / "metrics.json").is_file()
    assert any((run_dir / "translations" / "A2B").iterdir()) and any((run_dir / "translations" / "B2A").iterdir())
    states = task_states(run1)
    assert {states[n] for n in ("curate-dataset", "train-model", "translate-test-set")} == {"Completed"}

    # Rerun only the scrape step, asking for more: new images come in, nothing already collected is fetched again.
    before = _ok_rows(ds / "raw")
    scrape = {k: params[k] for k in ("dataset", "engine_url", "searches_per_minute")}
    scrape["scrape"] = {**params["scrape"], "per_query_limit": 10, "per_domain_limit": 20}
    more, _ = run_deployment("scrape/default", scrape)
    assert more.returncode == 0, serve_log_tail(served)
    after = _ok_rows(ds / "raw")
    assert len(after) > len(before)
    assert all(after[url] == fetched_at for url, fetched_at in before.items())
    fetched = Counter(p for p in demo.requests if p.startswith("/img/"))
    assert max(fetched.values()) == 1, [p for p, n in fetched.items() if n > 1]

    # Same parameters again: each domain already holds its limit, so the one scrape sequence searches nothing (no
    # search or download task runs, none is asked of the engine); the steps after it see new raw images and run.
    searched = sum(1 for p in demo.requests if p.startswith("/search"))
    second, run2 = run_deployment("collect-and-train/default", params)
    assert second.returncode == 0, serve_log_tail(served)
    states = task_states(run2)
    scrape_steps = {n: s for n, s in states.items() if n.startswith(("search-", "download-"))}
    assert not scrape_steps, scrape_steps
    assert sum(1 for p in demo.requests if p.startswith("/search")) == searched
    assert states["curate-dataset"] == "Completed" and states["train-model"] == "Completed"

    # Nothing changed: every step is Cached; force names the ones to redo.
    third, run3 = run_deployment("collect-and-train/default", {**params, "force": ["translate"]})
    assert third.returncode == 0, serve_log_tail(served)
    states = task_states(run3)
    assert states["curate-dataset"] == "Cached" and states["train-model"] == "Cached", states
    assert states["translate-test-set"] == "Completed"


def test_scrape_without_a_reachable_engine_fails_clearly(served):
    from prefect.client.orchestration import get_client

    dead = f"http://127.0.0.1:{free_port()}"
    params = {
        "dataset": "offline",
        "engine_url": dead,
        "scrape": {**TINY["scrape"], "per_query_limit": 2},
        "searches_per_minute": 600,
    }
    proc, run_id = run_deployment("scrape/default", params, timeout_s=300)
    assert proc.returncode != 0
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state.is_failed()
    message = str(state.message)
    assert "no images for domain(s) A, B" in message and "make demo" in message, message


def test_make_run_offline_says_each_failure_once_in_time_order_and_points_at_make_demo(served, capsys):
    # What `make run` prints without internet: every search fails on name resolution.
    from sakura.run import _start_and_watch

    params = {**TINY, "dataset": "no-net", "engine_url": "http://images.sakura-test.invalid"}
    assert _start_and_watch(served.cfg, params, watch=True) == 1
    out, err = capsys.readouterr()  # the failure goes to stderr, printed last
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert lines[-1].startswith("offline?") and "`make demo`" in lines[-1], lines
    said = [line.split("] ", 1)[1].strip() for line in lines if line.startswith("[")]
    assert len(said) == len(set(said)) and not any("Encountered exception" in line for line in lines), lines
    stamps = [line[1:9] for line in lines if line.startswith("[")]
    assert stamps == sorted(stamps), lines  # in time order
    debug = str(served.data_root / "no-net" / "raw" / "debug" / "flow")
    cut = [line for line in lines if "saved to" in line and not line.rstrip(" .").endswith(debug)]
    assert not cut, cut  # a path is never cut
    assert sum("ERR_NAME_NOT_RESOLVED" in line for line in lines) == 6 + 1, lines  # 6 searches, and the first cause


def test_a_failed_run_under_prefect_watch_says_its_first_cause_in_one_line(served):
    from prefect.client.orchestration import get_client

    proc, run_id = run_deployment("collect-and-train/default", {"domains_file": "/nonexistent/domains.toml"}, 120)
    assert proc.returncode == 1
    out = " ".join(proc.stdout.split())  # rich wraps long lines
    assert "ConfigError: /nonexistent/domains.toml: domains file not found" in out and "Traceback" not in out, out
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state.message == "Flow run encountered an exception: ConfigError: /nonexistent/domains.toml: domains " \
        "file not found"  # fmt: skip
