"""The base of the test servers' request handlers: quiet, its own base URL, one way to send a response."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class QuietHandler(BaseHTTPRequestHandler):
    """Logs nothing, knows its base URL, and sends a whole response whose client may have gone away."""

    content_type = "text/html; charset=utf-8"  # what `_send` sends unless told

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionResetError:  # the browser dropped a kept-alive connection
            pass

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _send(self, code: int, body: bytes = b"", ctype: str | None = None, headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype or self.content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client went away (a killed scraper)
            pass
