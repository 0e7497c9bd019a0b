"""Start, find and stop the local Prefect server that sakura-street runs its flows on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field

from core.environment import Environment, environment, variable
from core.errors import Model, UserError
from core.files import write_json
from core.paths import PROJECT_ROOT, command
from core.settings import Int, Seconds

PORT_ENV, HOME_ENV = variable("prefect_port"), variable("prefect_home")
DEFAULT_PORT = Environment.model_fields["prefect_port"].default


class ServerError(RuntimeError, UserError):
    """The server could not be started or stopped; the message says why and what to do."""


class ServerConfig(Model):
    """Where the server keeps its state (PREFECT_HOME, with the SQLite database) and where it listens."""

    home: Path
    port: Annotated[Int, Field(ge=1, le=65535)] = DEFAULT_PORT
    host: str = "127.0.0.1"
    startup_timeout_s: Seconds = 120.0

    @classmethod
    def from_env(cls) -> ServerConfig:
        """Port from $SAKURA_PREFECT_PORT (default 4200), home from $SAKURA_PREFECT_HOME (default .prefect/)."""
        env = environment()
        return cls(home=env.prefect_home, port=env.prefect_port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def record_file(self, kind: str = "server") -> Path:
        """Where sakura records the process it launched: `server.json` or `serve.json` under PREFECT_HOME."""
        return self.home / f"{kind}.json"

    def log_file(self, kind: str = "server") -> Path:
        """The output of that process: `server.log` or `serve.log`."""
        return self.home / f"{kind}.log"

    def env(self) -> dict[str, str]:
        """The environment for the server process and for clients of it."""
        return {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # `prefect deployment run ... --watch` prints a run's log lines only when the server streams them out
            # (off by default in 3.9.1): the first cause of a failure and how to review a paused run are log lines.
            "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED": "true",
            "PREFECT_SERVER_LOGS_STREAM_PUBLISHING_ENABLED": "true",
        }


SERVER_MARKERS = (b"prefect", b"server")
SERVE_MARKERS = (b"sakura", b"serve")


@dataclass(frozen=True)
class ServerRecord:
    """What was recorded about a process sakura launched (the server, or the process serving deployments)."""

    pid: int
    port: int
    started_at: float


def is_healthy(api_url: str, timeout_s: float = 2.0) -> bool:
    """True when a Prefect API at this URL passes Prefect's own health check (`api_healthcheck`), within `timeout_s`:
    no client retries (a port held by a program that never answers would take Prefect's client 80 s of them)."""
    from prefect.client.orchestration import SyncPrefectClient  # explicit URL: the settings' API URL plays no part
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}):
        with SyncPrefectClient(api_url, httpx_settings={"timeout": timeout_s}) as client:
            return client.api_healthcheck() is None


