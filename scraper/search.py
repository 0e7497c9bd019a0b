"""Searching with a fallback engine: when the configured engine blocks, or finds nothing for a query while other
queries find results, the search continues on the fallback engine (never a CAPTCHA), and the outcome says so."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from core.config import Query
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.records import SearchOutcome

log = logging.getLogger(__name__)


def search_query(engine, domain: str, query: Query, limit: int) -> SearchOutcome:
    """Search one query with one engine; the candidates come back tagged with domain, query and engine."""
    outcome = engine.search(query, limit)
    return replace(outcome, engine=outcome.engine or engine.name).tagged(domain, query.text)


class Engines:
    """The engines of one scrape: the configured one (or `engine`) and its fallback, each started on first use.

    Once the configured engine has shown its unusual-traffic page, every later search of this scrape goes straight
    to the fallback. All engines share one browser: the first engine's (or that of the engine handed in).
    """

    def __init__(self, cfg: ScrapeConfig, debug_dir: Path | None = None, engine=None) -> None:
        self.cfg, self.debug_dir = cfg, debug_dir
        self._engines = {engine.name: engine} if engine is not None else {}
        self._given = engine
        self.blocked: set[str] = set()
        self.found_any = False

    @property
    def primary(self) -> str:
        return self._given.name if self._given is not None else self.cfg.engine

    @property
    def fallback(self) -> str | None:
        return self.cfg.fallback_for(self.primary)

    def get(self, name: str):
        """The engine called `name`, made on first use."""
        if name not in self._engines:
            shared = next((e.current_driver for e in self._engines.values() if e.current_driver is not None), None)
            self._engines[name] = make_engine(self.cfg, name, driver=shared, debug_dir=self.debug_dir)
        return self._engines[name]

    def close(self) -> None:
        """Quit the browsers these engines started (not one handed in); an engine closes only a browser it started."""
        for engine in self._engines.values():
            if engine is not self._given:
                engine.close()

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(self, domain: str, query: Query, limit: int, retry_empty: bool | None = None) -> SearchOutcome:
        """Search on the configured engine, continuing on the fallback when it blocks, or when it finds nothing and
        `retry_empty` (default: some earlier search of this scrape found results). Tagged candidates."""
        primary, fallback = self.primary, self.fallback
        if fallback and primary in self.blocked:
            outcome = search_query(self.get(fallback), domain, query, limit)
            return self._note(replace(outcome, fallback_from=primary, fallback_reason="blocked earlier in this scrape"))
        first = search_query(self.get(primary), domain, query, limit)
        retry_empty = self.found_any if retry_empty is None else retry_empty
        if fallback is None or not (first.status == R.BLOCKED or (first.status == R.EMPTY and retry_empty)):
            return self._note(first)
        return self.on_fallback(domain, query, limit, first)

    def on_fallback(self, domain: str, query: Query, limit: int, first: SearchOutcome) -> SearchOutcome:
        """Search again on the fallback engine after `first` (the configured engine's blocked or empty outcome)."""
        primary, fallback = self.primary, self.fallback
        if first.status == R.BLOCKED:
            self.blocked.add(primary)
            log.warning("%s; continuing on %s for the rest of this scrape", first.message, fallback)
            reason = "blocked"
        else:
            reason = "found nothing (other queries did)"
        second = search_query(self.get(fallback), domain, query, limit)
        return self._note(replace(second, fallback_from=primary, fallback_reason=reason, attempts=(first,)))

    def _note(self, outcome: SearchOutcome) -> SearchOutcome:
        self.found_any = self.found_any or bool(outcome.candidates)
        return outcome
