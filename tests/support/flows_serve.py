"""Served deployments for the flow tests: `sakura serve` in the background, and helpers to run and inspect runs."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.paths import PROJECT_ROOT
from sakura import server

# collect-and-train parameters small enough for a test: a few images per query, three training steps.
TINY = {
    "searches_per_minute": 600,
    "scrape": {
        "per_query_limit": 6,
        "per_domain_limit": 12,
        "allow_private_networks": ["127.0.0.1/32"],
        "max_preview_clicks": 0,
        "scroll_pause": 0.1,
        "workers": 4,
    },
    "curation": {"load_size": 48, "workers": 1, "test_fraction": 0.25},
    "training": {
        "profile": "cpu",
        "image_size": 32,
        "load_size": 36,
        "ngf": 8,
        "ndf": 8,
        "n_blocks": 2,
        "epochs": 1,
        "decay_epoch": 1,
        "max_iters_per_epoch": 3,
        "eval_images": 4,
        "num_workers": 0,
    },
}

DEPLOYMENTS = ("collect-and-train", "scrape", "curate", "review", "train", "translate")


@dataclass(frozen=True)
class Served:
    """The server the deployments are served against and the data root their runs write to."""

    cfg: server.ServerConfig
    data_root: Path


@contextmanager
def serving(cfg: server.ServerConfig, data_root: Path, timeout_s: float = 180.0) -> Iterator[Served]:
    """Run `sakura serve` (all deployments) against `cfg` with SAKURA_DATA_ROOT=data_root until exit."""
    shutil.copy(PROJECT_ROOT / "datasets" / "domains.toml", data_root / "domains.toml")
    env = {"SAKURA_DATA_ROOT": str(data_root), "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    server.start_serve(cfg)
    try:
        deadline = time.monotonic() + timeout_s
        missing = list(DEPLOYMENTS)
        while missing and time.monotonic() < deadline:
            missing = [d for d in missing if not _deployed(f"{d}/default")]
            why = server.serve_failed(cfg)
            assert why is None, why
            time.sleep(1)
        assert not missing, f"deployments not served within {timeout_s} s: {missing}"
        yield Served(cfg, data_root)
    finally:
        server.stop_serve(cfg)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _deployed(name: str) -> bool:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(name)
        except ObjectNotFound:
            return False
    return True


def run_deployment(name: str, params: dict, timeout_s: int = 900) -> tuple[subprocess.CompletedProcess, str]:
    """`prefect deployment run NAME --params ... --watch`; returns the process and the flow run id."""
    prefect = str(Path(sys.executable).parent / "prefect")
    cmd = [
        prefect,
        "deployment",
        "run",
        name,
        "--params",
        json.dumps(params),
        "--watch",
        "--watch-timeout",
        str(timeout_s),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s + 60, env=os.environ)
    m = re.search(r"UUID: ([0-9a-f-]{36})", proc.stdout)
    assert m, proc.stdout + proc.stderr
    return proc, m.group(1)


def scrape_demo(served: Served, demo, dataset: str, **scrape) -> Path:
    """Scrape `dataset` from the demo source through the served scrape deployment (TINY's settings, `scrape` over
    them); its folder."""
    params = {"dataset": dataset, "engine_url": demo.url, "searches_per_minute": TINY["searches_per_minute"],
              "scrape": {**TINY["scrape"], **scrape}}  # fmt: skip
    proc, _ = run_deployment("scrape/default", params, timeout_s=300)
    assert proc.returncode == 0, serve_log_tail(served)
    return served.data_root / dataset


def manifest_rows(ds: Path) -> list[dict[str, str]]:
    """The rows of a curated dataset's curation/manifest.csv."""
    with open(ds / "curation" / "manifest.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def serve_log_tail(served: Served, lines: int = 60) -> str:
    """The end of the serving process's log (what the flow runs printed), for assertion messages."""
    text = served.cfg.log_file("serve").read_text(errors="replace")
    return "\n".join(line for line in text.splitlines() if "heartbeat" not in line)[-6000:]


def task_states(flow_run_id: str) -> dict[str, str]:
    """Task run name -> state name for a flow run and all its subflow runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id]))
        )
        ids = [flow_run_id, *[str(c.id) for c in children]]
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=200)
    return {t.name: t.state.name for t in runs if t.state is not None}


def run_logs(flow_run_id: str) -> list:
    """The log records of a flow run and its subflow runs (their task runs included), oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    ids = [str(r.id) for r in descendants(flow_run_id)]
    with get_client(sync_client=True) as client:
        return client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)), sort=LogSort.TIMESTAMP_ASC
        )


def wait_for_state(flow_run_id: str, names: tuple[str, ...], timeout_s: float = 300.0) -> str:
    """Poll a flow run until its state name is one of `names`; return it."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(flow_run_id).state
            if state is not None and state.name in names:
                return state.name
            if state is not None and state.is_final():
                raise AssertionError(f"flow run {flow_run_id} ended {state.name}: {state.message}")
            time.sleep(1)
    raise AssertionError(f"flow run {flow_run_id} did not reach {names} within {timeout_s} s")


def descendants(flow_run_id: str) -> list:
    """The flow run and all its subflow runs, at any depth."""
    from prefect.client.orchestration import get_client

    from sakura.watch import run_tree

    with get_client(sync_client=True) as client:
        return run_tree(client, flow_run_id)


def wait_for_paused(flow_run_id: str, timeout_s: float = 300.0):
    """The flow run (or subflow run, at any depth) that pauses first; fails if the run ends instead."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = descendants(flow_run_id)
        paused = [r for r in runs if r.state is not None and r.state.name == "Paused"]
        if paused:
            return paused[0]
        root = runs[0].state
        if root is not None and root.is_final():
            raise AssertionError(f"flow run {flow_run_id} ended {root.name} without pausing: {root.message}")
        time.sleep(1)
    raise AssertionError(f"nothing paused under flow run {flow_run_id} within {timeout_s} s")
