"""The scrape: per domain and query, search -> candidates -> download -> store, resumable and with provenance."""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.config import ConfigError, DatasetSpec, Query
from core.items import ItemFailure, isolate
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.fetch import Downloader, iter_parallel
from scraper.records import Candidate, Counts, Fetched, Progress, QueryResult, ScrapeResult, SearchOutcome
from scraper.report import shortfall
from scraper.search import Engines, search_query
from scraper.sequence import run_searches
from scraper.sources import LOCAL_ENGINE, URL_LIST_ENGINE, LocalReader, folder_candidates, read_url_list
from scraper.store import Store, Stored

__all__ = ["collect", "download_candidates", "plan", "scrape", "search_query", "summarize"]
log = logging.getLogger(__name__)


@dataclass
class Downloads:
    """What one download step did: statuses of this run, and what it left alone."""

    statuses: Counter = field(default_factory=Counter)
    held: int = 0
    settled: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)


MAX_LISTED_ERRORS = 5


def download_candidates(
    cfg: ScrapeConfig,
    store: Store,
    cands: Sequence[Candidate],
    fetcher,
    counts: Counts | None = None,
    progress: Progress | None = None,
    limit: int | None = None,
) -> Counter:
    """Fetch the candidates not settled by earlier runs and store each result at once; statuses of this call.

    With `limit`, at most that many new ok files are stored; results beyond it stay pending for a later run.
    """
    return _download(cfg, store, cands, fetcher, counts, progress, limit).statuses


def _download(cfg, store: Store, cands, fetcher, counts, progress, limit) -> Downloads:
    """The download loop. Each URL is one item: any exception while fetching, validating or storing it becomes
    its status `error` (class and message in the manifest); the loop goes on. ConfigError still stops it."""
    counts = counts if counts is not None else Counts()
    out = Downloads()
    if not cands:
        return out
    store.add_found(list(cands))
    settled: dict[tuple[str, str], str] = {}
    for domain in {c.domain for c in cands}:
        settled |= {(domain, u): s for u, s in store.settled(domain, cfg.retry_failed).items()}
    todo = [c for c in cands if (c.domain, c.url) not in settled]
    before = [settled[(c.domain, c.url)] for c in cands if (c.domain, c.url) in settled]
    out.held, out.settled = before.count(R.OK), len(before) - before.count(R.OK)
    counts.skipped += len(before)
    slots = _Slots(limit)

    def fetch_and_put(c: Candidate) -> Stored | None:
        fetched = isolate(fetcher.fetch, c)
        if isinstance(fetched, ItemFailure):
            fetched = Fetched(c, R.ERROR, f"fetching: {fetched}", fetched_at=R.utc_now())
        if fetched.ok and not slots.take():
            return None  # over the limit: nothing stored, the row stays pending for a later run
        stored = isolate(store.put, fetched)  # file writes (and fsyncs) run in the fetch threads, in parallel
        if isinstance(stored, ItemFailure):
            fetched = Fetched(c, R.ERROR, f"storing: {stored}", fetched.http_status, fetched_at=R.utc_now())
            stored = Stored(fetched, R.ERROR, fetched.error, None)
        if fetched.ok and stored.status != R.OK:
            slots.give_back()
        return stored

    order = {(c.domain, c.url): i for i, c in enumerate(todo)}
    errors: list[tuple[int, str]] = []
    feed = (c for c in todo if not slots.exhausted)
    for done in iter_parallel(fetch_and_put, feed, cfg.workers):
        if done is None:
            continue
        status = _commit(store, done)
        out.statuses[status] += 1
        if status == R.ERROR:
            c = done.fetched.candidate
            line = f"{c.url[:200]}: {done.fetched.error}"
            log.warning("%s", line)
            errors.append((order[(c.domain, c.url)], line))
        counts.add(status)
        if progress:
            progress(counts)
    out.errors = [line for _, line in sorted(errors)[:MAX_LISTED_ERRORS]]  # the first in the candidates' order
    out.pending = len(todo) - sum(out.statuses.values())
    return out


def _commit(store: Store, done: Stored) -> str:
    """Commit one URL's row; a row that cannot be written becomes an error row (a manifest that takes none stops)."""
    result = isolate(store.commit, done)
    if not isinstance(result, ItemFailure):
        return result
    f = done.fetched
    error = Fetched(f.candidate, R.ERROR, f"recording: {result}", f.http_status, fetched_at=R.utc_now())
    return store.commit(Stored(error, R.ERROR, error.error, None))


class _Slots:
    """How many more ok files may be stored (None: no limit); taken in fetch threads, so the limit is exact."""

    def __init__(self, limit: int | None) -> None:
        self.left, self._lock = limit, threading.Lock()

    @property
    def exhausted(self) -> bool:
        return self.left is not None and self.left <= 0

    def take(self) -> bool:
        with self._lock:
            if self.left is None:
                return True
            if self.left <= 0:
                return False
            self.left -= 1
            return True

    def give_back(self) -> None:
        with self._lock:
            if self.left is not None:
                self.left += 1


def remaining(cfg: ScrapeConfig, store: Store, domain: str) -> int | None:
    """How many more images the domain may take under `per_domain_limit` (None: no limit)."""
    if cfg.per_domain_limit is None:
        return None
    return max(0, cfg.per_domain_limit - store.count(domain))


