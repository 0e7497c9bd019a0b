"""Tests for scraper.sequence: the one rule of a scrape's searches, with searches and downloads given as functions
(the browser end to end is in test_scraper_search.py and the CLI-vs-flow test in test_flows_scrape.py)."""

from __future__ import annotations

from core.config import Query
from scraper import records as R
from scraper.records import Candidate, QueryResult, SearchOutcome
from scraper.sequence import BLOCKED_EARLIER, EMPTY_HERE, EngineState, run_searches


def _run(answers: dict[tuple[str, str], str], jobs, limit_per_domain: int | None = None, fallback="bing"):
    """answers: (engine, query) -> ok | empty | blocked (default ok); each ok search finds 2 candidates."""
    asked, held = [], {}

    def search(engine, domain, query, limit):
        asked.append((engine, query.text))
        status = answers.get((engine, query.text), R.OK)
        cands = tuple(Candidate(f"http://x/{engine}/{query.text}/{i}", rank=i) for i in range(2)) if status == R.OK \
            else ()  # fmt: skip
        return SearchOutcome(cands, status, "", asked=limit, engine=engine)

    def collect(outcome, domain, label):
        held[domain] = held.get(domain, 0) + len(outcome.candidates)
        return QueryResult(domain, label, outcome.engine, outcome.status, "", len(outcome.candidates), {},
                           fallback_from=outcome.fallback_from, fallback_reason=outcome.fallback_reason)  # fmt: skip

    def room(domain):
        return None if limit_per_domain is None else max(0, limit_per_domain - held.get(domain, 0))

    jobs = [(d, Query(text=q)) for d, q in jobs]
    results = run_searches(jobs, 5, EngineState("google", fallback), search, collect, room)
    return asked, results


def test_a_block_sends_every_later_search_of_the_run_to_the_fallback():
    asked, results = _run({("google", "a1"): R.BLOCKED}, [("A", "a1"), ("A", "a2"), ("B", "b1")])
    assert asked == [("google", "a1"), ("bing", "a1"), ("bing", "a2"), ("bing", "b1")]
    assert [(r.engine, r.fallback_reason) for r in results] == [
        ("bing", "blocked"), ("bing", BLOCKED_EARLIER), ("bing", BLOCKED_EARLIER)]  # fmt: skip


def test_a_full_domain_is_not_searched_again():
    asked, results = _run({}, [("A", "a1"), ("A", "a2"), ("A", "a3"), ("B", "b1")], limit_per_domain=4)
    assert asked == [("google", "a1"), ("google", "a2"), ("google", "b1")]
    assert [r.query for r in results] == ["a1", "a2", "b1"]


def test_empty_searches_retry_on_the_fallback_at_once_or_at_the_end_of_their_domain():
    answers = {("google", "a1"): R.EMPTY, ("google", "a3"): R.EMPTY}
    asked, results = _run(answers, [("A", "a1"), ("A", "a2"), ("A", "a3")])
    # a1: empty before anything was found: retried at the end; a3: empty after a2 found results: retried at once
    assert asked == [("google", "a1"), ("google", "a2"), ("google", "a3"), ("bing", "a3"), ("bing", "a1")]
    assert [(r.query, r.engine, r.fallback_reason) for r in results] == [
        ("a1", "bing", EMPTY_HERE),
        ("a2", "google", ""),
        ("a3", "bing", EMPTY_HERE),
    ]  # in place, in order


def test_nothing_found_anywhere_is_not_retried_and_no_fallback_means_none():
    asked, _ = _run({("google", "a1"): R.EMPTY, ("google", "a2"): R.EMPTY}, [("A", "a1"), ("A", "a2")])
    assert asked == [("google", "a1"), ("google", "a2")]
    asked, results = _run({("google", "a1"): R.BLOCKED}, [("A", "a1"), ("A", "a2")], fallback=None)
    assert asked == [("google", "a1"), ("google", "a2")] and results[0].search_status == R.BLOCKED
    assert results[1].engine == "google"
