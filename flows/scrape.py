"""The `scrape` flow: search each (domain, query) as its own task, then download, keeping what is collected."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.concurrency.sync import rate_limit
from prefect.tasks import exponential_backoff

from flows.artifacts import table_rows
from flows.limits import SEARCH_LIMIT, ensure_rate_limit
from flows.runners import task_runner
from flows.steps import CONTENT_CACHE, build_config
from sakura.config import DatasetSpec, Query, load_domains, query_language
from sakura.paths import default_domains_file
from scraper import Downloader, ScrapeConfig, SearchOutcome, Store, download_candidates, make_engine, search_query

Domain = Literal["A", "B"]
SEARCH_CACHE = timedelta(hours=24)


class ScrapeFailed(RuntimeError):
    """A domain ended the scrape with no images at all; the message lists what each query reported."""


def dataset_spec(domains_file: str | None, dataset: str | None) -> DatasetSpec:
    """The domains file's spec, renamed to `dataset` when given."""
    spec = load_domains(domains_file or default_domains_file())
    return dataclasses.replace(spec, name=dataset) if dataset else spec


def scrape_config(
    engine: str,
    engine_url: str | None,
    per_query_limit: int,
    per_domain_limit: int | None,
    headed: bool,
    allow_private_networks: list[str] | None,
    options: dict[str, Any] | None,
) -> ScrapeConfig:
    """A validated ScrapeConfig from the flow's parameters (unknown option names fail with the allowed ones)."""
    url_field = "bing_url" if engine == "bing" else "google_url"
    private = tuple(allow_private_networks) if allow_private_networks else None
    return build_config(
        ScrapeConfig,
        options,
        engine=engine,
        per_query_limit=per_query_limit,
        headed=headed,
        per_domain_limit=per_domain_limit,
        allow_private_networks=private,
        **{url_field: engine_url},
    )


@task(
    name="search",
    task_run_name="search-{domain}-{query.text}",
    cache_policy=CONTENT_CACHE,
    cache_expiration=SEARCH_CACHE,
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),
    retry_jitter_factor=0.5,
)
def search_task(cfg: ScrapeConfig, dataset: str, domain: str, query: Query) -> SearchOutcome:
    """Search one query in a fresh browser (blocked / empty are outcomes, browser failures raise and are retried)."""
    rate_limit(SEARCH_LIMIT, strict=False)
    with Store(cfg.raw_dir(dataset), fsync=cfg.fsync) as store:
        debug_dir = store.debug_dir("flow")
    engine = make_engine(cfg, debug_dir=debug_dir)
    try:
        outcome = search_query(engine, domain, query, cfg.per_query_limit)
    finally:
        engine.close()
    get_run_logger().info("%s %r: %s, %d candidates", domain, query.text, outcome.status, len(outcome.candidates))
    return outcome


@task(
    name="download",
    task_run_name="download-{domain}-{query}",
    cache_policy=CONTENT_CACHE,
    cache_expiration=SEARCH_CACHE,
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
)
def download_task(cfg: ScrapeConfig, dataset: str, domain: str, query: str, outcome: SearchOutcome) -> dict[str, int]:
    """Download one query's candidates into the dataset's raw store; return this run's statuses."""
    with Store(cfg.raw_dir(dataset), fsync=cfg.fsync) as store:
        store.record_search(domain, query, cfg.engine, outcome)
        left = None if cfg.per_domain_limit is None else max(0, cfg.per_domain_limit - store.count(domain))
        if left == 0:
            return {}
        fetcher = Downloader(cfg)
        try:
            statuses = download_candidates(cfg, store, outcome.candidates, fetcher, limit=left)
        finally:
            fetcher.close()
    get_run_logger().info("%s %r: %s", domain, query, dict(statuses))
    return dict(statuses)


def _queries(spec: DatasetSpec, key: str, override: list[str] | None) -> list[Query]:
    if override:
        return [Query(text=q, hl=query_language(q)) for q in override]
    return list(spec.domain(key).queries)


@flow(name="scrape", log_prints=True, task_runner=task_runner())
def scrape_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    domains: list[Domain] | None = None,
    queries_a: list[str] | None = None,
    queries_b: list[str] | None = None,
    per_query_limit: int = 100,
    per_domain_limit: int | None = 300,
    engine: Literal["google", "bing"] = "google",
    engine_url: str | None = None,
    headed: bool = False,
    allow_private_networks: list[str] | None = None,
    searches_per_minute: int = 6,
    options: dict[str, Any] | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """Collect images for each domain: one search task per query (rate-limited, retried), then downloads.

    Images already collected stay; URLs already settled are not fetched again. Searches and downloads with
    the same inputs within a day are not repeated (Cached); `refresh` repeats them. Fails only when a domain
    has no images at all afterwards, with what each query reported.
    """
    spec = dataset_spec(domains_file, dataset)
    cfg = scrape_config(engine, engine_url, per_query_limit, per_domain_limit, headed, allow_private_networks, options)
    keys = list(domains or ["A", "B"])
    overrides = {"A": queries_a, "B": queries_b}
    ensure_rate_limit(SEARCH_LIMIT, per_minute=searches_per_minute)
    jobs = [(k, q) for k in keys for q in _queries(spec, k, overrides[k])]
    search, download = (t.with_options(refresh_cache=refresh) for t in (search_task, download_task))
    searches = [search.submit(cfg, spec.name, k, q) for k, q in jobs]
    rows, statuses = [], Counter()
    previous: dict[str, Any] = {}
    downloads = []
    for (key, query), searched in zip(jobs, searches, strict=True):
        # Downloads of one domain run one after another (the per-domain limit), the two domains side by side.
        fut = download.submit(
            cfg, spec.name, key, query.text, searched, wait_for=[previous[key]] if key in previous else []
        )
        previous[key] = fut
        downloads.append((key, query, searched, fut))
    for key, query, searched, fut in downloads:
        outcome, got = searched.result(), fut.result()
        statuses.update(got)
        failed = sum(v for s, v in got.items() if s not in ("ok", "duplicate"))
        rows.append(
            {
                "domain": key,
                "query": query.text,
                "search": outcome.status,
                "found": len(outcome.candidates),
                "stored": got.get("ok", 0),
                "failed": failed,
                "message": outcome.message,
            }
        )
    with Store(cfg.raw_dir(spec.name), fsync=cfg.fsync) as store:
        per_domain = {k: store.count(k) for k in keys}
    create_table_artifact(key="scrape-queries", table=table_rows(rows), description=f"Scrape of {spec.name}: per query")
    summary = {
        "dataset": spec.name,
        "raw_dir": str(cfg.raw_dir(spec.name)),
        "images": per_domain,
        "statuses": dict(statuses),
        "queries": rows,
    }
    empty = [k for k in keys if per_domain[k] == 0]
    if empty:
        said = "; ".join(f"{r['domain']} {r['query']!r}: {r['search']} ({r['message']})" for r in rows)
        raise ScrapeFailed(
            f"no images for domain(s) {', '.join(empty)} in {cfg.raw_dir(spec.name)}. The searches said: {said}. "
            "Without internet access the search engines cannot be reached: `make demo` runs the same pipeline "
            "on a local image source."
        )
    print(f"collected: {per_domain} in {cfg.raw_dir(spec.name)}")
    return summary
