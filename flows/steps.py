"""What the flows share: the steps `force` can name, the cache policy, defaults of flow-only parameters."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from prefect.cache_policies import INPUTS, TASK_SOURCE

from core.config import UserError, default_dataset, load_domains
from core.environment import variable

Step = Literal["scrape", "curate", "train", "translate"]
# A step's result is reused when the same code gets the same inputs; inputs carry content fingerprints.
CONTENT_CACHE = INPUTS + TASK_SOURCE
SEARCHES_PER_MINUTE = 6  # the Prefect rate limit on searches (global across runs)
GPUS = 1  # training processes; more than one launches torchrun


def dataset_name(dataset: str | None, domains_file: str | None) -> str:
    """The dataset to work on: the parameter, else the name in the domains file."""
    if dataset:
        return dataset
    return load_domains(domains_file).name if domains_file else default_dataset()


class DeploymentRunFailed(RuntimeError, UserError):
    """A stage handed to its deployment (another work pool) did not complete, or its result cannot be read here."""


# What a stage that runs in another worker's process needs to see of this one: the data (the dataset and the run
# folders) and Prefect's results (what the stage returned): a shared filesystem at the same path on every machine,
# or an s3:// data root and the result storage block in it (flows.remote, flows.results).
SHARED = (
    f"the workers of every pool must share the data root ({variable('data_root')}) and Prefect's result storage "
    "(PREFECT_LOCAL_STORAGE_PATH) at the same paths, or use an s3:// data root and `sakura results-storage`"
)


def on_deployment(name: str, parameters: dict[str, Any]) -> Any:
    """Run the deployment `name` (`flow/deployment`, e.g. `train/gpu` on a GPU work pool) as a subflow of this run
    (linked in the UI), wait for it and return its result; a failed run or an unreadable result is one line."""
    from prefect.deployments import run_deployment

    child = run_deployment(name=name, parameters=parameters, as_subflow=True, poll_interval=2)
    state = child.state
    if state is None or not state.is_completed():
        why = f"{state.name}: {state.message}" if state is not None else "no state"
        raise DeploymentRunFailed(f"{name}: flow run {child.name} ended {why}")
    try:
        return state.result()
    except Exception as e:  # MissingResult, a storage path this machine cannot read, ...: say what to share
        raise DeploymentRunFailed(
            f"{name}: flow run {child.name} completed but its result cannot be read here "
            f"({type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}); {SHARED}"
        ) from None


def require_dataset(ds: Path) -> None:
    """A stage that reads a dataset another machine made: one line when this machine cannot see it."""
    if not ds.is_dir():
        raise UserError(f"dataset {ds} not found on {socket.gethostname()}: {SHARED}")


class UserErrorsInOneLine(logging.Filter):
    """Prefect's run loggers log a failed run or task with its traceback; a UserError's message already says what
    happened (a config error, a failed search, a scrape that found nothing), so it goes without one: the line that
    `--watch`, the UI and serve.log show is the cause itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], UserError):
            record.exc_info, record.exc_text = None, None
        return True


# In every process that runs a flow (the serving process's flow-run subprocesses import the flows from here).
for _name in ("prefect.flow_runs", "prefect.task_runs"):
    if not any(isinstance(f, UserErrorsInOneLine) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(UserErrorsInOneLine())


def review_message(run_id: str, dataset: str) -> str:
    """What a run paused for review says in its state (`prefect flow-run inspect`, the UI): how to review and resume."""
    return (
        f"paused for review of {dataset}: the review page `.venv/bin/sakura review {run_id}`, or the Resume button "
        f"in the UI; resume from a terminal: `.venv/bin/sakura resume {run_id} [--exclude ID ...] [--reject]`"
    )


@contextmanager
def paused_saying(message: str) -> Iterator[None]:
    """`pause_flow_run` inside this block proposes its Paused state with `message` (Prefect 3.9.1's takes none, and
    builds the state inside the call: its module's `Paused` is wrapped for the block, for this flow run only)."""
    import prefect.flow_runs as flow_runs
    from prefect.context import FlowRunContext

    original, ctx = flow_runs.Paused, FlowRunContext.get()
    run_id = ctx.flow_run.id if ctx and ctx.flow_run else None

    def paused(*args, **kwargs):
        now = FlowRunContext.get()
        if now and now.flow_run and now.flow_run.id == run_id:
            kwargs.setdefault("message", message)
        return original(*args, **kwargs)

    flow_runs.Paused = paused
    try:
        yield
    finally:
        flow_runs.Paused = original
