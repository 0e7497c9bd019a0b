"""Plain sources besides the search engines: a file of image URLs, and a folder of the user's own photos."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.config import ConfigError
from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.fetch import iter_parallel
from scraper.records import Candidate, Fetched
from scraper.validate import check_image

URL_LIST_ENGINE = "urls"
LOCAL_ENGINE = "local"


def read_url_list(path: str | Path) -> list[Candidate]:
    """Candidates from a text file: one URL a line, optionally `URL<TAB>page URL<TAB>title`; '#' starts a comment."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"url list {str(path)!r}: file not found") from None
    found: dict[str, Candidate] = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        url, page_url, title = ([p.strip() for p in line.split("\t")] + ["", ""])[:3]
        if url not in found:
            found[url] = Candidate(url=url, page_url=page_url or None, title=title or None, rank=len(found))
    return list(found.values())


def folder_candidates(folder: str | Path) -> list[Candidate]:
    """Every file under `folder` (recursively, sorted, hidden files skipped) as a file:// candidate."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"import folder {str(folder)!r}: not a directory")
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:])
    )
    return [Candidate(url=p.resolve().as_uri(), title=p.name, rank=i) for i, p in enumerate(files)]


class LocalReader:
    """Reads file:// candidates with the downloader's interface: size cap, full decode, a status per file."""

    def __init__(self, cfg: ScrapeConfig) -> None:
        self.cfg = cfg

    def fetch(self, cand: Candidate) -> Fetched:
        """Read and validate one local file; problems come back as a status, never raised."""
        path = Path(unquote(urlsplit(cand.url).path))
        try:
            size = path.stat().st_size
            if size > self.cfg.max_bytes:
                return Fetched(cand, R.TOO_LARGE, f"{size} bytes > cap {self.cfg.max_bytes}", fetched_at=R.utc_now())
            data = path.read_bytes()
        except OSError as e:
            return Fetched(cand, R.CONNECTION_ERROR, f"cannot read: {e}", fetched_at=R.utc_now())
        checked = check_image(data, self.cfg.max_pixels)
        if checked.reason:
            return Fetched(cand, R.NOT_IMAGE, checked.reason, fetched_at=R.utc_now())
        return Fetched(
            cand, R.OK, None, None, data, checked.ext, checked.width, checked.height, checked.sha256, R.utc_now()
        )

    def iter_fetch(
        self, cands: Iterable[Candidate], on_result: Callable[[Fetched], None] | None = None
    ) -> Iterator[Fetched]:
        return iter_parallel(self.fetch, cands, min(self.cfg.workers, 8), on_result)

    def close(self) -> None:
        pass