def port_in_use(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


def _is_our_process(pid: int, markers: tuple[bytes, ...] = SERVER_MARKERS) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    if b" <defunct>" in cmdline or not cmdline:
        return False
    return all(m in cmdline for m in markers)


def _read(path: Path, markers: tuple[bytes, ...]) -> ServerRecord | None:
    try:
        data = json.loads(path.read_text())
        rec = ServerRecord(pid=int(data["pid"]), port=int(data["port"]), started_at=float(data["started_at"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if not _is_our_process(rec.pid, markers):
        path.unlink(missing_ok=True)
        return None
    return rec


def read_record(cfg: ServerConfig) -> ServerRecord | None:
    """The recorded server, if its process is still alive; a stale record is removed."""
    return _read(cfg.record_file(), SERVER_MARKERS)


def read_serve_record(cfg: ServerConfig) -> ServerRecord | None:
    """The recorded `sakura serve` process, if it is still alive."""
    return _read(cfg.record_file("serve"), SERVE_MARKERS)


def _write_record(path: Path, rec: ServerRecord) -> None:
    write_json(path, {"pid": rec.pid, "port": rec.port, "started_at": rec.started_at})


def _prefect_executable() -> str:
    found = command("prefect")
    if not found:
        raise ServerError("the `prefect` command was not found; install the project with `make install`")
    return found


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _spawn(
    cfg: ServerConfig, cmd: list[str], logfile: Path, pidfile: Path, cwd: Path
) -> tuple[subprocess.Popen, ServerRecord]:
    """Start `cmd` in its own session with the server's environment, output appended to `logfile`; record it."""
    with open(logfile, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, **cfg.env()},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
        )
    rec = ServerRecord(pid=proc.pid, port=cfg.port, started_at=time.time())
    _write_record(pidfile, rec)
    return proc, rec


def start(cfg: ServerConfig) -> tuple[ServerRecord, bool]:
    """Start the server (or find the one we started earlier); return its record and whether it was reused."""
    cfg.home.mkdir(parents=True, exist_ok=True)
    rec = read_record(cfg)
    if rec is not None:
        if rec.port != cfg.port:
            raise ServerError(
                f"sakura's Prefect server already runs on port {rec.port} (pid {rec.pid}); "
                f"use that port ({PORT_ENV}={rec.port}) or stop it first with `make stop`"
            )
        if _wait_healthy(cfg, rec.pid, timeout_s=cfg.startup_timeout_s):
            return rec, True
    if port_in_use(cfg.host, cfg.port):
        what = "a Prefect server" if is_healthy(cfg.api_url) else "another program"
        raise ServerError(
            f"port {cfg.port} on {cfg.host} is already taken by {what} that sakura did not start "
            f"(no record in {cfg.record_file()}); choose another port, e.g. `{PORT_ENV}=4300 make server`"
        )
    cmd = [_prefect_executable(), "server", "start", "--host", cfg.host, "--port", str(cfg.port)]
    proc, rec = _spawn(cfg, cmd, cfg.log_file(), cfg.record_file(), cwd=cfg.home)
    if not _wait_healthy(cfg, proc.pid, timeout_s=cfg.startup_timeout_s, proc=proc):
        _terminate(proc.pid)
        cfg.record_file().unlink(missing_ok=True)
        raise ServerError(
            f"the Prefect server did not become healthy on {cfg.api_url} within "
            f"{cfg.startup_timeout_s:.0f} s; last lines of {cfg.log_file()}:\n{_log_tail(cfg.log_file())}"
        )
    return rec, False


def _wait_healthy(cfg: ServerConfig, pid: int, timeout_s: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if is_healthy(cfg.api_url, timeout_s=1.0):
            return True
        if (proc is not None and proc.poll() is not None) or (proc is None and not _is_our_process(pid)):
            return False
        time.sleep(0.5)
    return False


def _terminate(pid: int, grace_s: float = 20.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        _reap(pid)
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _stop(pidfile: Path, markers: tuple[bytes, ...]) -> ServerRecord | None:
    rec = _read(pidfile, markers)
    if rec is None:
        return None
    _terminate(rec.pid)
    pidfile.unlink(missing_ok=True)
    return rec


def stop(cfg: ServerConfig) -> ServerRecord | None:
    """Stop the server that `start` recorded (and only that one); return its record, or None if none ran."""
    return _stop(cfg.record_file(), SERVER_MARKERS)


def start_serve(cfg: ServerConfig) -> tuple[ServerRecord, bool]:
    """Start `sakura serve` in the background against this server (or find the running one)."""
    rec = read_serve_record(cfg)
    if rec is not None:
        return rec, True
    cmd = [sys.executable, "-m", "sakura", "serve"]
    return _spawn(cfg, cmd, cfg.log_file("serve"), cfg.record_file("serve"), cwd=PROJECT_ROOT)[1], False


def serve_failed(cfg: ServerConfig) -> str | None:
    """Why the recorded `sakura serve` process is gone (the end of its log), or None while it runs."""
    if read_serve_record(cfg) is not None:
        return None
    return f"`sakura serve` exited; last lines of {cfg.log_file('serve')}:\n{_log_tail(cfg.log_file('serve'))}"


def stop_serve(cfg: ServerConfig) -> ServerRecord | None:
    """Stop the `sakura serve` process that `start_serve` recorded; return its record, or None if none ran."""
    return _stop(cfg.record_file("serve"), SERVE_MARKERS)
