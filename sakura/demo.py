"""An offline image source for `make demo` and tests: a Google-like result page over synthetic streets on 127.0.0.1."""

from __future__ import annotations

import hashlib
import html
import io
import threading
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from core.config import DatasetSpec
from sakura.synthetic import street_scene

RESULTS_PER_QUERY = 60
DUPLICATE_EVERY = 12  # every 12th result is a recompressed copy of the one before it (a near-duplicate)
BROKEN_EVERY = 25  # every 25th result serves an HTML error page as image/jpeg


@lru_cache(maxsize=512)
def _jpeg(domain: str, seed: int, quality: int) -> bytes:
    buf = io.BytesIO()
    street_scene(domain, seed, (512, 384)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _seed(query: str, rank: int) -> int:
    """Results of different queries of one domain overlap a little, as real searches do."""
    base = int(hashlib.sha1(query.encode()).hexdigest()[:6], 16) % 10_000
    return base + rank if rank >= 5 else rank  # the first five are shared by every query of the domain


def _esc(s: str) -> str:
    return s.replace("=", "\\u003d").replace("&", "\\u0026")


def google_record(rank: int, doc: str, thumb: str, orig: str, page: str, title: str,
                  thumb_px: tuple[int, int] = (120, 160), orig_px: tuple[int, int] = (384, 512)) -> str:  # fmt: skip
    """One result as Google's page data holds it (in `AF_initDataCallback({key: 'ds:1', ...})`): ids, thumbnail,
    original and their sizes, page URL and title; '=' and '&' escaped as Google escapes them."""
    thumb, orig, page, title = map(_esc, (thumb, orig, page, title))
    return (
        f'[1,[0,"id{rank}",["{thumb}",{thumb_px[0]},{thumb_px[1]}],["{orig}",{orig_px[0]},{orig_px[1]}],null,0,'
        f'"rgb(1,2,3)",null,0,{{"2003":[null,"{doc}","{page}","{title}",null,null]}}]]'
    )


class DemoHandler(BaseHTTPRequestHandler):
    """/search?q= returns results with the originals in embedded JSON arrays; /img/<domain>/<seed>[d].jpg the images."""

    protocol_version = "HTTP/1.1"
    domains: dict[str, str] = {}  # query text -> domain key, set by start_demo_source
    requests: list[str] = []  # every path asked for, in order (per bound handler class)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. a closed browser tab)
            pass

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/search":
            q = parse_qs(parts.query).get("q", [""])[0]
            return self._send(200, self._page(q).encode(), "text/html; charset=utf-8")
        if parts.path.startswith("/img/"):
            return self._image(parts.path)
        if parts.path.startswith("/page/"):
            return self._send(200, b"<html><body>a street</body></html>", "text/html")
        return self._send(404, b"not found", "text/plain")

    def _image(self, path: str) -> None:
        _, _, domain, name = path.split("/", 3)
        stem = name.rsplit(".", 1)[0]
        if domain not in ("A", "B") or not stem.rstrip("db").isdigit():
            return self._send(404, b"not found", "text/plain")
        seed = int(stem.rstrip("db"))
        if stem.endswith("b"):
            return self._send(200, b"<html><body>Access denied</body></html>", "image/jpeg")
        quality = 55 if stem.endswith("d") else 90
        return self._send(200, _jpeg(domain, seed, quality), "image/jpeg")

    def _page(self, q: str) -> str:
        domain = self.domains.get(q)
        host, port = self.server.server_address[:2]
        base = f"http://{host}:{port}"
        if domain is None:
            return f"<html><body><div id='search'>No results for {html.escape(q)}</div></body></html>"
        entries, tiles = [], []
        for rank in range(RESULTS_PER_QUERY):
            seed = _seed(q, rank)
            suffix = "b" if rank % BROKEN_EVERY == BROKEN_EVERY - 1 else ""
            if rank % DUPLICATE_EVERY == DUPLICATE_EVERY - 1:
                seed, suffix = _seed(q, rank - 1), "d"
            orig, page = f"{base}/img/{domain}/{seed}{suffix}.jpg", f"{base}/page/{domain}-{seed}"
            thumb = f"https://encrypted-tbn0.gstatic.com/images?q=tbn:demo{domain}{seed}"
            entries.append(google_record(rank, f"doc{rank}", thumb, orig, page, f"Street {domain}{seed}"))
            tiles.append(f'<div jsname="dTDiAc" data-ri="{rank}"><img class="YQ4gaf" alt="" width="160"></div>')
        data = ",".join(entries)
        return (
            f"<html><body><div id='search'>{''.join(tiles)}</div>"
            f"<script>AF_initDataCallback({{key: 'ds:1', data:[null,[{data}]]}});</script></body></html>"
        )


@dataclass
class DemoSource:
    """A running demo source; `url` is the base URL to give the scraper as its Google URL."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def requests(self) -> list[str]:
        """Every path requested so far."""
        return self.httpd.RequestHandlerClass.requests

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def start_demo_source(spec: DatasetSpec, port: int = 0) -> DemoSource:
    """Serve synthetic search results for the spec's queries (A: green streets, B: cherry blossoms) on 127.0.0.1."""
    queries = {q.text: d.key for d in spec.domains.values() for q in d.queries}
    handler = type("BoundDemoHandler", (DemoHandler,), {"domains": queries, "requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="sakura-demo-source", daemon=True)
    thread.start()
    return DemoSource(httpd, thread)
