"""ScrapeConfig: every setting of the scraper stage, validated once on construction (also the CLI and flow form)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from core.settings import (
    Bool,
    Cli,
    DatasetSettings,
    Float,
    Int,
    NonNegativeInt,
    NonNegativeSeconds,
    PositiveInt,
    Seconds,
)
from scraper.layout import RawLayout

Engine = Literal["google", "bing"]
ENGINES: tuple[str, ...] = Engine.__args__
NO_FALLBACK = "none"
PREVIEW_CLICKS_PER_ASKED = 2  # default preview clicks: twice the results asked (duplicates and misses cost clicks)
DEFAULT_USER_AGENT = "sakura-street/0.1 (image collection for CycleGAN research; honours X-Robots-Tag noai)"
MB = 1024 * 1024


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an http(s) URL such as https://x.com")
    return value


def _networks(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = []
    for v in values:
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError:
            bad.append(v)
    if bad:
        raise ValueError(f"IP networks such as '127.0.0.1/32' or '10.0.0.0/8' (not {bad})")
    return values


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("a non-empty string")
    return value


def _lower(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.lower() for v in values)


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class ScrapeConfig(DatasetSettings):
    """Scraper settings: the search engine, how many results per query and per domain, browser and download limits."""

    engine: Engine = Field("google", description="search engine")
    fallback_engine: Literal["google", "bing", "none"] | None = Field(
        None,
        description="engine a domain continues on when the search engine blocks, or finds nothing for a query while "
        "other queries find results (default: the other engine, bing for google; none: no fallback)",
    )
    google_url: Annotated[HttpUrl, Cli(hidden=True)] = "https://www.google.com"
    bing_url: Annotated[HttpUrl, Cli(hidden=True)] = "https://www.bing.com"
    per_query_limit: Annotated[PositiveInt, Cli(flags=("--per-query",))] = Field(
        100, description="results to gather per query"
    )
    per_domain_limit: Annotated[PositiveInt | None, Cli(flags=("--per-domain",))] = Field(
        300, description="stop a domain once it holds this many images (none: no limit)"
    )
    # browser
    headed: Bool = Field(False, description="visible browser (blocked less; works under xvfb-run)")
    driver_path: str | None = Field(None, description="chromedriver to use (else $SAKURA_CHROMEDRIVER, then PATH)")
    browser_path: str | None = Field(None, description="Chromium binary (else $SAKURA_CHROMIUM, then PATH)")
    consent_cookie: Annotated[Bool, Cli(hidden=True)] = True
    page_timeout: Seconds = Field(30.0, description="seconds to wait for a results page")
    search_timeout: Seconds = Field(180.0, description="seconds one search may spend loading and reading results")
    search_retries: Annotated[Int, Field(ge=0, le=5)] = Field(
        2, description="when the browser crashes during a search: restart it and search again, this many times"
    )
    scroll_pause: NonNegativeSeconds = Field(
        1.0, description="seconds to wait for new results after each way of loading more (longer while loading)"
    )
    load_attempts: PositiveInt = Field(
        6,
        description="loading attempts in a row (scroll, End key, last tile, more button, ...) that bring nothing "
        "new before the results count as ended",
    )
    preview_timeout: Annotated[Seconds, Cli(hidden=True)] = 5.0
    max_preview_clicks: NonNegativeInt | None = Field(
        None, description=f"tiles clicked per search to read originals from the preview (default: "
        f"{PREVIEW_CLICKS_PER_ASKED} x --per-query; 0: no preview layer)",
    )  # fmt: skip
    max_preview_misses: PositiveInt = Field(
        3, description="clicks in a row that show no original before the preview layer gives up on a page"
    )
    thumbnail_fallback: Bool = Field(True, description="keep thumbnails when no original URL can be found")
    # downloads
    workers: PositiveInt = Field(16, description="download threads")
    per_host_concurrency: Annotated[PositiveInt, Cli(flags=("--per-host",))] = Field(
        2, description="concurrent requests per host"
    )
    per_host_delay: Annotated[NonNegativeSeconds, Cli(flags=("--host-delay",))] = Field(
        0.0, description="seconds between requests to one host"
    )
    connect_timeout: Seconds = Field(5.0, description="seconds to connect")
    read_timeout: Seconds = Field(15.0, description="seconds between bytes")
    total_timeout: Seconds = Field(60.0, description="seconds per download")
    max_mb: Annotated[Float, Field(gt=0)] = Field(20.0, description="size cap per image in MB")
    max_redirects: Annotated[Int, Field(ge=0, le=5), Cli(hidden=True)] = 5
    retries: Annotated[Int, Field(ge=0, le=10)] = Field(2, description="retries for timeouts, 5xx and 429")
    backoff: Annotated[NonNegativeSeconds, Cli(hidden=True)] = 0.5
    max_retry_after: Annotated[NonNegativeSeconds, Cli(hidden=True)] = 60.0
    max_pixels: Annotated[PositiveInt, Cli(hidden=True)] = 89_478_485  # Pillow's decompression-bomb threshold
    allow_private_networks: Annotated[
        tuple[str, ...], AfterValidator(_networks), Cli(flags=("--allow-private-network",), metavar="CIDR")
    ] = Field((), description="allow downloads from this private/loopback network (refused by default), repeatable")
    honour_robots: Annotated[Bool, Cli(hidden=True)] = True
    robots_directives: Annotated[tuple[str, ...], AfterValidator(_lower), Cli(hidden=True)] = ("noai", "noimageai")
    user_agent: Annotated[str, AfterValidator(_non_blank)] = Field(
        DEFAULT_USER_AGENT, description="User-Agent header for downloads"
    )
    retry_failed: Bool = Field(False, description="also refetch URLs that failed for good before")
    fsync: Annotated[Bool, Cli(hidden=True)] = True

    @property
    def max_bytes(self) -> int:
        """The size cap in bytes."""
        return int(self.max_mb * MB)

    def fallback_for(self, engine: str | None = None) -> str | None:
        """The engine a search on `engine` (default: the configured one) continues on; None: no fallback."""
        engine = engine or self.engine
        fallback = self.fallback_engine or next(e for e in ENGINES if e != engine)
        return None if fallback in (NO_FALLBACK, engine) else fallback

    def preview_clicks(self, asked: int) -> int:
        """The preview layer's click cap for a search asking for `asked` results."""
        if self.max_preview_clicks is None:
            return PREVIEW_CLICKS_PER_ASKED * asked
        return self.max_preview_clicks

    def engine_url(self, engine: str | None = None) -> str:
        """The base URL of a search engine (the setting tests point at a local replica)."""
        return self.bing_url if (engine or self.engine) == "bing" else self.google_url

    def raw_dir(self, dataset: str) -> Path:
        """`<data root>/<dataset>/raw` (or `<dataset_dir>/raw`): downloaded files and the manifest."""
        return RawLayout.of(self.data_dir(dataset)).root

    def with_engine_url(self, url: str | None) -> ScrapeConfig:
        """This config with the chosen engine's base URL replaced (None: unchanged). A replaced URL is the one
        source to search (a local replica, a demo): unless a fallback engine is set explicitly, there is none."""
        if url is None:
            return self
        allow = self.allow_private_networks
        host = urlsplit(url).hostname or ""
        try:  # a replica on a loopback or private address serves its images from there too
            address = ipaddress.ip_address(host)
            if address.is_private or address.is_loopback:
                allow = tuple(dict.fromkeys([*allow, f"{address}/{address.max_prefixlen}"]))
        except ValueError:
            pass
        fallback = self.fallback_engine or NO_FALLBACK
        return self.replace(**{f"{self.engine}_url": url, "fallback_engine": fallback, "allow_private_networks": allow})
