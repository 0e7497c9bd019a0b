"""Loopback helpers for tests: free ports and a threaded HTTP server for a directory or a handler."""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class _QuietDirHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (signature of the base class)
        pass


@dataclass
class LocalServer:
    """A running loopback HTTP server; `url(path)` builds addresses on it."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve(handler: type[BaseHTTPRequestHandler] | Callable[..., BaseHTTPRequestHandler]) -> LocalServer:
    """Serve `handler` on 127.0.0.1 on a free port in a daemon thread."""
    httpd = ThreadingHTTPServer((LOOPBACK, 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name=f"http-{httpd.server_address[1]}", daemon=True)
    thread.start()
    return LocalServer(httpd, thread)


def serve_directory(root: str | Path) -> LocalServer:
    """Serve the files under `root` on 127.0.0.1 on a free port."""
    return serve(functools.partial(_QuietDirHandler, directory=str(root)))
