"""Tests for scraper.fetch: every download fault on a loopback host ends in the right status."""

from __future__ import annotations

import time

import pytest

from scraper import records as R
from scraper.config import ScrapeConfig
from scraper.fetch import AddressGuard, Downloader, HostGate, _Failure, parse_retry_after, robots_disallows
from scraper.records import Candidate
from scraper.validate import check_image
from tests.support.scraper_faults import SAME_BYTES, fault_handler


def _cfg(tmp_path, **kw) -> ScrapeConfig:
    base = dict(
        data_root=tmp_path,
        allow_private_networks=("127.0.0.1/32",),
        connect_timeout=2,
        read_timeout=1,
        total_timeout=1.5,
        retries=2,
        backoff=0.05,
        max_mb=100_000 / 2**20,
        workers=4,
    )
    return ScrapeConfig(**{**base, **kw})


@pytest.fixture
def faults(http_server):
    handler = fault_handler()
    srv = http_server(handler)
    srv.hits = handler.hits
    return srv


@pytest.mark.parametrize(
    ("path", "status", "error_part", "http_status"),
    [
        ("/img/good.jpg", R.OK, None, 200),
        ("/status/404", R.HTTP_ERROR, "HTTP 404", 404),
        ("/status/403", R.HTTP_ERROR, "HTTP 403", 403),
        ("/flaky500/x.jpg", R.OK, None, 200),
        ("/always500/x.jpg", R.HTTP_ERROR, "HTTP 503", 503),
        ("/reset/x.jpg", R.CONNECTION_ERROR, "Connection", None),
        ("/big/x.jpg", R.TOO_LARGE, "Content-Length 300003", 200),
        ("/bigstream/x.jpg", R.TOO_LARGE, "body exceeds cap", 200),
        ("/html-as-jpeg/x.jpg", R.NOT_IMAGE, "HTML document", 200),
        ("/svg/x.jpg", R.NOT_IMAGE, "SVG document", 200),
        ("/truncated/x.jpg", R.NOT_IMAGE, "undecodable JPEG", 200),
        ("/loop/a", R.REDIRECT_ERROR, "more than 5 redirects", None),
        ("/redirect/5", R.OK, None, 200),
        ("/redirect/6", R.REDIRECT_ERROR, "more than 5 redirects", None),
        ("/to-private/x.jpg", R.REFUSED_ADDRESS, "non-public address 10.255.255.1", None),
        ("/noai/x.jpg", R.ROBOTS, "noai", 200),
        ("/otherbot-noai/x.jpg", R.OK, None, 200),
        ("/gzip/x.jpg", R.OK, None, 200),
    ],
)
def test_fault_ends_in_status(tmp_path, faults, path, status, error_part, http_status):
    got = Downloader(_cfg(tmp_path)).fetch(Candidate(faults.url(path)))
    assert got.status == status, got.error
    assert got.http_status == http_status
    if error_part:
        assert error_part in got.error
        assert got.data is None
    else:
        assert got.error is None
        assert check_image(got.data).sha256 == got.sha256
        assert (got.ext, got.width, got.height) == ("jpg", 64, 48)


def test_500_is_retried_404_is_not(tmp_path, faults):
    dl = Downloader(_cfg(tmp_path))
    dl.fetch(Candidate(faults.url("/flaky500/y.jpg")))
    dl.fetch(Candidate(faults.url("/status/404")))
    dl.fetch(Candidate(faults.url("/reset/z")))
    assert faults.hits["/flaky500/y.jpg"] == 2
    assert faults.hits["/status/404"] == 1
    assert faults.hits["/reset/z"] == 1  # a reset is not one of the retried faults
    assert faults.hits["/always500/w"] == 0
    dl.fetch(Candidate(faults.url("/always500/w")))
    assert faults.hits["/always500/w"] == 3  # first try + 2 retries


def test_429_waits_for_retry_after(tmp_path, faults):
    start = time.monotonic()
    got = Downloader(_cfg(tmp_path)).fetch(Candidate(faults.url("/ratelimited/x.jpg")))
    assert got.status == R.OK
    assert faults.hits["/ratelimited/x.jpg"] == 2
    assert time.monotonic() - start >= 1.0  # Retry-After: 1 beats the 0.05 s backoff


def test_retry_after_over_the_cap_gives_up(tmp_path, faults):
    got = Downloader(_cfg(tmp_path, max_retry_after=0.5)).fetch(Candidate(faults.url("/ratelimited/cap.jpg")))
    assert (got.status, got.http_status) == (R.HTTP_ERROR, 429)
    assert "exceeds the cap" in got.error


