"""The `scrape` flow: search each (domain, query) as its own task, then download, keeping what is collected."""

from __future__ import annotations

import functools
from datetime import timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.concurrency.sync import rate_limit
from prefect.tasks import exponential_backoff

from core.config import DOMAIN_KEYS, DatasetSpec, Domain, Query, UserError, load_domains
from core.paths import default_domains_file
from core.settings import PositiveInt
from flows.artifacts import table_rows
from flows.limits import SEARCH_LIMIT, ensure_rate_limit
from flows.runners import task_runner
from flows.steps import CONTENT_CACHE, SEARCHES_PER_MINUTE
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.fetch import Downloader
from scraper.pipeline import collect, plan, remaining, summarize
from scraper.records import QueryResult, ScrapeResult, SearchOutcome
from scraper.report import clip, domain_lines, download_text, query_row
from scraper.search import Engines
from scraper.sequence import EngineState, run_searches
from scraper.store import Store

SEARCH_CACHE = timedelta(hours=24)
FLOW_RUN = "flow"  # the scrape flow's searches keep their debug files under raw/debug/flow/


class ScrapeFailed(RuntimeError, UserError):
    """Every search failed, or a domain ended the scrape with no images at all (the message says which, briefly)."""


class SearchFailed(RuntimeError, UserError):
    """A search that did not succeed (blocked, error, nothing found): its task fails, so it is never cached and the
    next run searches again."""

    def __init__(self, outcome: SearchOutcome) -> None:
        super().__init__(f"{outcome.status}: {outcome.message}")
        self.outcome = outcome

    def __reduce__(self):  # the outcome travels with the exception (Dask workers, Prefect's stored results)
        return type(self), (self.outcome,)


def _retry_crashes(task, task_run, state) -> bool:
    """Retry a search whose browser failed; a blocked or empty result would only come back the same at once."""
    return not isinstance(state.result(raise_on_failure=False), SearchFailed)


def dataset_spec(domains_file: str | None, dataset: str | None) -> DatasetSpec:
    """The domains file's spec, renamed to `dataset` when given."""
    spec = load_domains(domains_file or default_domains_file())
    return spec.replace(name=dataset) if dataset else spec


# Both scrape steps: cached by what they were given (for SEARCH_CACHE), retried twice with growing pauses.
STEP = dict(cache_policy=CONTENT_CACHE, cache_expiration=SEARCH_CACHE, retries=2)


@task(
    name="search",
    task_run_name="search-{domain}-{query.text}-{engine}",
    retry_delay_seconds=exponential_backoff(backoff_factor=10),
    retry_jitter_factor=0.5,
    retry_condition_fn=_retry_crashes,
    **STEP,
)
def search_task(cfg: ScrapeConfig, dataset: str, engine: str, domain: str, query: Query) -> SearchOutcome:
    """Search one query on `engine` in a fresh browser. Only a search that found candidates completes (and is cached);
    a blocked, empty or failed one raises SearchFailed, and a browser failure is retried."""
    rate_limit(SEARCH_LIMIT, strict=False)
    with Store(cfg.raw_dir(dataset), fsync=cfg.fsync) as store:
        debug_dir = store.debug_dir(FLOW_RUN)
    with Engines(cfg, debug_dir) as engines:
        outcome = engines.search(engine, domain, query, cfg.per_query_limit)
    if outcome.status != R.OK or not outcome.candidates:
        raise SearchFailed(outcome)  # said once, by the download step that records it (scraper.pipeline's warning)
    get_run_logger().info("%s %r on %s: %d candidates", domain, query.text, engine, len(outcome.candidates))
    return outcome


def _outcome(searched, engine: str) -> SearchOutcome:
    """A search future's outcome: the task's result, or what the failed search said (never raises)."""
    result = searched.result(raise_on_failure=False)
    if isinstance(result, SearchFailed):
        return result.outcome
    if isinstance(result, BaseException):
        return SearchOutcome((), R.SEARCH_ERROR, f"{type(result).__name__}: {result}"[:500], engine=engine)
    return result


@task(
    name="download",
    task_run_name="download-{domain}-{query}",
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
    **STEP,
)
def download_task(cfg: ScrapeConfig, raw_dir: str, domain: str, query: str, outcome: SearchOutcome) -> QueryResult:
    """The scraper's per-query step on one search's outcome: record it, download into the raw store at `raw_dir`."""
    with Store(raw_dir, fsync=cfg.fsync) as store:
        fetcher = Downloader(cfg)
        try:
            result = collect(cfg, store, fetcher, outcome, domain, query, cfg.engine)
        finally:
            fetcher.close()
    said = download_text(result)
    if said:
        get_run_logger().info("%s %r: %s", domain, query, said)
    return result


