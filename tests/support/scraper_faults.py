"""A loopback image host with every download fault the scraper must survive, one path each."""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections import Counter

from tests.support.handlers import QuietHandler
from tests.support.scraper_images import image_bytes

SAME_BYTES = image_bytes("same-image")
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
HTML = b"<!DOCTYPE html><html><body>Hotlinking not allowed</body></html>"


class FaultHandler(QuietHandler):
    """GET routes: /img/<name>.jpg is a good image; the other paths are faults (see `routes`)."""

    protocol_version = "HTTP/1.1"
    hits: Counter = Counter()  # replaced per server by fault_handler()
    lock = threading.Lock()
    delay = 0.0  # seconds before answering /img/ (kill -9 test)
    content_type = "image/jpeg"

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        with self.lock:
            self.hits[path] += 1
            n = self.hits[path]
        route = path.strip("/").split("/")[0]
        handler = getattr(self, "route_" + route.replace("-", "_"), None)
        if handler is None:
            self._send(404, b"not found", "text/plain")
        else:
            handler(path, n)

    def route_img(self, path: str, n: int) -> None:
        if self.delay:
            time.sleep(self.delay)
        self._send(200, image_bytes(path))

    def route_status(self, path: str, n: int) -> None:  # /status/404
        self._send(int(path.rsplit("/", 1)[1]), b"no", "text/plain")

    def route_flaky500(self, path: str, n: int) -> None:
        self._send(500, b"oops", "text/plain") if n == 1 else self._send(200, image_bytes(path))

    def route_always500(self, path: str, n: int) -> None:
        self._send(503, b"down", "text/plain")

    def route_ratelimited(self, path: str, n: int) -> None:
        if n == 1:
            self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
        else:
            self._send(200, image_bytes(path))

    def route_drip(self, path: str, n: int) -> None:
        body = image_bytes(path)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), 16):
                self.wfile.write(body[i : i + 16])
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def route_reset(self, path: str, n: int) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def route_big(self, path: str, n: int) -> None:  # declared size over the cap
        self._send(200, b"\xff\xd8\xff" + b"\0" * 300_000)

    def route_bigstream(self, path: str, n: int) -> None:  # no Content-Length: only streaming finds out
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for _ in range(40):
                self.wfile.write(b"\xff\xd8\xff" + b"\0" * 10_000)
        except OSError:
            pass
        self.close_connection = True

    def route_html_as_jpeg(self, path: str, n: int) -> None:
        self._send(200, HTML, "image/jpeg")

    def route_svg(self, path: str, n: int) -> None:
        self._send(200, SVG, "image/jpeg")

    def route_truncated(self, path: str, n: int) -> None:
        body = image_bytes(path, (200, 150), noise=True)
        self._send(200, body[: len(body) // 2])

    def route_loop(self, path: str, n: int) -> None:  # /loop/a <-> /loop/b
        self._send(302, b"", "text/plain", {"Location": "/loop/b" if path.endswith("/a") else "/loop/a"})

    def route_redirect(self, path: str, n: int) -> None:  # /redirect/<k>: k hops, then an image
        k = int(path.rsplit("/", 1)[1])
        target = f"/redirect/{k - 1}" if k > 1 else "/img/redirected.jpg"
        self._send(302, b"", "text/plain", {"Location": target})

    def route_to_private(self, path: str, n: int) -> None:
        self._send(302, b"", "text/plain", {"Location": "http://10.255.255.1/secret.jpg"})

    def route_noai(self, path: str, n: int) -> None:
        self._send(200, image_bytes(path), headers={"X-Robots-Tag": "noai"})

    def route_otherbot_noai(self, path: str, n: int) -> None:
        self._send(200, image_bytes(path), headers={"X-Robots-Tag": "otherbot: noai"})

    def route_gzip(self, path: str, n: int) -> None:  # an image sent with Content-Encoding: gzip
        self._send(200, gzip.compress(image_bytes(path)), headers={"Content-Encoding": "gzip"})

    def route_same(self, path: str, n: int) -> None:  # /same/1 and /same/2: one image under two URLs
        self._send(200, SAME_BYTES)


def fault_handler(delay: float = 0.0) -> type[FaultHandler]:
    """A handler class with its own hit counter (path -> requests) and optional delay on /img/."""
    return type("Faults", (FaultHandler,), {"hits": Counter(), "lock": threading.Lock(), "delay": delay})
