"""The scrape: per domain and query, search -> candidates -> download -> store, resumable and with provenance."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.config import ConfigError, DatasetSpec, Query
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.fetch import Downloader, iter_parallel
from scraper.records import Candidate, SearchOutcome
from scraper.sources import LOCAL_ENGINE, URL_LIST_ENGINE, LocalReader, folder_candidates, read_url_list
from scraper.store import Store, Stored


@dataclass
class Counts:
    """Live counters for progress display: found candidates and what became of them in this run."""

    found: int = 0
    downloaded: int = 0
    failed: int = 0
    duplicate: int = 0
    skipped: int = 0  # already settled by an earlier run, not fetched again

    @property
    def done(self) -> int:
        return self.downloaded + self.failed + self.duplicate

    def add(self, status: str) -> None:
        """Count one final status."""
        if status == R.OK:
            self.downloaded += 1
        elif status == R.DUPLICATE:
            self.duplicate += 1
        else:
            self.failed += 1


Progress = Callable[[Counts], None]


@dataclass(frozen=True)
class QueryResult:
    """What one query (or one URL list / folder import) gave in this run."""

    domain: str
    query: str
    engine: str
    search_status: str
    message: str
    found: int
    statuses: dict[str, int]


@dataclass(frozen=True)
class ScrapeResult:
    """Counts and paths of one scrape run; `collected` is what the domains hold now (stored earlier or now)."""

    dataset_dir: Path
    manifest: Path
    run_id: str
    debug_dir: Path
    queries: tuple[QueryResult, ...]
    statuses: dict[str, int]  # this run's outcomes
    stored_per_domain: dict[str, int]  # ok rows per domain in the manifest after the run
    counts: Counts = field(default_factory=Counts)

    @property
    def collected(self) -> int:
        return sum(self.stored_per_domain.values())

    @property
    def blocked(self) -> list[QueryResult]:
        return [q for q in self.queries if q.search_status == R.BLOCKED]


def search_query(engine, domain: str, query: Query, limit: int) -> SearchOutcome:
    """Search one query with an engine; the candidates come back tagged with domain, query and engine."""
    outcome = engine.search(query, limit)
    tagged = tuple(c.tagged(domain, query.text, engine.name) for c in outcome.candidates)
    return SearchOutcome(tagged, outcome.status, outcome.message, outcome.layer, outcome.debug_files)


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
    counts = counts if counts is not None else Counts()
    statuses: Counter = Counter()
    if not cands:
        return statuses
    store.add_found(list(cands))
    settled = set()
    for domain in {c.domain for c in cands}:
        settled |= {(domain, u) for u in store.settled_urls(domain, cfg.retry_failed)}
    todo = [c for c in cands if (c.domain, c.url) not in settled]
    counts.skipped += len(cands) - len(todo)

    slots = _Slots(limit)

    def fetch_and_put(c: Candidate) -> Stored | None:
        fetched = fetcher.fetch(c)
        if fetched.ok and not slots.take():
            return None  # over the limit: nothing stored, the row stays pending for a later run
        stored = store.put(fetched)  # file writes (and fsyncs) run in the fetch threads, in parallel
        if fetched.ok and stored.status != R.OK:
            slots.give_back()
        return stored

    feed = (c for c in todo if not slots.exhausted)
    for done in iter_parallel(fetch_and_put, feed, cfg.workers):
        if done is not None:
            status = store.commit(done)
            statuses[status] += 1
            counts.add(status)
            if progress:
                progress(counts)
    return statuses


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
    """The per-query step, for the CLI and the flow alike: record the search's outcome, then download its
    candidates within what the domain may still take; every URL ends with a status in the manifest."""
    counts = counts if counts is not None else Counts()
    store.record_search(domain, label, engine_name, outcome)
    counts.found += len(outcome.candidates)
    if progress:
        progress(counts)
    got = download_candidates(cfg, store, outcome.candidates, fetcher, counts, progress, remaining(cfg, store, domain))
    return QueryResult(domain, label, engine_name, outcome.status, outcome.message, len(outcome.candidates), dict(got))


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
    their own collaborators. Per-URL failures are recorded in the manifest; configuration errors raise.
    """
    keys = list(domains or [d.key for d in spec.domains])
    use_source = _check_choices(spec, keys, urls_file, import_dir)
    counts, results = Counts(), []
    store = Store(cfg.raw_dir(spec.name), fsync=cfg.fsync)
    run_id = store.start_run(cfg.to_dict())
    own_engine = engine is None and not use_source
    if fetcher is None:
        fetcher = LocalReader(cfg) if import_dir is not None else Downloader(cfg)
    try:
        if own_engine:
            engine = make_engine(cfg, debug_dir=store.debug_dir(run_id))
        elif engine is not None and getattr(engine, "debug_dir", "") is None:
            engine.debug_dir = store.debug_dir(run_id)
        step = functools.partial(collect, cfg, store, fetcher, counts=counts, progress=progress)
        for key in keys:
            if use_source:
                name, label, cands = _source_candidates(
                    Path(urls_file) if urls_file else None, Path(import_dir) if import_dir else None
                )
                outcome = SearchOutcome(tuple(c.tagged(key, label, name) for c in cands), R.OK, f"{len(cands)} items")
                results.append(step(outcome, key, label, name))
                continue
            for query in queries or spec.domain(key).queries:
                if remaining(cfg, store, key) == 0:
                    break
                outcome = search_query(engine, key, query, cfg.per_query_limit)
                results.append(step(outcome, key, query.text, engine.name))
        per_domain = {k: store.count(k) for k in keys}
    finally:
        if own_engine and engine is not None:
            engine.close()
        fetcher.close()
        store.close()
    return ScrapeResult(store.raw_dir.parent, store.layout.manifest, run_id, store.debug_dir(run_id),
                        tuple(results), _total(results), per_domain, counts)  # fmt: skip


def _total(results: list[QueryResult]) -> dict[str, int]:
    total: Counter = Counter()
    for r in results:
        total.update(r.statuses)
    return dict(total)