def _queries(texts: list[str] | None) -> list[Query] | None:
    return [Query(text=q) for q in texts] if texts else None


@flow(name="scrape", log_prints=True, task_runner=task_runner())
def scrape_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    domains: list[Domain] | None = None,
    queries_a: list[str] | None = None,
    queries_b: list[str] | None = None,
    engine_url: str | None = None,
    searches_per_minute: PositiveInt = SEARCHES_PER_MINUTE,
    scrape: ScrapeConfig = ScrapeConfig(),
    refresh: bool = False,
) -> ScrapeResult:
    """Collect images for each domain by the scraper's one sequence (scraper.sequence.run_searches): each search a
    task (rate-limited, cached, retried), each search's downloads a task.

    `scrape` holds the scraper's settings; `engine_url` points the chosen engine at another base URL (a local
    replica). Images already collected stay; URLs already settled are not fetched again. Searches and downloads
    with the same inputs within a day are not repeated (Cached); `refresh` repeats them. Fails only when a domain
    has no images at all afterwards, with what each query reported.
    """
    spec = dataset_spec(domains_file, dataset)
    cfg = scrape.with_engine_url(engine_url)
    keys = list(domains or DOMAIN_KEYS)
    ensure_rate_limit(SEARCH_LIMIT, per_minute=searches_per_minute)
    jobs = plan(spec, keys, dict(zip(DOMAIN_KEYS, (_queries(queries_a), _queries(queries_b)), strict=True)))
    raw_dir = cfg.raw_dir(spec.name)
    search, download = (t.with_options(refresh_cache=refresh) for t in (search_task, download_task))

    def search_step(engine: str, domain: str, query: Query, limit: int) -> SearchOutcome:
        return _outcome(search.submit(cfg, spec.name, engine, domain, query), engine)

    def collect_step(outcome: SearchOutcome, domain: str, query: str) -> QueryResult:
        # a failed search still goes through its download step, which records it in the manifest (each time: a
        # cached one would leave the manifest without its row and the log without its warning)
        failed = outcome.status != R.OK or not outcome.candidates
        step = download.with_options(refresh_cache=True) if failed else download
        return step.submit(cfg, str(raw_dir), domain, query, outcome).result()

    with Store(raw_dir, fsync=cfg.fsync) as store:
        state = EngineState(cfg.engine, cfg.fallback_for())
        results = run_searches(jobs, cfg.per_query_limit, state, search_step, collect_step,
                               functools.partial(remaining, cfg, store))  # fmt: skip
        result = summarize(store, results, keys, run_id=FLOW_RUN)
    rows = [query_row(r) for r in results]
    create_table_artifact(key="scrape-queries", table=table_rows(rows), description=f"Scrape of {spec.name}: per query")
    if result.failed_outright:
        raise ScrapeFailed(_failure_message(spec.name, result))
    for line in domain_lines(results, result.stored_per_domain):
        print(line)
    print(
        f"collected: {result.stored_per_domain} in {raw_dir}; "
        f"{len(result.failed)} of {len(results)} searches failed (retried next run)"
    )
    return result


# Chromium's errors for a host it cannot reach at all: every search failing so means no network (or no engine).
UNREACHABLE = ("ERR_NAME_NOT_RESOLVED", "ERR_INTERNET_DISCONNECTED", "ERR_ADDRESS_UNREACHABLE",
               "ERR_CONNECTION_REFUSED", "ERR_CONNECTION_TIMED_OUT", "ERR_NETWORK_ACCESS_DENIED")  # fmt: skip
OFFLINE_HINT = "offline? no search engine could be reached: `make demo` runs the same pipeline on a local image source"


def _failure_message(dataset: str, result: ScrapeResult) -> str:
    """The first line says what failed and the first cause (what a watcher of the run's state shows); then where the
    details are; last, when no search reached its engine (name resolution, refused connection), the offline hint."""
    failed, n = result.failed, len(result.queries)
    what = f"every search failed ({len(failed)} of {n})" if len(failed) == n else ""
    if result.empty_domains:
        what = ", ".join(filter(None, [what, f"no images for domain(s) {', '.join(result.empty_domains)}"]))
    first = failed[0] if failed else None
    if first:
        what += f"; first: {first.domain} {first.query!r} on {first.engine}: {first.search_status}: {first.message}"
    lines = [clip(f"scrape of {dataset}: {what}", 400), "every search is in the table artifact 'scrape-queries'"]
    if failed and len(failed) == n and all(any(e in q.message for e in UNREACHABLE) for q in failed):
        lines.append(OFFLINE_HINT)
    return "\n".join(lines)
