"""The one scrape sequence, run by `sakura scrape` and by the scrape flow alike: which search comes next, on which
engine, what is skipped and what is searched again. The callers only say how a search and a collect step run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from core.config import Query
from scraper import records as R
from scraper.records import QueryResult, SearchOutcome

log = logging.getLogger(__name__)

# How the caller runs one search: (engine, domain, query, limit) -> the outcome, candidates tagged. The CLI searches
# in its own browser; the flow runs a Prefect task (rate-limited, cached, retried) that searches in a fresh one.
Search = Callable[[str, str, Query, int], SearchOutcome]
# How the caller records a search's outcome and downloads its candidates: (outcome, domain, query text) -> result.
Collect = Callable[[SearchOutcome, str, str], QueryResult]
# How many more images a domain may take now (None: no limit).
Room = Callable[[str], int | None]

BLOCKED = "blocked"
BLOCKED_EARLIER = "blocked earlier in this scrape"
EMPTY_HERE = "found nothing (other queries did)"


@dataclass
class EngineState:
    """What this scrape has learnt about its engines: which blocked, whether any search found results yet."""

    primary: str
    fallback: str | None
    blocked: set[str] = field(default_factory=set)
    found_any: bool = False


def by_domain(jobs: Sequence[tuple[str, Query]]) -> list[tuple[str, list[Query]]]:
    """The plan's searches grouped by domain, in the plan's order."""
    grouped: dict[str, list[Query]] = {}
    for key, query in jobs:
        grouped.setdefault(key, []).append(query)
    return list(grouped.items())


def run_searches(
    jobs: Sequence[tuple[str, Query]],
    limit: int,
    state: EngineState,
    search: Search,
    collect: Collect,
    room: Room,
) -> list[QueryResult]:
    """Every search of a scrape, in the plan's order (`jobs`: domain, query; A before B), by one rule:

    1. A domain that holds its limit before a search is not searched any more.
    2. A search runs on the configured engine; once that engine has shown its unusual-traffic page, every later
       search of this scrape goes straight to the fallback engine (no CAPTCHA is ever attempted).
    3. A blocked search is searched again at once on the fallback engine; so is an empty one when an earlier search
       of this scrape found results.
    4. An empty search before any search found results is searched once more on the fallback engine at the end of
       its domain, if some search found results by then; its result replaces the empty one in place.

    Each search's outcome is collected (recorded, downloaded) before the next search starts.
    """
    results: list[QueryResult] = []
    for key, queries in by_domain(jobs):
        retry: list[tuple[int, Query, SearchOutcome]] = []
        for query in queries:
            if room(key) == 0:
                break
            found_before = state.found_any
            outcome = _search(state, search, key, query, limit)
            if outcome.status == R.EMPTY and not found_before and not outcome.fallback_from and state.fallback:
                retry.append((len(results), query, outcome))
            results.append(collect(outcome, key, query.text))
        for i, query, first in retry:
            if not state.found_any or room(key) == 0:
                break
            outcome = _fall_back(state, search, key, query, limit, first)
            results[i] = collect(replace(outcome, attempts=()), key, query.text)  # the empty one's row is recorded
    return results


def _search(state: EngineState, search: Search, domain: str, query: Query, limit: int) -> SearchOutcome:
    """One search by rules 2 and 3."""
    primary, fallback = state.primary, state.fallback
    if fallback and primary in state.blocked:
        outcome = search(fallback, domain, query, limit)
        return _note(state, replace(outcome, fallback_from=primary, fallback_reason=BLOCKED_EARLIER))
    first = search(primary, domain, query, limit)
    if fallback is None or not (first.status == R.BLOCKED or (first.status == R.EMPTY and state.found_any)):
        return _note(state, first)
    return _fall_back(state, search, domain, query, limit, first)


def _fall_back(
    state: EngineState, search: Search, domain: str, query: Query, limit: int, first: SearchOutcome
) -> SearchOutcome:
    """Search again on the fallback engine after `first` (the configured engine's blocked or empty outcome)."""
    if first.status == R.BLOCKED:
        state.blocked.add(state.primary)
        log.warning("%s; continuing on %s for the rest of this scrape", first.message, state.fallback)
        reason = BLOCKED
    else:
        reason = EMPTY_HERE
    second = search(state.fallback, domain, query, limit)
    return _note(state, replace(second, fallback_from=state.primary, fallback_reason=reason, attempts=(first,)))


def _note(state: EngineState, outcome: SearchOutcome) -> SearchOutcome:
    state.found_any = state.found_any or bool(outcome.candidates)
    return outcome
