"""The engines of one scrape: the configured one and its fallback, sharing one browser (scraper.sequence decides
which one searches)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.config import Query
from scraper.config import ScrapeConfig
from scraper.engine import make_engine
from scraper.records import SearchOutcome
from scraper.sequence import EngineState


def search_query(engine, domain: str, query: Query, limit: int) -> SearchOutcome:
    """Search one query with one engine; the candidates come back tagged with domain, query and engine."""
    outcome = engine.search(query, limit)
    return replace(outcome, engine=outcome.engine or engine.name).tagged(domain, query.text)


class Engines:
    """The engines of one scrape: the configured one (or `engine`) and its fallback, each started on first use.

    All engines share one browser: the first engine's (or that of the engine handed in).
    """

    def __init__(self, cfg: ScrapeConfig, debug_dir: Path | None = None, engine=None) -> None:
        self.cfg, self.debug_dir = cfg, debug_dir
        self._engines = {engine.name: engine} if engine is not None else {}
        self._given = engine

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

    def state(self) -> EngineState:
        """A fresh record of what a scrape learns about these engines (the sequence's rule reads and updates it)."""
        return EngineState(self.primary, self.fallback)

    def search(self, engine: str, domain: str, query: Query, limit: int) -> SearchOutcome:
        """Search one query on the engine called `engine`; candidates tagged (the sequence chooses the engine)."""
        return search_query(self.get(engine), domain, query, limit)
