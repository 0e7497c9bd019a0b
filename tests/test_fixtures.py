"""Proofs that the shared fixtures are real: loopback HTTP, headless Chromium, a Prefect server."""

from __future__ import annotations

import io
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from PIL import Image

PAGE = """<!doctype html><html><body style="margin:0">
<div style="height:3000px">tall</div>
<img id="pic" src="/pic.png" alt="pic">
</body></html>"""


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (255, 183, 197)).save(buf, format="PNG")
    return buf.getvalue()


def test_http_server_serves_a_directory(http_server, tmp_path):
    (tmp_path / "hello.txt").write_text("hi")
    srv = http_server(tmp_path)
    assert srv.base_url.startswith("http://127.0.0.1:")
    assert requests.get(srv.url("hello.txt"), timeout=5).text == "hi"
    assert requests.get(srv.url("missing"), timeout=5).status_code == 404


def test_http_server_serves_a_handler(http_server):
    class Teapot(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(418)
            self.send_header("X-Path", self.path)
            self.end_headers()

        def log_message(self, *args):
            pass

    r = requests.get(http_server(Teapot).url("/brew?x=1"), timeout=5)
    assert r.status_code == 418 and r.headers["X-Path"] == "/brew?x=1"


@pytest.mark.browser
def test_chrome_loads_local_page_scrolls_and_reads_natural_width(chrome, http_server, tmp_path):
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "pic.png").write_bytes(_png(37, 21))
    srv = http_server(tmp_path)
    chrome.get(srv.url("index.html"))
    chrome.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    assert chrome.execute_script("return window.scrollY") > 1000
    img = chrome.find_element("id", "pic")
    width = chrome.execute_script("const img = arguments[0]; return img.complete ? img.naturalWidth : -1;", img)
    assert width == 37


@pytest.mark.prefect
def test_prefect_server_runs_a_flow_and_reports_its_state(prefect_server):
    from prefect import flow, task
    from prefect.client.orchestration import get_client

    @task
    def double(x: int) -> int:
        return 2 * x

    @flow(name="fixture-proof")
    def proof(n: int) -> int:
        return sum(double.map(range(n)).result())

    state = proof(4, return_state=True)
    assert state.is_completed() and state.result() == 12
    run_id = state.state_details.flow_run_id

    r = requests.get(f"{prefect_server.api_url}/flow_runs/{run_id}", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["state"]["type"] == "COMPLETED"
    with get_client(sync_client=True) as client:
        assert str(client.api_url).rstrip("/") == prefect_server.api_url
        assert client.read_flow_run(run_id).state.is_completed()
