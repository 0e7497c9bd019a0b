"""The originals of one search from every extraction layer, each counted once, and the tiles of the page they match.

Layers, in the order a search reads them: `json` (data in the page: scripts, attributes, text nodes), `network`
(the responses the page fetched), `preview` (a clicked tile's panel), `thumbnails` (the tiles' own images, only
when no layer found an original). An original belongs to the first layer that saw it; page URL and title come from
its record, else the preview panel, else the tile that shows it (its link and alt text).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scraper.extract import Extracted
from scraper.records import Candidate

LAYERS = ("json", "network", "preview", "thumbnails")


@dataclass(frozen=True)
class Tile:
    """A result tile as the page shows it: its http(s) thumbnail, the page it links and names, and its strings (ids,
    link and image URLs) that a record of the page's data may hold too."""

    src: str | None
    page: str | None
    title: str | None
    keys: tuple[str, ...] = ()


def layer_text(counts: tuple[tuple[str, int], ...], sep: str = ", ", pair: str = " ") -> str:
    """'json 20, network 40' (or with `sep` ',' and `pair` ':', one word for a terminal table: 'json:20,network:40'):
    how many candidates each layer found ('' when none)."""
    return sep.join(f"{name}{pair}{n}" for name, n in counts)


class Found:
    """Originals by URL in the order they were first found, with the layer that found each and the strings of their
    records (to match tiles)."""

    def __init__(self) -> None:
        self._by_url: dict[str, Candidate] = {}
        self._layer: dict[str, str] = {}
        self._keys: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._by_url)

    def __contains__(self, url: str) -> bool:
        return url in self._by_url

    def add(self, layer: str, cand: Candidate) -> bool:
        """A new original (True), or more provenance for one already found (what it lacked is filled in)."""
        old = self._by_url.get(cand.url)
        if old is None:
            self._by_url[cand.url] = replace(cand, rank=len(self._by_url), is_thumbnail=False)
            self._layer[cand.url] = layer
            return True
        if not (old.page_url and old.title) and (cand.page_url or cand.title):
            self._by_url[cand.url] = replace(old, page_url=old.page_url or cand.page_url, title=old.title or cand.title)
        return False

    def add_extracted(self, layer: str, ext: Extracted) -> int:
        """Every original of a layer-1 reading (of the page or of a response); how many were new."""
        for key, urls in ext.keys.items():
            self._keys.setdefault(key, set()).update(urls)
        return sum(self.add(layer, c) for c in ext.candidates)

    def original_of(self, tile: Tile) -> str | bool:
        """The original a tile shows according to the records found so far: its URL when one of the tile's strings
        belongs to the records of one original only; True when they match several (the tile is covered, which one
        is unclear); False when no record matches the tile."""
        covered = False
        for key in tile.keys:
            urls = self._keys.get(key)
            if urls:
                if len(urls) == 1:
                    return next(iter(urls))
                covered = True
        return covered

    def cover(self, tiles: list[Tile]) -> list[bool]:
        """Which tiles show an original some layer already has; provenance an original lacks is taken from its tile."""
        out = []
        for tile in tiles:
            url = self.original_of(tile)
            if isinstance(url, str) and url in self._by_url:
                self.add("", Candidate(url, tile.page, tile.title))
            out.append(bool(url))
        return out

    def candidates(self, limit: int) -> list[Candidate]:
        """The first `limit` originals, ranked in the order found."""
        return list(self._by_url.values())[:limit]

    def lacking(self, limit: int) -> int:
        """How many of the first `limit` originals still lack page URL or title."""
        return sum(not (c.page_url and c.title) for c in self.candidates(limit))

    def counts(self, limit: int) -> tuple[tuple[str, int], ...]:
        """(layer, originals) among the first `limit`, in layer order, layers that found none left out."""
        layers = [self._layer[c.url] for c in self.candidates(limit)]
        return tuple((name, layers.count(name)) for name in LAYERS if name in layers)
