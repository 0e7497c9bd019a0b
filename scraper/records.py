"""The records that flow through the scraper: search candidates, fetch outcomes and statuses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

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
BLOCKED = "blocked"

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
    """The result of one search: candidates, a status (ok, empty, blocked, error) and a message."""

    candidates: tuple[Candidate, ...]
    status: str = OK
    message: str = ""
    layer: str = ""  # which extraction layer produced the candidates: json, preview, thumbnails
    debug_files: tuple[str, ...] = ()
