"""Which task runner the flows fan out on: threads (default) or Dask (`SAKURA_TASK_RUNNER=dask`)."""

from __future__ import annotations

import os

from prefect.task_runners import ThreadPoolTaskRunner

from core.config import require

RUNNER_ENV = "SAKURA_TASK_RUNNER"  # threads | dask
DASK_ADDRESS_ENV = "SAKURA_DASK_ADDRESS"  # an existing scheduler, e.g. tcp://10.0.0.5:8786; else a local cluster
DASK_WORKERS_ENV = "SAKURA_DASK_WORKERS"  # workers of the local cluster (default 2)
THREADS_ENV = "SAKURA_THREADS"  # threads of the default runner (default 4)


def task_runner(kind: str | None = None, dask_workers: int | None = None):
    """The task runner named by `kind` or $SAKURA_TASK_RUNNER: a thread pool, or a Dask cluster (local or remote)."""
    kind = kind or os.environ.get(RUNNER_ENV, "threads")
    require(kind in ("threads", "dask"), RUNNER_ENV, kind, "threads or dask")
    if kind == "threads":
        threads = os.environ.get(THREADS_ENV, "4")
        require(threads.isdigit() and int(threads) > 0, THREADS_ENV, threads, "a positive integer")
        return ThreadPoolTaskRunner(max_workers=int(threads))
    from prefect_dask import DaskTaskRunner

    address = os.environ.get(DASK_ADDRESS_ENV)
    if address:
        return DaskTaskRunner(address=address)
    workers = dask_workers or os.environ.get(DASK_WORKERS_ENV, "2")
    require(str(workers).isdigit() and int(workers) > 0, DASK_WORKERS_ENV, workers, "a positive integer")
    return DaskTaskRunner(cluster_kwargs={"n_workers": int(workers), "threads_per_worker": 1, "processes": True})
