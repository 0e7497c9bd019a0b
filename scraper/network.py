"""The network layer's reader: the bodies of the responses the page itself fetched, from Chromium's performance log.

Chosen over Selenium 4's BiDi network interception: the performance log (`goog:loggingPrefs`, set by
`browser.chrome_options`) needs no extra dependency, no second connection and no handler running beside the
search; it works in headless Chromium with chromedriver, and `Network.getResponseBody` gives a finished response's
body as the page received it. Bodies can be evicted from Chromium's buffer (by later responses, by a new page), so
the engine reads them in every loading round; a body that is gone is counted, never silently ignored.
"""

from __future__ import annotations

import base64
import json
import logging

from selenium.common.exceptions import WebDriverException

log = logging.getLogger(__name__)

LOG_TYPE = "performance"
# Resource types whose bodies can hold result data: the page itself and what its scripts requested. Scripts
# (libraries of megabytes), images, fonts and style sheets are never read.
TYPES = ("Document", "XHR", "Fetch", "Other")
NOT_TEXT = ("image/", "font/", "audio/", "video/", "text/css", "application/wasm")
MAX_BODY_CHARS = 8_000_000


class NetworkReader:
    """Reads, once each, the bodies of the page's finished http(s) responses of TYPES since the last call.

    `available` is False when the browser was started without the performance log (a driver handed in from
    elsewhere); `read` counts bodies read, `gone` those Chromium no longer had.
    """

    def __init__(self, d) -> None:
        self.d = d
        self.available, self.why_not = True, ""
        self.read = self.gone = 0
        self._responses: dict[str, str] = {}  # request id -> URL, for responses worth reading
        self._done: set[str] = set()

    def forget(self) -> None:
        """Drop what the log holds now (earlier pages); only later responses are read."""
        self._entries()
        self._responses.clear()

    def bodies(self) -> list[tuple[str, str]]:
        """(URL, body) of each response of interest that finished since the last call."""
        out = []
        for method, params in self._entries():
            rid = params.get("requestId")
            if method == "Network.responseReceived":
                resp = params.get("response") or {}
                url, mime = resp.get("url", ""), (resp.get("mimeType") or "").lower()
                if (
                    params.get("type") in TYPES
                    and url.startswith(("http://", "https://"))
                    and not mime.startswith(NOT_TEXT)
                ):
                    self._responses[rid] = url
            elif method == "Network.loadingFinished" and rid in self._responses and rid not in self._done:
                self._done.add(rid)
                body = self._body(rid)
                if body is not None:
                    out.append((self._responses[rid], body))
        return out

    def _entries(self) -> list[tuple[str, dict]]:
        if not self.available:
            return []
        try:
            raw = self.d.get_log(LOG_TYPE)
        except WebDriverException as e:  # no performance log in this browser: the layer is off, and says why
            self.available = False
            self.why_not = f"no performance log ({(e.msg or type(e).__name__).splitlines()[0][:120]})"
            log.info("network layer off: %s", self.why_not)
            return []
        out = []
        for entry in raw:
            msg = json.loads(entry["message"]).get("message", {})
            if msg.get("method", "").startswith("Network."):
                out.append((msg["method"], msg.get("params") or {}))
        return out

    def _body(self, rid: str) -> str | None:
        try:
            got = self.d.execute_cdp_cmd("Network.getResponseBody", {"requestId": rid})
        except WebDriverException as e:
            if "No resource with given" not in (e.msg or "") and "No data found" not in (e.msg or ""):
                raise
            self.gone += 1
            return None
        body = got.get("body") or ""
        if got.get("base64Encoded"):
            body = base64.b64decode(body).decode("utf-8", errors="replace")
        self.read += 1
        return body[:MAX_BODY_CHARS]
