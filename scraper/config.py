"""ScrapeConfig: every setting of the scraper stage, validated once on construction."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sakura.config import require
from sakura.paths import data_root

ENGINES = ("google", "bing")
DEFAULT_USER_AGENT = "sakura-street/0.1 (image collection for CycleGAN research; honours X-Robots-Tag noai)"
MB = 1024 * 1024


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_network(value: Any) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ScrapeConfig:
    """Settings for searching, downloading and storing; build once at the entry point and pass it on."""

    data_root: Path = field(default_factory=data_root)
    engine: str = "google"
    google_url: str = "https://www.google.com"
    bing_url: str = "https://www.bing.com"
    per_query_limit: int = 100
    per_domain_limit: int | None = None
    # browser
    headed: bool = False
    driver_path: str | None = None
    browser_path: str | None = None
    consent_cookie: bool = True
    page_timeout: float = 30.0
    scroll_pause: float = 1.0
    max_idle_scrolls: int = 3
    preview_timeout: float = 5.0
    max_preview_clicks: int = 30
    thumbnail_fallback: bool = True
    # downloads
    workers: int = 16
    per_host_concurrency: int = 2
    per_host_delay: float = 0.0
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0
    max_bytes: int = 20 * MB
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 60.0
    max_pixels: int = 89_478_485  # Pillow's decompression-bomb threshold
    allow_private_networks: tuple[str, ...] = ()
    honour_robots: bool = True
    robots_directives: tuple[str, ...] = ("noai", "noimageai")
    user_agent: str = DEFAULT_USER_AGENT
    retry_failed: bool = False
    fsync: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_root", Path(self.data_root))
        object.__setattr__(self, "allow_private_networks", tuple(self.allow_private_networks))
        object.__setattr__(self, "robots_directives", tuple(d.lower() for d in self.robots_directives))
        require(self.engine in ENGINES, "engine", self.engine, " or ".join(ENGINES))
        for name in ("google_url", "bing_url"):
            require(
                _is_http_url(getattr(self, name)), name, getattr(self, name), "an http(s) URL such as https://x.com"
            )
        self._require_positive_ints()
        require(
            self.per_domain_limit is None or (isinstance(self.per_domain_limit, int) and self.per_domain_limit > 0),
            "per_domain_limit",
            self.per_domain_limit,
            "a positive integer or None (no limit)",
        )
        for name in ("page_timeout", "preview_timeout", "connect_timeout", "read_timeout", "total_timeout"):
            value = getattr(self, name)
            require(isinstance(value, int | float) and value > 0, name, value, "a number of seconds > 0")
        for name in ("scroll_pause", "per_host_delay", "backoff", "max_retry_after"):
            value = getattr(self, name)
            require(isinstance(value, int | float) and value >= 0, name, value, "a number of seconds >= 0")
        require(
            isinstance(self.max_redirects, int) and 0 <= self.max_redirects <= 5,
            "max_redirects",
            self.max_redirects,
            "0 to 5",
        )
        require(isinstance(self.retries, int) and 0 <= self.retries <= 10, "retries", self.retries, "0 to 10")
        bad = [n for n in self.allow_private_networks if not _is_network(n)]
        require(not bad, "allow_private_networks", bad, "IP networks such as '127.0.0.1/32' or '10.0.0.0/8'")
        require(
            isinstance(self.user_agent, str) and self.user_agent.strip() != "",
            "user_agent",
            self.user_agent,
            "a non-empty string",
        )

    def _require_positive_ints(self) -> None:
        for name in (
            "per_query_limit",
            "max_idle_scrolls",
            "workers",
            "per_host_concurrency",
            "max_bytes",
            "max_pixels",
        ):
            value = getattr(self, name)
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            require(ok, name, value, "a positive integer")
        require(
            isinstance(self.max_preview_clicks, int) and self.max_preview_clicks >= 0,
            "max_preview_clicks",
            self.max_preview_clicks,
            "an integer >= 0",
        )

    def engine_url(self, engine: str | None = None) -> str:
        """The base URL of a search engine (the setting tests point at a local replica)."""
        return self.bing_url if (engine or self.engine) == "bing" else self.google_url

    def raw_dir(self, dataset: str) -> Path:
        """`<data root>/<dataset>/raw`: downloaded files and the manifest."""
        return self.data_root / dataset / "raw"

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able values (stored with each run in the manifest)."""
        d = asdict(self)
        d["data_root"] = str(self.data_root)
        d["allow_private_networks"] = list(self.allow_private_networks)
        d["robots_directives"] = list(self.robots_directives)
        return d