def collect(
    cfg: ScrapeConfig,
    store: Store,
    fetcher,
    outcome: SearchOutcome,
    domain: str,
    label: str,
    engine_name: str,
    counts: Counts | None = None,
    progress: Progress | None = None,
) -> QueryResult:
    """The per-query step, for the CLI and the flow alike: record the search's outcome (and an engine it fell back
    from), then download its candidates within what the domain may still take; every URL ends with a status in the
    manifest. A shortfall (fewer than asked, a fallback, a cap) is logged as one warning and is in the result."""
    counts = counts if counts is not None else Counts()
    engine_name = outcome.engine or engine_name
    store.record_search(domain, label, engine_name, outcome)
    counts.found += len(outcome.candidates)
    if progress:
        progress(counts)
    left = remaining(cfg, store, domain)
    got = _download(cfg, store, outcome.candidates, fetcher, counts, progress, left)
    result = QueryResult(
        domain, label, engine_name, outcome.status, outcome.message, len(outcome.candidates), dict(got.statuses),
        outcome.asked, outcome.layer, outcome.stop, outcome.fallback_from, outcome.fallback_reason, got.held,
        got.settled, got.pending, cfg.per_domain_limit, sum(c.is_thumbnail for c in outcome.candidates),
        tuple(got.errors), outcome.layer_counts,
    )  # fmt: skip
    # A domain full before this search: its pending candidates are said once per domain (report.domain_lines).
    why = shortfall(result, limit=left != 0)
    if why:
        log.warning("%s %r on %s: %s", domain, label, engine_name, why)
    return result


def _source_candidates(urls_file: Path | None, import_dir: Path | None) -> tuple[str, str, list[Candidate]]:
    if urls_file is not None:
        return URL_LIST_ENGINE, str(urls_file), read_url_list(urls_file)
    return LOCAL_ENGINE, str(import_dir), folder_candidates(import_dir)


def _check_choices(spec: DatasetSpec, keys: list[str], urls_file, import_dir) -> bool:
    """Validate domains and source choice; True when a URL list or folder replaces the search."""
    for k in keys:
        spec.domain(k)  # raises ConfigError for an unknown key
    if urls_file is not None and import_dir is not None:
        raise ConfigError("sources: got both a URL list and an import folder; allowed: one of them")
    use_source = urls_file is not None or import_dir is not None
    if use_source and len(keys) != 1:
        raise ConfigError(f"domain: got {keys}; allowed: exactly one domain (--domain A or B) with a URL list/folder")
    return use_source


def scrape(
    cfg: ScrapeConfig,
    spec: DatasetSpec,
    domains: Sequence[str] | None = None,
    queries: Sequence[Query] | None = None,
    engine=None,
    fetcher=None,
    urls_file: str | Path | None = None,
    import_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> ScrapeResult:
    """Collect images for the dataset's domains (or `domains`), from the search engine, a URL list or a folder.

    `queries` overrides the domains file's queries; `engine` and `fetcher` let callers (tests, flows) pass
    their own collaborators (a fallback engine shares the given engine's browser). Per-URL failures are recorded
    in the manifest; configuration errors raise.
    """
    keys = list(domains or spec.domains)
    use_source = _check_choices(spec, keys, urls_file, import_dir)
    counts, results = Counts(), []
    store = Store(cfg.raw_dir(spec.name), fsync=cfg.fsync)
    run_id = store.start_run(cfg.to_dict())
    if fetcher is None:
        fetcher = LocalReader(cfg) if import_dir is not None else Downloader(cfg)
    if engine is not None and getattr(engine, "debug_dir", "") is None:
        engine.debug_dir = store.debug_dir(run_id)
    engines = Engines(cfg, store.debug_dir(run_id), engine)
    try:
        step = functools.partial(collect, cfg, store, fetcher, counts=counts, progress=progress)
        if use_source:
            name, label, cands = _source_candidates(
                Path(urls_file) if urls_file else None, Path(import_dir) if import_dir else None
            )
            tagged = tuple(c.tagged(keys[0], label, name) for c in cands)
            outcome = SearchOutcome(tagged, R.OK, f"{len(cands)} items", "", (), len(cands), R.STOP_SOURCE, name)
            results.append(step(outcome, keys[0], label, name))
        else:
            jobs = plan(spec, keys, {k: queries for k in keys} if queries else None)
            results += run_searches(
                jobs, cfg.per_query_limit, engines.state(), engines.search,
                lambda outcome, key, label: step(outcome, key, label, outcome.engine),
                functools.partial(remaining, cfg, store),
            )  # fmt: skip
        return summarize(store, results, keys, run_id, counts)
    finally:
        engines.close()
        fetcher.close()
        store.close()


def plan(
    spec: DatasetSpec, domains: Sequence[str] | None = None, queries: Mapping[str, Sequence[Query] | None] | None = None
) -> list[tuple[str, Query]]:
    """Every search of a scrape, in order: (domain, query) for each domain's queries (the domains file's, or those
    `queries` gives for a domain), A before B. The CLI and the scrape flow search exactly this list."""
    keys = list(domains or spec.domains)
    override = queries or {}
    return [(k, q) for k in keys for q in (override.get(k) or spec.domain(k).queries)]


def summarize(store: Store, results: Sequence[QueryResult], domains: Sequence[str], run_id: str,
              counts: Counts | None = None) -> ScrapeResult:  # fmt: skip
    """The scrape's result from its per-query results: what each domain holds now in `store`, where things are."""
    per_domain = {k: store.count(k) for k in domains}
    return ScrapeResult(store.raw_dir.parent, store.layout.manifest, run_id, store.debug_dir(run_id),
                        tuple(results), per_domain, counts or Counts())  # fmt: skip
