"""The scrape flow in-process: fan-out on a Dask cluster of two workers, and parameter validation."""

from __future__ import annotations

import sqlite3

import pytest

from flows.runners import task_runner
from flows.scrape import scrape_config
from sakura.config import ConfigError, load_domains
from sakura.demo import start_demo_source
from sakura.paths import PROJECT_ROOT


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
            per_query_limit=7,
            per_domain_limit=8,
            allow_private_networks=["127.0.0.1/32"],
            searches_per_minute=600,
            options={"max_preview_clicks": 0, "scroll_pause": 0.1},
        )
    finally:
        demo.close()
    assert summary["images"] == {"A": 8, "B": 8}, summary["queries"]
    with sqlite3.connect(served.data_root / "dask" / "raw" / "manifest.sqlite") as db:
        searches = db.execute("SELECT domain, status FROM searches").fetchall()
    assert len(searches) == 6 and {s for _, s in searches} == {"ok"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"engine": "yahoo"}, "engine"),
        ({"per_query_limit": 0}, "per_query_limit"),
        ({"options": {"no_such_setting": 1}}, "ScrapeConfig options"),
        ({"allow_private_networks": ["not-a-network"]}, "allow_private_networks"),
    ],
)
def test_scrape_config_rejects_bad_parameters(kwargs, field):
    base = dict(
        engine="google",
        engine_url=None,
        per_query_limit=10,
        per_domain_limit=None,
        headed=False,
        allow_private_networks=None,
        options=None,
    )
    with pytest.raises(ConfigError, match=field):
        scrape_config(**{**base, **kwargs})


def test_scrape_config_points_the_chosen_engine_at_the_url():
    cfg = scrape_config("bing", "http://127.0.0.1:9", 5, 20, False, ["127.0.0.1/32"], {"workers": 3})
    assert (cfg.bing_url, cfg.google_url != cfg.bing_url, cfg.workers) == ("http://127.0.0.1:9", True, 3)
    assert cfg.allow_private_networks == ("127.0.0.1/32",) and cfg.per_domain_limit == 20


def test_task_runner_setting_is_validated(monkeypatch):
    monkeypatch.setenv("SAKURA_TASK_RUNNER", "ray")
    with pytest.raises(ConfigError, match="SAKURA_TASK_RUNNER"):
        task_runner()
