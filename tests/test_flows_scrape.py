"""The scrape flow in-process: fan-out on a Dask cluster of two workers, and parameter validation."""

from __future__ import annotations

import sqlite3

import pytest
from prefect.exceptions import ParameterTypeError

from core.config import ConfigError, load_domains
from core.paths import PROJECT_ROOT
from flows.runners import task_runner
from sakura.demo import start_demo_source
from scraper.config import ScrapeConfig


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
    assert summary["images"] == {"A": 8, "B": 8}, summary["queries"]
    with sqlite3.connect(served.data_root / "dask" / "raw" / "manifest.sqlite") as db:
        searches = db.execute("SELECT domain, status FROM searches").fetchall()
    assert len(searches) == 6 and {s for _, s in searches} == {"ok"}


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


def test_engine_url_points_the_chosen_engine_at_the_url():
    cfg = ScrapeConfig(engine="bing", workers=3).with_engine_url("http://127.0.0.1:9")
    assert (cfg.bing_url, cfg.google_url != cfg.bing_url, cfg.workers) == ("http://127.0.0.1:9", True, 3)
    assert ScrapeConfig().with_engine_url(None) == ScrapeConfig()


def test_task_runner_setting_is_validated(monkeypatch):
    monkeypatch.setenv("SAKURA_TASK_RUNNER", "ray")
    with pytest.raises(ConfigError, match="SAKURA_TASK_RUNNER"):
        task_runner()
