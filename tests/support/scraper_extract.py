"""The unique originals a result page's source offers, in page order: what the extraction tests compare."""

from __future__ import annotations

from scraper.extract import bing_extract, google_extract
from scraper.records import Candidate
from scraper.selectors import BING, GOOGLE


def google_candidates(source: str, markers: tuple[str, ...] = GOOGLE.thumbnail_url_markers) -> list[Candidate]:
    """The unique originals of `google_extract`, in page order."""
    return google_extract(source, markers).candidates


def bing_candidates(source: str, markers: tuple[str, ...] = BING.thumbnail_url_markers) -> list[Candidate]:
    """The unique originals of `bing_extract`, in page order."""
    return bing_extract(source, markers).candidates
