"""Watching a flow run from the terminal: each stage as it starts and ends, progress lines, the review pause."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# Prefect's own bookkeeping lines, which say nothing a person watching needs.
_QUIET = ("Created task run", "Created subflow run", "Executing ", "Beginning ", "Finished in state", "Submitting",
          "Running on worker", "Opening process", "Process for flow run", "Downloading flow code", "Worker ",
          "Heartbeat")  # fmt: skip


def run_url(ui_url: str, run_id: str) -> str:
    """Where a flow run (its state, logs, artifacts and, when paused, the Resume form) is in the Prefect UI."""
    return f"{ui_url}/runs/flow-run/{run_id}"


def _stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


def run_tree(client, run_id: str) -> list:
    """The flow run and all its subflow runs, at any depth, the run first (a sync Prefect client)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    found, frontier = [client.read_flow_run(run_id)], [run_id]
    while frontier:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier))
        )
        found += children
        frontier = [str(c.id) for c in children]
    return found


class Watcher:
    """Polls a flow run and its subflow runs; prints state changes and the runs' log lines as they come."""

    def __init__(self, run_id: str, ui_url: str, out: Callable[[str], None] | None = None) -> None:
        self.run_id, self.ui_url = run_id, ui_url
        self.out = out or (lambda line: print(line, flush=True))
        self.states: dict[str, str] = {}
        self.flow_names: dict[str, str] = {}
        self.since = datetime.now(UTC)
        self.seen: set[str] = set()  # log ids printed (the time filter includes its own bound)
        self.paused_said = False

    def _name(self, client, run) -> str:
        key = str(run.flow_id)
        if key not in self.flow_names:
            self.flow_names[key] = client.read_flow(run.flow_id).name
        return self.flow_names[key]

    def poll(self, client) -> Any:
        """One look: print what changed; return the top-level run."""
        runs = run_tree(client, self.run_id)
        for run in runs:
            state = run.state.name if run.state else "Pending"
            if self.states.get(str(run.id)) != state:
                self.states[str(run.id)] = state
                if str(run.id) != self.run_id and state in ("Pending", "Scheduled"):
                    continue
                label = "run" if str(run.id) == self.run_id else "stage"
                self.out(f"[{_stamp()}] {label} {self._name(client, run)}: {state}")
        self._logs(client, [str(r.id) for r in runs])
        top = runs[0]
        if top.state is not None and top.state.is_paused() and not self.paused_said:
            self.paused_said = True
            self.out(f"\npaused for review: {run_url(self.ui_url, self.run_id)}  (the Resume button opens the form)")
            self.out(f"or click the images on a page of their own: .venv/bin/sakura review {self.run_id}")
            self.out(f"resume from a terminal: .venv/bin/sakura resume {self.run_id} [--exclude ID ...] [--reject]\n")
        elif top.state is not None and not top.state.is_paused():
            self.paused_said = False
        return top

    def _logs(self, client, run_ids: list[str]) -> None:
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterTimestamp
        from prefect.client.schemas.sorting import LogSort

        flt = LogFilter(flow_run_id=LogFilterFlowRunId(any_=run_ids), timestamp=LogFilterTimestamp(after_=self.since))
        for log in client.read_logs(log_filter=flt, sort=LogSort.TIMESTAMP_ASC, limit=200):
            if str(log.id) in self.seen:
                continue
            self.seen.add(str(log.id))
            self.since = max(self.since, log.timestamp)
            message = log.message.strip()
            if log.level >= 20 and message and not message.startswith(_QUIET):
                self.out(f"[{log.timestamp.astimezone().strftime('%H:%M:%S')}]   {message.splitlines()[0][:300]}")

    def until_final(self, every_s: float = 2.0) -> Any:
        """Poll until the top-level run ends; return its final state."""
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            while True:
                top = self.poll(client)
                if top.state is not None and top.state.is_final():
                    return top.state
                time.sleep(every_s)


def failure_lines(state, url: str) -> str:
    """At most three lines for a failed run: its state and message (the step's own short message), where to look."""
    message = (state.message or "").strip()
    first = "\n".join(message.splitlines()[:2])[:600]
    return f"{state.name}: {first}\ndetails (logs, artifacts): {url}"


def print_failure(state, url: str) -> None:
    print("\n" + failure_lines(state, url), file=sys.stderr)
