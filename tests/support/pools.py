"""Work pools and workers for the flow tests: `prefect` commands and `prefect worker start` in its own folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.paths import PROJECT_ROOT

PREFECT = str(Path(sys.executable).parent / "prefect")
POOLS = ("cpu", "gpu")


def prefect(*args: str, env: dict, cwd: Path = PROJECT_ROOT) -> str:
    """Run `prefect ARGS` with `env`; its stdout (the test fails with its output if it fails)."""
    out = subprocess.run([PREFECT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"prefect {' '.join(args)}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@contextmanager
def worker(pool: str, cwd: Path, env: dict) -> Iterator[tuple[subprocess.Popen, Path]]:
    """`prefect worker start --pool POOL` in `cwd` (its own process group); stopped, and its group gone, on exit."""
    cwd.mkdir(parents=True, exist_ok=True)
    log = cwd / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", pool, "--type", "process", "--name", f"{pool}-worker"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield proc, log
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # a worker stops on Ctrl-C
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group `pgid` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
