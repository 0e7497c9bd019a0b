"""The downloader: pooled HTTP, guarded redirects, retries with backoff, per-host politeness, validation."""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.records import Candidate, Fetched
from scraper.validate import check_image

CHUNK = 64 * 1024
RETRY_HTTP = frozenset({429, 500, 502, 503, 504})
REDIRECT_HTTP = frozenset({301, 302, 303, 307, 308})


@dataclass
class _Failure(Exception):
    """A per-URL failure inside the fetch; turned into a Fetched row, never escapes the downloader."""

    status: str
    error: str
    http_status: int | None = None
    retry_after: float | None = None


class AddressGuard:
    """Refuses hosts that resolve to loopback, private, link-local or otherwise non-public addresses."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(ipaddress.ip_network(n, strict=False) for n in allowed)

    def allows(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return addr.is_global or any(addr in net for net in self.allowed)

    def check_peer(self, resp: requests.Response) -> None:
        """Check the address actually connected to (a host may resolve differently the second time)."""
        sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
        if sock is None:
            return
        addr = ipaddress.ip_address(sock.getpeername()[0].split("%")[0])
        if not self.allows(addr):
            raise _Failure(R.REFUSED_ADDRESS, f"connected to non-public address {addr}")

    def check(self, host: str, port: int) -> None:
        """Raise _Failure(refused_address) unless every address of `host` is public or explicitly allowed."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            raise _Failure(R.CONNECTION_ERROR, f"cannot resolve {host!r}: {e}") from None
        for info in infos:
            addr = ipaddress.ip_address(info[4][0].split("%")[0])
            if self.allows(addr):
                continue
            raise _Failure(R.REFUSED_ADDRESS, f"{host} resolves to non-public address {addr}")


class HostGate:
    """Per-host politeness: at most `concurrency` requests at once and `delay` seconds between starts."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.concurrency, self.delay = concurrency, delay
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(concurrency)
        )
        self._next_start: dict[str, float] = defaultdict(float)

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's slots, starting no sooner than `delay` after the previous start."""
        with self._lock:
            sem = self._slots[host]
        with sem:
            if self.delay > 0:
                with self._lock:
                    now = time.monotonic()
                    start = max(now, self._next_start[host])
                    self._next_start[host] = start + self.delay
                time.sleep(max(0.0, start - now))
            yield


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def robots_disallows(header_values: Iterable[str], agent_token: str, directives: Iterable[str]) -> str | None:
    """The X-Robots-Tag directive that forbids use (e.g. 'noai') for us or all agents, else None."""
    banned = {d.lower() for d in directives}
    for value in header_values:
        agent, sep, rest = value.partition(":")
        scoped = sep and " " not in agent.strip() and agent.strip().lower() not in banned
        if scoped and agent.strip().lower() not in ("*", agent_token.lower()):
            continue
        for d in (rest if scoped else value).split(","):
            if d.strip().lower() in banned:
                return d.strip().lower()
    return None


