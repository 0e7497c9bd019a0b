"""Which task runner the flows fan out on: threads (default) or Dask (`SAKURA_TASK_RUNNER=dask`)."""

from __future__ import annotations

from prefect.task_runners import ThreadPoolTaskRunner

from core.environment import environment, variable
from core.errors import invalid

RUNNER_ENV = variable("task_runner")


def task_runner(kind: str | None = None, dask_workers: int | None = None):
    """The task runner named by `kind` or $SAKURA_TASK_RUNNER: a thread pool, or a Dask cluster (local or remote)."""
    env = environment()
    kind = kind or env.task_runner
    if kind not in ("threads", "dask"):
        raise invalid(RUNNER_ENV, kind, "threads or dask")
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=env.threads)
    from prefect_dask import DaskTaskRunner

    if env.dask_address:
        return DaskTaskRunner(address=env.dask_address)
    workers = dask_workers or env.dask_workers  # a positive integer: the environment's type says so
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
