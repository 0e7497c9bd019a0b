"""Tests for sakura.server: `make server` / `make stop` behaviour on a real Prefect server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sakura import server
from tests.support.net import LOOPBACK, free_port

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _sakura(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).parent / "sakura")
    return subprocess.run([exe, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=180)


def _ui_text(chrome, url: str, expect: str, timeout_s: float = 30.0) -> str:
    chrome.get(url)
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline and expect not in text:
        time.sleep(0.5)
        text = chrome.execute_script("return document.body.innerText")
    return text


@pytest.mark.browser
def test_start_reuse_stop(tmp_path, chrome):
    env = {server.PORT_ENV: str(free_port()), server.HOME_ENV: str(tmp_path / "home")}
    first = _sakura("server", "start", env=env)
    try:
        assert first.returncode == 0, first.stderr
        assert "started" in first.stdout and f"http://127.0.0.1:{env[server.PORT_ENV]}" in first.stdout
        api = f"http://127.0.0.1:{env[server.PORT_ENV]}/api"
        assert requests.get(f"{api}/health", timeout=5).json() is True
        assert (tmp_path / "home" / "prefect.db").exists()
        # The UI renders and reaches the API on this (non-default) port: the empty dashboard comes from the API.
        text = _ui_text(chrome, f"http://127.0.0.1:{env[server.PORT_ENV]}/dashboard", "Run a task or flow")
        assert "Run a task or flow to get started" in text, text[:500]

        second = _sakura("server", "start", env=env)
        assert second.returncode == 0, second.stderr
        assert "already running, reusing it" in second.stdout
        assert _sakura("server", "status", env=env).returncode == 0
    finally:
        stopped = _sakura("server", "stop", env=env)
    assert stopped.returncode == 0 and "stopped the Prefect server" in stopped.stdout
    assert not server.port_in_use(LOOPBACK, int(env[server.PORT_ENV]))
    again = _sakura("server", "stop", env=env)
    assert "no Prefect server started by sakura is running" in again.stdout
    assert _sakura("server", "status", env=env).returncode == 1


def test_port_taken_by_another_program_is_a_clear_error(tmp_path):
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        out = _sakura("server", "start", env={server.PORT_ENV: str(port), server.HOME_ENV: str(tmp_path)})
    assert out.returncode == 2
    assert f"port {port} on 127.0.0.1 is already taken by another program that sakura did not start" in out.stderr
    assert not (tmp_path / "server.json").exists()


@pytest.mark.parametrize("port", ["http", "0", "70000"])
def test_bad_port_setting_names_the_variable(tmp_path, port):
    out = _sakura("server", "start", env={server.PORT_ENV: port, server.HOME_ENV: str(tmp_path)})
    assert out.returncode == 2
    assert server.PORT_ENV in out.stderr or "port: got" in out.stderr