class Downloader:
    """Fetches candidates into validated in-memory images; every per-URL failure comes back as a status."""

    def __init__(self, cfg: ScrapeConfig, session: requests.Session | None = None) -> None:
        self.cfg = cfg
        self.session = session or self._make_session(cfg)
        self.guard = AddressGuard(cfg.allow_private_networks)
        self.gate = HostGate(cfg.per_host_concurrency, cfg.per_host_delay)
        self.agent_token = cfg.user_agent.split("/")[0].strip()

    @staticmethod
    def _make_session(cfg: ScrapeConfig) -> requests.Session:
        s = requests.Session()
        adapter = HTTPAdapter(pool_connections=64, pool_maxsize=max(cfg.workers, cfg.per_host_concurrency))
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        s.headers.update({"User-Agent": cfg.user_agent, "Accept": "image/avif,image/webp,image/*;q=0.9,*/*;q=0.5"})
        return s

    def close(self) -> None:
        self.session.close()

    def fetch(self, cand: Candidate) -> Fetched:
        """Download and validate one candidate; never raises for per-URL problems."""
        try:
            data, code = self._follow(cand.url)
        except _Failure as f:
            return Fetched(cand, f.status, f.error, f.http_status, fetched_at=R.utc_now())
        checked = check_image(data, self.cfg.max_pixels)
        if checked.reason:
            return Fetched(cand, R.NOT_IMAGE, checked.reason, code, fetched_at=R.utc_now())
        return Fetched(
            cand, R.OK, None, code, data, checked.ext, checked.width, checked.height, checked.sha256, R.utc_now()
        )

    def _follow(self, url: str) -> tuple[bytes, int]:
        """Follow at most max_redirects redirects ourselves, checking every hop's scheme and address."""
        for _hop in range(self.cfg.max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _Failure(R.BAD_URL, f"only http(s) URLs are fetched: {url[:200]!r}")
            self.guard.check(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
            result = self._with_retries(url, parts.hostname)
            if isinstance(result, str):
                url = result
                continue
            return result
        raise _Failure(R.REDIRECT_ERROR, f"more than {self.cfg.max_redirects} redirects (last: {url[:200]})")

    def _with_retries(self, url: str, host: str) -> tuple[bytes, int] | str:
        """One hop with retries for timeouts, 5xx and 429 (honouring Retry-After); a str is a redirect target."""
        for attempt in range(self.cfg.retries + 1):
            try:
                with self.gate.slot(host):
                    return self._get(url)
            except _Failure as f:
                retryable = f.status == R.TIMEOUT or f.http_status in RETRY_HTTP
                if not retryable or attempt == self.cfg.retries:
                    raise
                wait_s = self.cfg.backoff * (2**attempt)
                if f.retry_after is not None:
                    if f.retry_after > self.cfg.max_retry_after:
                        raise _Failure(
                            f.status, f"{f.error}; Retry-After {f.retry_after:.0f}s exceeds the cap", f.http_status
                        ) from None
                    wait_s = max(wait_s, f.retry_after)
                time.sleep(wait_s)
        raise AssertionError("unreachable")

    def _get(self, url: str) -> tuple[bytes, int] | str:
        deadline = time.monotonic() + self.cfg.total_timeout
        try:
            resp = self.session.get(
                url, stream=True, allow_redirects=False, timeout=(self.cfg.connect_timeout, self.cfg.read_timeout)
            )
        except requests.Timeout as e:
            raise _Failure(R.TIMEOUT, f"timed out: {e}") from None
        except requests.RequestException as e:
            raise _Failure(R.CONNECTION_ERROR, f"{type(e).__name__}: {e}") from None
        with resp:
            return self._read(resp, url, deadline)

    def _read(self, resp: requests.Response, url: str, deadline: float) -> tuple[bytes, int] | str:
        self.guard.check_peer(resp)
        code = resp.status_code
        if code in REDIRECT_HTTP and resp.headers.get("Location"):
            return urljoin(url, resp.headers["Location"])
        if code >= 400 or code < 200:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            raise _Failure(R.HTTP_ERROR, f"HTTP {code} {resp.reason or ''}".strip(), code, retry_after)
        if self.cfg.honour_robots:
            values = self._header_values(resp, "X-Robots-Tag")
            banned = robots_disallows(values, self.agent_token, self.cfg.robots_directives)
            if banned:
                raise _Failure(R.ROBOTS, f"X-Robots-Tag: {banned}", code)
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.cfg.max_bytes:
            raise _Failure(R.TOO_LARGE, f"Content-Length {declared} > cap {self.cfg.max_bytes}", code)
        return self._stream(resp, deadline), code

    @staticmethod
    def _header_values(resp: requests.Response, name: str) -> list[str]:
        raw = getattr(resp.raw, "headers", None)
        if raw is not None and hasattr(raw, "getlist"):
            return raw.getlist(name)
        value = resp.headers.get(name)
        return [value] if value else []

    def _stream(self, resp: requests.Response, deadline: float) -> bytes:
        """Read the body with read1 (one socket read at a time) so the size cap and the deadline are checked often."""
        buf = bytearray()
        try:
            while chunk := resp.raw.read1(CHUNK, decode_content=True):
                buf += chunk
                if len(buf) > self.cfg.max_bytes:
                    raise _Failure(R.TOO_LARGE, f"body exceeds cap {self.cfg.max_bytes} bytes", resp.status_code)
                if time.monotonic() > deadline:
                    raise _Failure(R.TIMEOUT, f"body not complete after {self.cfg.total_timeout}s", resp.status_code)
        except urllib3.exceptions.ReadTimeoutError as e:
            raise _Failure(R.TIMEOUT, f"read timed out: {e}", resp.status_code) from None
        except (urllib3.exceptions.HTTPError, OSError) as e:  # reset, incomplete body, TLS errors
            raise _Failure(R.CONNECTION_ERROR, f"{type(e).__name__}: {e}", resp.status_code) from None
        return bytes(buf)

    def iter_fetch(
        self, cands: Iterable[Candidate], on_result: Callable[[Fetched], None] | None = None
    ) -> Iterator[Fetched]:
        """Fetch in a thread pool; yields each result as soon as it is done, so a writer can store it at once."""
        return iter_parallel(self.fetch, cands, self.cfg.workers, on_result)


def iter_parallel(
    fn: Callable[[Candidate], Fetched],
    cands: Iterable[Candidate],
    workers: int,
    on_result: Callable[[Fetched], None] | None = None,
) -> Iterator[Fetched]:
    """Run `fn` over candidates in `workers` threads, at most 2x workers in flight; results in completion order."""
    pending: set[Future[Fetched]] = set()
    it = iter(cands)
    with ThreadPoolExecutor(workers, thread_name_prefix="fetch") as pool:
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                cand = next(it, None)
                if cand is None:
                    exhausted = True
                else:
                    pending.add(pool.submit(fn, cand))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                result = fut.result()
                if on_result:
                    on_result(result)
                yield result
