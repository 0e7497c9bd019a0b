"""Two machines that share no folder, as deployments.md's object-storage recipe: a real SeaweedFS S3 server holds the
data root (`s3://sakura/team`) and Prefect's results; a Prefect server that requires its API auth string; two
process work pools and two workers, each in its own folder with its own local data root and PREFECT_HOME. A demo
collect-and-train/cpu run scrapes and curates on the cpu worker, which publishes the dataset snapshot; the gpu worker
pulls it, trains, translates and pushes the run. Credentials appear nowhere the server or the bucket keeps."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import pytest

from core.paths import PROJECT_ROOT
from sakura import server
from sakura.watch import run_tree
from tests.support.flows_serve import TINY
from tests.support.net import free_port
from tests.support.pools import POOLS, PREFECT, group_alive, prefect, worker
from tests.support.seaweed import BUCKET

pytestmark = [pytest.mark.prefect, pytest.mark.browser, pytest.mark.slow]
SAKURA = str(Path(sys.executable).parent / "sakura")
TEAM = "team"  # the data root's prefix in the bucket


@contextmanager
def _server_with_auth(home: Path, auth: str) -> Iterator[server.ServerConfig]:
    """A Prefect server started with PREFECT_SERVER_API_AUTH_STRING=auth (the recipe's step 2)."""
    cfg = server.ServerConfig(home=home, port=free_port())
    old = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    os.environ["PREFECT_SERVER_API_AUTH_STRING"] = auth
    try:
        server.start(cfg)
    finally:
        if old is None:
            os.environ.pop("PREFECT_SERVER_API_AUTH_STRING")
        else:
            os.environ["PREFECT_SERVER_API_AUTH_STRING"] = old
    try:
        yield cfg
    finally:
        server.stop(cfg)


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    """The HTTP status of `POST url` with an empty JSON body."""
    request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json",
                                                                             **(headers or {})})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def _run(deployment: str, params: dict, env: dict) -> tuple[subprocess.CompletedProcess, str]:
    """`prefect deployment run DEPLOYMENT --params ... --watch` with `env`; the process and the flow run's id."""
    proc = subprocess.run(
        [PREFECT, "deployment", "run", deployment, "--params", json.dumps(params), "--watch", "--watch-timeout", "600"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=700,
    )  # fmt: skip
    found = re.search(r"UUID: ([0-9a-f-]{36})", proc.stdout)
    assert found, proc.stdout + proc.stderr
    return proc, found.group(1)


def _every(read) -> list:
    """Every item a paged client listing returns (`read_logs`, `read_artifacts`: 200 at most per call)."""
    found: list = []
    while page := read(limit=200, offset=len(found)):
        found += page
    return found


def _machine(root: Path, name: str, env: dict[str, str]) -> dict[str, str]:
    """One machine's environment: its own folder, local data root, PREFECT_HOME and local result path."""
    home = root / name
    (home / "data").mkdir(parents=True)
    return {**env, "SAKURA_LOCAL_ROOT": str(home / "data"), "PREFECT_HOME": str(home / "prefect-home"),
            "PREFECT_LOCAL_STORAGE_PATH": str(home / "prefect-results")}  # fmt: skip


def test_two_workers_that_share_no_folder_train_from_the_published_snapshot(s3_server, demo, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    auth = "sakura:" + secrets.token_urlsafe(16)
    with _server_with_auth(tmp_path / "server-home", auth) as cfg:
        env = {**os.environ, **s3_server.env(TEAM), "PREFECT_API_URL": cfg.api_url, "PREFECT_API_AUTH_STRING": auth,
               "PREFECT_DEFAULT_RESULT_STORAGE_BLOCK": "sakura-object-store/results",
               "PREFECT_WORKER_QUERY_SECONDS": "1", "SAKURA_PROJECT_DIR": str(PROJECT_ROOT)}  # fmt: skip
        cli = _machine(tmp_path, "client", env)
        saved = subprocess.run([SAKURA, "results-storage"], env=cli, capture_output=True, text=True, timeout=120)
        assert saved.returncode == 0 and f"s3://{BUCKET}/{TEAM}/prefect-results" in saved.stdout, saved
        for pool in POOLS:
            prefect("work-pool", "create", pool, "--type", "process", "--overwrite", env=cli)
        prefect("--no-prompt", "deploy", "--all", env=cli)

        cpu_env, gpu_env = _machine(tmp_path, "cpu-machine", env), _machine(tmp_path, "gpu-machine", env)
        shutil.copy(PROJECT_ROOT / "datasets" / "domains.toml", Path(cpu_env["SAKURA_LOCAL_ROOT"]))
        cpu_dir, gpu_dir = tmp_path / "cpu-machine" / "work", tmp_path / "gpu-machine" / "work"
        with worker("cpu", cpu_dir, cpu_env) as (cpu, cpu_log), worker("gpu", gpu_dir, gpu_env) as (gpu, gpu_log):
            assert _status(f"{cfg.api_url}/flow_runs/filter") == 401  # no auth string: refused, workers running
            wrong = base64.b64encode(b"sakura:guess").decode()
            assert _status(f"{cfg.api_url}/flow_runs/filter", {"Authorization": f"Basic {wrong}"}) == 401
            right = base64.b64encode(auth.encode()).decode()  # what Prefect's clients send
            assert _status(f"{cfg.api_url}/flow_runs/filter", {"Authorization": f"Basic {right}"}) == 200
            started = time.monotonic()
            proc, run_id = _run("collect-and-train/cpu", {**TINY, "dataset": "pools", "engine_url": demo.url}, cli)
            logs = f"cpu worker:\n{cpu_log.read_text()[-4000:]}\ngpu worker:\n{gpu_log.read_text()[-4000:]}"
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:] + logs
            print(f"collect-and-train/cpu on two workers: {time.monotonic() - started:.0f} s")
            # train/gpu again on the same snapshot, by its id: nothing moves twice, nothing is trained twice
            (sid,) = [k.rsplit("/", 1)[1][: -len(".json")] for k in s3_server.keys(f"{TEAM}/pools/snapshots/")
                      if k.endswith(".json")]  # fmt: skip
            again, again_id = _run(
                "train/gpu", {"dataset": "pools", "training": TINY["training"], "snapshot": sid}, cli
            )
            assert again.returncode == 0, again.stdout[-3000:] + gpu_log.read_text()[-4000:]
            with temporary_settings(updates={PREFECT_API_URL: cfg.api_url, PREFECT_API_AUTH_STRING: auth}):
                with get_client(sync_client=True) as client:
                    runs = run_tree(client, run_id)
                    by_flow = {client.read_flow(r.flow_id).name: r for r in runs}
                    rerun_tasks = {t.name: t.state.name for t in client.read_task_runs(
                        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(again_id)])))}  # fmt: skip
                    logged = _every(client.read_logs)
                    artifacts = _every(client.read_artifacts)
                    blocks = client.read_block_documents(include_secrets=True)
            assert {r.state.name for r in runs} == {"Completed"}, [(r.name, r.state.name) for r in runs]
            assert (by_flow["train"].work_pool_name, by_flow["translate"].work_pool_name) == ("gpu", "gpu")
            assert by_flow["collect-and-train"].work_pool_name == "cpu"
            assert rerun_tasks["train-model"] == "Cached", rerun_tasks
        time.sleep(0.5)
        assert not any(group_alive(p.pid) for p in (cpu, gpu))  # the workers and their flow-run processes are gone

    cpu_root, gpu_root = Path(cpu_env["SAKURA_LOCAL_ROOT"]), Path(gpu_env["SAKURA_LOCAL_ROOT"])
    # the raw store stayed with the collector; the gpu machine got the curated split only, and made the run
    assert (cpu_root / "pools" / "raw").is_dir() and not (gpu_root / "pools" / "raw").exists()
    assert not (cpu_root / "pools" / "runs").exists()
    (run_dir,) = (gpu_root / "pools" / "runs").iterdir()
    cpu_split = sorted(p.relative_to(cpu_root).as_posix() for p in (cpu_root / "pools").glob("t*/*/*"))
    gpu_split = sorted(p.relative_to(gpu_root).as_posix() for p in (gpu_root / "pools").glob("t*/*/*"))
    assert cpu_split and gpu_split == cpu_split

    keys = s3_server.keys(f"{TEAM}/")
    bucket = s3_server.client()
    manifest = json.loads(bucket.get_object(Bucket=BUCKET, Key=f"{TEAM}/pools/runs/{run_dir.name}.json")["Body"].read())
    published = set(manifest["files"])
    assert {"checkpoints/last.pt", "generators/G_A2B.pt", "generators/G_B2A.pt", "metrics.json"} <= published
    assert any(f.startswith("translations/A2B/") for f in published), sorted(published)
    assert any(k.startswith(f"{TEAM}/pools/snapshots/") and k.endswith(".json") for k in keys), keys
    results = [k for k in keys if k.startswith(f"{TEAM}/prefect-results/")]
    assert results, keys  # train/gpu's RunDir (and the others' results) were read from the bucket by the cpu worker

    secrets_ = (s3_server.secret_key, s3_server.access_key, auth)
    kept = {
        "worker logs": cpu_log.read_text() + gpu_log.read_text(),
        "flow run logs": "\n".join(log.message for log in logged),
        "flow run parameters": json.dumps([r.parameters for r in runs], default=str),
        "artifacts": json.dumps([a.data for a in artifacts], default=str),
        "blocks": json.dumps([b.data for b in blocks], default=str),
        "stored results": b"".join(bucket.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in results).decode(
            errors="replace"
        ),
    }
    for where, text in kept.items():
        for secret in secrets_:
            assert secret not in text, f"a credential appears in the {where}"
    said = kept["flow run logs"]
    assert f"published snapshot {sid} of pools to s3://{BUCKET}/{TEAM}: {len(cpu_split)} file(s) moved" in said, said
    assert f"pulled snapshot {sid} of pools from s3://{BUCKET}/{TEAM}: {len(cpu_split)} file(s) moved" in said
    assert f"pulled snapshot {sid} of pools from s3://{BUCKET}/{TEAM}: 0 file(s) moved" in said  # the rerun
    assert f"pushed run {run_dir.name} to s3://{BUCKET}/{TEAM}: 0 file(s) moved" in said