def test_slow_drip_past_the_deadline_is_a_timeout(tmp_path, faults):
    start = time.monotonic()
    got = Downloader(_cfg(tmp_path, retries=1)).fetch(Candidate(faults.url("/drip/x.jpg")))
    assert got.status == R.TIMEOUT, got.error
    assert faults.hits["/drip/x.jpg"] == 2  # timeouts are retried
    assert time.monotonic() - start < 8


def test_one_image_under_two_urls_has_one_sha(tmp_path, faults):
    dl = Downloader(_cfg(tmp_path))
    a, b = (dl.fetch(Candidate(faults.url(p))) for p in ("/same/1", "/same/2"))
    assert a.sha256 == b.sha256 == check_image(SAME_BYTES).sha256


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x.jpg", "file:///etc/passwd", "data:image/png;base64,AAAA"])
def test_only_http_urls(tmp_path, url):
    got = Downloader(_cfg(tmp_path)).fetch(Candidate(url))
    assert got.status == R.BAD_URL


def test_loopback_refused_by_default(tmp_path, faults):
    got = Downloader(ScrapeConfig(data_root=tmp_path)).fetch(Candidate(faults.url("/img/a.jpg")))
    assert got.status == R.REFUSED_ADDRESS
    assert faults.hits["/img/a.jpg"] == 0


@pytest.mark.parametrize(
    ("host", "allowed", "refused"),
    [("127.0.0.1", (), True), ("169.254.169.254", (), True), ("192.168.1.5", (), True), ("::1", (), True),
     ("8.8.8.8", (), False), ("127.0.0.1", ("127.0.0.0/8",), False), ("10.0.0.1", ("127.0.0.0/8",), True)],
)  # fmt: skip
def test_address_guard(host, allowed, refused):
    guard = AddressGuard(allowed)
    if refused:
        with pytest.raises(_Failure) as e:
            guard.check(host, 80)
        assert e.value.status == R.REFUSED_ADDRESS
    else:
        guard.check(host, 80)


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["noai"], "noai"), (["noindex, NoImageAI"], "noimageai"), (["otherbot: noai"], None),
     (["sakura-street: noai"], "noai"), (["*: noai"], "noai"), (["noindex"], None), ([], None)],
)  # fmt: skip
def test_robots_directives(values, expected):
    assert robots_disallows(values, "sakura-street", ("noai", "noimageai")) == expected


@pytest.mark.parametrize(("value", "low", "high"), [("3", 3, 3), (None, None, None), ("soon", None, None)])
def test_parse_retry_after(value, low, high):
    got = parse_retry_after(value)
    assert got == low if low is None else low <= got <= high


def test_parse_retry_after_http_date():
    from email.utils import formatdate

    assert 8 <= parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10


def test_host_gate_limits_concurrency_and_spaces_starts():
    import threading

    gate, active, peak, starts = HostGate(2, 0.1), [0], [0], []
    lock = threading.Lock()

    def work():
        with gate.slot("h"):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                starts.append(time.monotonic())
            time.sleep(0.15)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert peak[0] == 2
    assert all(b - a >= 0.09 for a, b in zip(starts, starts[1:], strict=False))


def test_user_agent_is_sent(tmp_path, http_server):
    from tests.support.scraper_faults import FaultHandler

    seen = []

    class Echo(FaultHandler):
        def route_img(self, path, n):
            seen.append(self.headers.get("User-Agent"))
            super().route_img(path, n)

    srv = http_server(Echo)
    Downloader(_cfg(tmp_path, user_agent="testbot/1.0 (+me)")).fetch(Candidate(srv.url("/img/u.jpg")))
    assert seen == ["testbot/1.0 (+me)"]


def test_iter_fetch_returns_every_candidate(tmp_path, faults):
    cands = [Candidate(faults.url(f"/img/{i}.jpg")) for i in range(30)] + [Candidate(faults.url("/status/404"))]
    got = list(Downloader(_cfg(tmp_path)).iter_fetch(cands))
    assert sorted(f.candidate.url for f in got) == sorted(c.url for c in cands)
    assert sum(f.ok for f in got) == 30


def test_connected_peer_is_checked_too(tmp_path, faults):
    """A host that resolved to a public address but connects to a private one (DNS rebinding) is refused."""
    dl = Downloader(_cfg(tmp_path))
    dl.guard.check = lambda host, port: None  # as if the first resolution had given a public address
    dl.guard.allowed = ()
    got = dl.fetch(Candidate(faults.url("/img/rebind.jpg")))
    assert got.status == R.REFUSED_ADDRESS
    assert "connected to non-public address 127.0.0.1" in got.error
