"""Watching a flow run from the terminal: each stage as it starts and ends, progress lines, the review pause."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from scraper.report import clip

# Prefect's own bookkeeping lines, which say nothing a person watching needs.
_QUIET = ("Created task run", "Created subflow run", "Executing ", "Beginning ", "Finished in state", "Submitting",
          "Running on worker", "Opening process", "Process for flow run", "Downloading flow code", "Worker ",
          "Heartbeat", "Encountered exception during execution", "Engine execution exited")  # fmt: skip
# (a failed run's exception is said once, by its final state, below the watched lines)


def run_url(ui_url: str, run_id: str) -> str:
    """Where a flow run (its state, logs, artifacts and, when paused, the Resume form) is in the Prefect UI."""
    return f"{ui_url}/runs/flow-run/{run_id}"


def _local(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M:%S")


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


LAG_S = 3.0  # each process sends its log lines in batches: a line is printed once this old, in time order
PAGE = 200  # log lines a request may ask for (the server's limit)
LOOKBACK_S = 30.0  # lines that reach the server late, with an earlier time than the last one printed, still come


class Watcher:
    """Polls a flow run and its subflow runs; prints state changes and the runs' log lines in time order."""

    def __init__(self, run_id: str, ui_url: str, out: Callable[[str], None] | None = None) -> None:
        self.run_id, self.ui_url = run_id, ui_url
        self.out = out or (lambda line: print(line, flush=True))
        self.states: dict[str, str] = {}
        self.flow_names: dict[str, str] = {}
        self.since = datetime.now(UTC)
        self.seen: set[str] = set()  # log ids printed or waiting (the time filter looks back)
        self.waiting: list[tuple[datetime, str]] = []  # (time, line) not printed yet
        self.paused_said = False

    def _name(self, client, run) -> str:
        key = str(run.flow_id)
        if key not in self.flow_names:
            self.flow_names[key] = client.read_flow(run.flow_id).name
        return self.flow_names[key]

    def poll(self, client, flush: bool = False) -> Any:
        """One look: print what changed up to LAG_S ago (everything when `flush`, paused or ended); return the
        top-level run."""
        runs = run_tree(client, self.run_id)
        for run in runs:
            state = run.state.name if run.state else "Pending"
            if self.states.get(str(run.id)) != state:
                self.states[str(run.id)] = state
                if str(run.id) != self.run_id and state in ("Pending", "Scheduled"):
                    continue
                label = "run" if str(run.id) == self.run_id else "stage"
                at = run.state.timestamp if run.state and run.state.timestamp else datetime.now(UTC)
                self.waiting.append((at, f"[{_local(at)}] {label} {self._name(client, run)}: {state}"))
        self._logs(client, [str(r.id) for r in runs])
        top = runs[0]
        paused = top.state is not None and top.state.is_paused()
        self._print(flush or paused or (top.state is not None and top.state.is_final()))
        if paused and not self.paused_said:
            self.paused_said = True
            self.out(f"\npaused for review: {run_url(self.ui_url, self.run_id)}  (the Resume button opens the form)")
            self.out(f"or click the images on a page of their own: .venv/bin/sakura review {self.run_id}")
            self.out(f"resume from a terminal: .venv/bin/sakura resume {self.run_id} [--exclude ID ...] [--reject]\n")
        elif top.state is not None and not paused:
            self.paused_said = False
        return top

    def _print(self, flush: bool) -> None:
        cutoff = datetime.now(UTC) - timedelta(seconds=0 if flush else LAG_S)
        self.waiting.sort(key=lambda item: item[0])
        ready = [line for at, line in self.waiting if at <= cutoff]
        self.waiting = [(at, line) for at, line in self.waiting if at > cutoff]
        for line in ready:
            self.out(line)

    def _logs(self, client, run_ids: list[str]) -> None:
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterTimestamp
        from prefect.client.schemas.sorting import LogSort

        after = self.since - timedelta(seconds=LOOKBACK_S)
        flt = LogFilter(flow_run_id=LogFilterFlowRunId(any_=run_ids), timestamp=LogFilterTimestamp(after_=after))
        logs, page = [], PAGE
        while page == PAGE:  # the server gives at most PAGE lines a request
            got = client.read_logs(log_filter=flt, sort=LogSort.TIMESTAMP_ASC, limit=PAGE, offset=len(logs))
            logs, page = logs + got, len(got)
        for log in logs:
            if str(log.id) in self.seen:
                continue
            self.seen.add(str(log.id))
            self.since = max(self.since, log.timestamp)
            message = log.message.strip()
            if log.level >= 20 and message and not message.startswith(_QUIET):
                line = clip(message.splitlines()[0], 400)
                self.waiting.append((log.timestamp, f"[{_local(log.timestamp)}]   {line}"))

    def until_final(self, every_s: float = 2.0) -> Any:
        """Poll until the top-level run ends (and its last log lines came); return its final state."""
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            while True:
                top = self.poll(client)
                if top.state is not None and top.state.is_final():
                    time.sleep(LAG_S)  # the last batches of log lines
                    return self.poll(client, flush=True).state
                time.sleep(every_s)


def failure_lines(state, url: str) -> str:
    """A few lines for a failed run: its state and message (the step's own short message: the first cause first),
    where to look, and last a hint the message ends with (`offline? ... make demo`)."""
    lines = [clip(line, 400) for line in (state.message or "").strip().splitlines()[:3]] or [""]
    hint = [lines.pop()] if len(lines) > 1 and lines[-1].startswith("offline?") else []
    return "\n".join([f"{state.name}: {lines[0]}", *lines[1:], f"details (logs, artifacts): {url}", *hint])


def print_failure(state, url: str) -> None:
    print("\n" + failure_lines(state, url), file=sys.stderr)
