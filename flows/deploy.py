"""The deployments `sakura serve` serves from one process: collect-and-train, scrape, curate, train, translate."""

from __future__ import annotations

from prefect import serve

from flows.curate import curate_flow
from flows.pipeline import collect_and_train
from flows.review import review_flow
from flows.scrape import scrape_flow
from flows.train import train_flow, translate_flow

DEPLOYMENT = "default"
# How often the serving process asks the server for scheduled runs: a run starts within this many seconds of
# `prefect deployment run` (Prefect's default 10 s was a sixth of `make demo`); one light query, local server.
POLL_SECONDS = 2.0
FLOWS = (collect_and_train, scrape_flow, curate_flow, review_flow, train_flow, translate_flow)


def deployments(name: str = DEPLOYMENT) -> list:
    """One deployment per flow, named `<flow>/<name>` (the fan-out flows use $SAKURA_TASK_RUNNER's runner)."""
    return [f.to_deployment(name=name, description=(f.description or "").split("\n")[0]) for f in FLOWS]


def serve_deployments(name: str = DEPLOYMENT, limit: int | None = None) -> None:
    """Serve every deployment from this process until interrupted; each flow run executes in a subprocess."""
    serve(*deployments(name), limit=limit, query_seconds=POLL_SECONDS)
