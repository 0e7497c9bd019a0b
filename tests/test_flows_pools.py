"""Beyond one machine with Prefect's own parts: two `process` work pools (cpu, gpu), one `prefect worker start` per
pool in its own working directory, the deployments of prefect.yaml (`prefect deploy --all`), and a demo
collect-and-train run on the cpu pool whose training and translation run on the gpu pool's worker."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from core.paths import PROJECT_ROOT
from sakura.watch import run_tree
from tests.support.flows_serve import TINY, run_deployment
from tests.support.pools import POOLS, group_alive, prefect, worker

pytestmark = [pytest.mark.prefect, pytest.mark.browser, pytest.mark.slow]


def test_collect_and_train_trains_and_translates_on_the_gpu_pools_worker(prefect_server, demo, tmp_path):
    from prefect.client.orchestration import get_client

    data_root, results = tmp_path / "data", tmp_path / "results"  # what both "machines" share
    data_root.mkdir()
    shutil.copy(PROJECT_ROOT / "datasets" / "domains.toml", data_root / "domains.toml")  # the data root's domains
    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url, "SAKURA_DATA_ROOT": str(data_root),
           "PREFECT_LOCAL_STORAGE_PATH": str(results), "PREFECT_WORKER_QUERY_SECONDS": "1",
           "SAKURA_PROJECT_DIR": str(PROJECT_ROOT)}  # fmt: skip
    for pool in POOLS:
        prefect("work-pool", "create", pool, "--type", "process", "--overwrite", env=env)
    deployed = prefect("--no-prompt", "deploy", "--all", env=env)
    for name in ("collect-and-train/cpu", "scrape/cpu", "curate/cpu", "review/cpu", "train/gpu", "translate/gpu"):
        assert name in deployed, deployed

    cpu_worker, gpu_worker = worker("cpu", tmp_path / "cpu-worker", env), worker("gpu", tmp_path / "gpu-worker", env)
    with cpu_worker as (cpu, cpu_log), gpu_worker as (gpu, gpu_log):
        proc, run_id = run_deployment("collect-and-train/cpu", {**TINY, "dataset": "pools", "engine_url": demo.url})
        logs = f"cpu worker:\n{cpu_log.read_text()[-3000:]}\ngpu worker:\n{gpu_log.read_text()[-3000:]}"
        assert proc.returncode == 0, proc.stdout[-3000:] + logs
        with get_client(sync_client=True) as client:
            runs = run_tree(client, run_id)
            on = {client.read_deployment(r.deployment_id).name: r for r in runs if r.deployment_id}
            by_flow = {client.read_flow(r.flow_id).name: r for r in runs}
        assert set(on) == {"cpu", "gpu"}, on  # collect-and-train/cpu, then train/gpu and translate/gpu
        train, translate = by_flow["train"], by_flow["translate"]
        assert (train.work_pool_name, translate.work_pool_name, by_flow["collect-and-train"].work_pool_name) == (
            "gpu", "gpu", "cpu"), logs  # fmt: skip
        assert {r.state.name for r in runs} == {"Completed"}, [(r.name, r.state.name) for r in runs]
        assert str(train.id) in gpu_log.read_text() and str(translate.id) in gpu_log.read_text(), logs
        assert str(train.id) not in cpu_log.read_text() and run_id in cpu_log.read_text(), logs
    ds = data_root / "pools"
    (run_dir,) = (ds / "runs").iterdir()
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert any((run_dir / "translations" / "A2B").iterdir()) and any((run_dir / "translations" / "B2A").iterdir())
    time.sleep(0.5)
    assert not any(group_alive(p.pid) for p in (cpu, gpu))  # the workers and their flow-run processes are gone
