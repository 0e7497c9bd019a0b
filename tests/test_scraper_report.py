"""Tests for scraper.report: one table row and one shortfall reason per search, the same for the CLI and the flow."""

from __future__ import annotations

import pytest

from scraper import records as R
from scraper.records import QueryResult
from scraper.report import STOP_TEXT, domain_lines, download_text, query_row, shortfall


def _result(**kw) -> QueryResult:
    base = dict(domain="A", query="q", engine="google", search_status=R.OK, message="m", found=10,
                statuses={R.OK: 10}, asked=10, layer="json", stop=R.STOP_ASKED)  # fmt: skip
    return QueryResult(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, None),
        ({"statuses": {}, "held": 10}, None),  # a rerun: everything was stored before
        ({"found": 4, "statuses": {R.OK: 4}, "stop": R.STOP_END}, f"found 4 of 10: {STOP_TEXT[R.STOP_END]}"),
        ({"found": 6, "statuses": {R.OK: 6}, "stop": R.STOP_TIMEOUT}, f"found 6 of 10: {STOP_TEXT[R.STOP_TIMEOUT]}"),
        ({"found": 3, "statuses": {R.OK: 3}, "stop": R.STOP_PREVIEW_CAP, "layer": "preview"},
         f"found 3 of 10: {STOP_TEXT[R.STOP_PREVIEW_CAP]}"),
        ({"statuses": {R.OK: 7, R.HTTP_ERROR: 2, R.NOT_IMAGE: 1}},
         "stored 7 of 10: 3 failed (http_error 2, not_image 1)"),
        ({"statuses": {R.OK: 8, R.DUPLICATE: 2}}, "stored 8 of 10: 2 same bytes as stored files"),
        ({"statuses": {R.OK: 4}, "pending": 6, "domain_limit": 300},
         "stored 4 of 10: 6 left pending: the domain holds its limit (300, --per-domain)"),
        ({"statuses": {R.OK: 9, R.ERROR: 1}, "errors": ("http://x/1: OSError: disk full",)},
         "stored 9 of 10: 1 failed (error 1); unexpected errors, first: http://x/1: OSError: disk full"),
        ({"layer": "thumbnails", "thumbnails": 10},
         "thumbnails only (10, flagged is_thumbnail): no original URL could be read"),
        ({"search_status": R.BLOCKED, "found": 0, "statuses": {}, "stop": R.STOP_BLOCKED, "message": "long advice"},
         STOP_TEXT[R.STOP_BLOCKED]),
        ({"search_status": R.EMPTY, "found": 0, "statuses": {}, "stop": R.STOP_NO_RESULTS,
          "message": "no results found by any extraction layer; page source and screenshot saved to /d"},
         "empty: no results found by any extraction layer; page source and screenshot saved to /d"),
        ({"engine": "bing", "fallback_from": "google", "fallback_reason": "blocked"},
         "google blocked: continued on bing"),
    ],
)  # fmt: skip
def test_shortfall_names_every_reason(kw, expected):
    assert shortfall(_result(**kw)) == expected


def test_reasons_add_up():
    r = _result(engine="bing", fallback_from="google", fallback_reason="found nothing (other queries did)", found=5,
                statuses={R.OK: 4, R.TIMEOUT: 1}, stop=R.STOP_END)  # fmt: skip
    assert shortfall(r) == (
        f"google found nothing (other queries did): continued on bing; found 5 of 10: {STOP_TEXT[R.STOP_END]}; "
        "stored 4 of 5: 1 failed (timeout 1)"
    )


def test_row_holds_what_the_outcome_says():
    r = _result(found=5, statuses={R.OK: 3, R.DUPLICATE: 1, R.HTTP_ERROR: 1}, held=0, stop=R.STOP_END)
    row = query_row(r)
    assert {k: row[k] for k in ("asked", "found", "downloaded", "failed", "duplicate", "stop")} == {
        "asked": 10, "found": 5, "downloaded": 3, "failed": 1, "duplicate": 1, "stop": R.STOP_END}  # fmt: skip
    assert row["shortfall"] == shortfall(r) and row["fallback_from"] == "" and row["engine"] == "google"
    assert query_row(_result())["shortfall"] == ""


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, "10 new"),
        ({"statuses": {}, "held": 40}, None),  # nothing fetched: no `{}` line
        ({"statuses": {}, "pending": 40, "domain_limit": 100}, None),
        ({"statuses": {R.OK: 7, R.DUPLICATE: 2, R.HTTP_ERROR: 1}, "held": 3},
         "7 new (duplicate 2, http_error 1); 3 held"),
    ],
)  # fmt: skip
def test_download_text_in_words(kw, expected):
    assert download_text(_result(**kw)) == expected


def test_domain_lines_one_per_domain():
    rerun = [_result(domain=d, query=f"q{i}", statuses={}, pending=40, domain_limit=100) for d in "AB" for i in (1, 2)]
    assert domain_lines(rerun, {"A": 100, "B": 100}) == [
        "A: nothing new: 100 held, limit 100", "B: nothing new: 100 held, limit 100"]  # fmt: skip
    mixed = [_result(domain="A", statuses={R.OK: 10}), _result(domain="B", statuses={}, held=10)]
    assert domain_lines(mixed, {"A": 10, "B": 10}) == ["B: nothing new: 10 held"]


@pytest.mark.parametrize(
    ("text", "limit", "want"),
    [("short line", 40, "short line"),
     ("saved to /tmp/scrape-data/x/raw/debug/flow and more", 20, "saved to ..."),  # never inside the path
     ("could not load https://www.google.com/search?q=a (ERR)", 30, "could not load ..."),
     ("/a/very/long/path/without/any/space", 10, "/a/very/long/path/without/any/space"),  # one word: whole
     ("multi\n  line   text", 40, "multi line text")],
)  # fmt: skip
def test_clip_cuts_between_words_only(text, limit, want):
    from scraper.report import clip

    assert clip(text, limit) == want


def test_a_failed_runs_lines_end_with_the_offline_hint():
    from types import SimpleNamespace

    from sakura.watch import failure_lines

    message = "scrape of x: every search failed (6 of 6); first: ...\nsee the table\noffline? ..."
    state = SimpleNamespace(name="Failed", message=message)
    lines = failure_lines(state, "http://ui/runs/flow-run/1").splitlines()
    assert lines[0].startswith("Failed: scrape of x: every search failed") and lines[-1].startswith("offline?")
    assert lines[-2] == "details (logs, artifacts): http://ui/runs/flow-run/1"
