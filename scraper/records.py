"""The records that flow through the scraper: search candidates, fetch outcomes, statuses, per-query and per-run
results (what `scraper.report` puts in words)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

# Status of one (domain, URL) in the manifest. Only OK means a stored file.
OK = "ok"
DUPLICATE = "duplicate"
PENDING = "pending"
HTTP_ERROR = "http_error"
TIMEOUT = "timeout"
CONNECTION_ERROR = "connection_error"
TOO_LARGE = "too_large"
NOT_IMAGE = "not_image"
ROBOTS = "robots"
REDIRECT_ERROR = "redirect_error"
REFUSED_ADDRESS = "refused_address"
BAD_URL = "bad_url"
ERROR = "error"  # an unexpected exception while handling this URL; the error column names its class and message
BLOCKED = "blocked"

# Status of a search (besides OK and BLOCKED).
EMPTY = "empty"
SEARCH_ERROR = "error"

# Why a search stopped loading results: the one word the manifest, the CLI table and the flow artifact show.
STOP_ASKED = "asked_reached"  # as many results as asked for
STOP_END = "end_of_results"  # the page said so, or no more-results control was there and loading brought nothing
STOP_CONTROL = "control_unresponsive"  # a more-results control was on screen and clicking it brought nothing new
STOP_TIMEOUT = "timeout"  # search_timeout ran out while results were still coming
STOP_PREVIEW_CAP = "preview_cap"  # the preview layer reached max_preview_clicks
STOP_BLOCKED = "blocked"  # the engine's unusual-traffic page (no CAPTCHA is ever attempted)
STOP_ERROR = "error"  # the page could not be loaded or the browser failed (after retries)
STOP_NO_RESULTS = "no_results"  # the page loaded and no extraction layer found anything
STOP_SOURCE = "source"  # a URL list or a folder: everything in it is offered

# Outcomes a rerun does not retry: they cannot change by asking again (4xx other than 408/429 too, see Store).
SETTLED = (OK, DUPLICATE, NOT_IMAGE, TOO_LARGE, ROBOTS, REFUSED_ADDRESS, BAD_URL)


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Candidate:
    """An image URL found by a source, with its provenance."""

    url: str
    page_url: str | None = None
    title: str | None = None
    rank: int = 0
    is_thumbnail: bool = False
    width: int | None = None  # the size the engine declares (not checked until downloaded)
    height: int | None = None
    domain: str = ""
    query: str = ""
    engine: str = ""

    def tagged(self, domain: str, query: str, engine: str) -> Candidate:
        """The same candidate labelled with the domain, query and engine it was found for."""
        return replace(self, domain=domain, query=query, engine=engine)


@dataclass(frozen=True)
class Fetched:
    """What fetching (or importing) one candidate gave: a status and, when valid, the bytes and their facts."""

    candidate: Candidate
    status: str
    error: str | None = None
    http_status: int | None = None
    data: bytes | None = None
    ext: str | None = None
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
    fetched_at: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class SearchOutcome:
    """The result of one search: candidates, a status (ok, empty, blocked, error), a message, and why it stopped.

    `asked` is the number of results asked for, `stop` one of the STOP_* words. When the configured engine was
    blocked or found nothing and the fallback engine took over, `fallback_from` names the first engine,
    `fallback_reason` says why, and `attempts` holds the first engine's own outcome (recorded in the manifest too).
    """

    candidates: tuple[Candidate, ...]
    status: str = OK
    message: str = ""
    layer: str = ""  # which extraction layers produced the candidates: json, network, preview (joined by +), thumbnails
    debug_files: tuple[str, ...] = ()
    asked: int = 0
    stop: str = ""
    engine: str = ""
    fallback_from: str = ""
    fallback_reason: str = ""
    attempts: tuple[SearchOutcome, ...] = ()
    layer_counts: tuple[tuple[str, int], ...] = ()  # (layer, candidates it found first), in layer order

    @property
    def found(self) -> int:
        return len(self.candidates)

    def tagged(self, domain: str, query: str) -> SearchOutcome:
        """The same outcome with its candidates labelled with the domain, query and this outcome's engine."""
        return replace(self, candidates=tuple(c.tagged(domain, query, self.engine) for c in self.candidates))


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
        if status == OK:
            self.downloaded += 1
        elif status == DUPLICATE:
            self.duplicate += 1
        else:
            self.failed += 1


Progress = Callable[[Counts], None]


@dataclass(frozen=True)
class QueryResult:
    """What one search (or one URL list / folder import) gave in this run: what was asked, found and downloaded,
    why the search stopped, which engine answered. `scraper.report` turns it into a table row and a shortfall."""

    domain: str
    query: str
    engine: str
    search_status: str
    message: str
    found: int
    statuses: dict[str, int]  # this run's download outcomes by status
    asked: int = 0
    layer: str = ""
    stop: str = ""
    fallback_from: str = ""
    fallback_reason: str = ""
    held: int = 0  # candidates stored by an earlier run (not fetched again)
    settled: int = 0  # other candidates settled by an earlier run (duplicates, failures for good)
    pending: int = 0  # candidates left unfetched because the domain reached its limit
    domain_limit: int | None = None
    thumbnails: int = 0  # candidates that are thumbnails (the last-resort layer)
    errors: tuple[str, ...] = ()  # "URL: Class: message" of the first unexpected per-URL errors
    layer_counts: tuple[tuple[str, int], ...] = ()  # (extraction layer, candidates it found first)

    @property
    def downloaded(self) -> int:
        """New files stored in this run."""
        return self.statuses.get(OK, 0)

    @property
    def failed(self) -> int:
        """Downloads that failed in this run (duplicates are not failures)."""
        return sum(n for s, n in self.statuses.items() if s not in (OK, DUPLICATE))


@dataclass(frozen=True)
class ScrapeResult:
    """Counts and paths of one scrape run; `collected` is what the domains hold now (stored earlier or now)."""

    dataset_dir: Path
    manifest: Path
    run_id: str
    debug_dir: Path
    queries: tuple[QueryResult, ...]
    stored_per_domain: dict[str, int]  # ok rows per domain in the manifest after the run
    counts: Counts = field(default_factory=Counts)

    @property
    def statuses(self) -> dict[str, int]:
        """This run's download outcomes by status, over every query."""
        total: dict[str, int] = {}
        for q in self.queries:
            for s, n in q.statuses.items():
                total[s] = total.get(s, 0) + n
        return total

    @property
    def collected(self) -> int:
        return sum(self.stored_per_domain.values())

    @property
    def blocked(self) -> list[QueryResult]:
        return [q for q in self.queries if q.search_status == BLOCKED or q.fallback_reason == "blocked"]

    @property
    def failed(self) -> list[QueryResult]:
        """The searches that did not succeed (blocked, empty, error): retried by the next run."""
        return [q for q in self.queries if q.search_status != OK]

    @property
    def empty_domains(self) -> list[str]:
        """Domains that hold no image at all after the run."""
        return [k for k, n in self.stored_per_domain.items() if n == 0]

    @property
    def failed_outright(self) -> bool:
        """Every search failed, or a domain holds nothing: the scrape did not do its job."""
        return (bool(self.queries) and len(self.failed) == len(self.queries)) or bool(self.empty_domains)
