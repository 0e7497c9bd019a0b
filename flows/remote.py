"""What moves between machines when the data root is an `s3://` URL: each a task, nothing when the root is local.

The raw store stays with the collectors. Curation publishes the dataset (train/test, A/B) as an immutable snapshot;
training pulls the snapshot by id into this machine's working copy, then pushes the run (checkpoints, generators,
metrics); translation pulls the run's generators and the test split, then pushes the translations. Only what a
step reads moves, and only once: parts already in the store, and local files whose hash matches, are not sent again.
"""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task

from core.config import TEST
from core.paths import remote_root
from core.snapshot import Transfer, latest_snapshot, publish_run, publish_snapshot, pull_run, pull_snapshot
from core.store import ObjectStore
from model.data import dataset_files
from model.layout import DIRECTIONS, RunDir


def open_store() -> ObjectStore:
    """The data root's object store, checked (endpoint, credentials, bucket)."""
    store = ObjectStore.from_environment(remote_root() or "")
    store.check()
    return store


def _say(what: str, store: ObjectStore, t: Transfer) -> None:
    gone = f", {t.removed} not in the snapshot removed" if t.removed else ""
    get_run_logger().info("%s %s: %d file(s) moved, %d already in place%s", what, store.url, t.moved, t.kept, gone)


def publish_dataset(dataset_dir: Path) -> str | None:
    """Publish the curated split as a snapshot: its id (None with a local data root: no task, nothing moves)."""
    return _publish_dataset(dataset_dir) if remote_root() else None


def pull_dataset(dataset_dir: Path, snapshot: str | None, test_only: bool = False) -> str | None:
    """Make the local dataset folder hold the snapshot `snapshot` (default: the newest published), verified by hash;
    only the test split when `test_only`. The snapshot's id (None with a local data root)."""
    return _pull_dataset(dataset_dir, snapshot, test_only) if remote_root() else None


def push_run(run: RunDir) -> None:
    """Publish the run folder: checkpoints, generators, metrics, translations (nothing with a local data root)."""
    if remote_root():
        _push_run(run)


def pull_generators(run: RunDir) -> None:
    """Make the local run folder hold what translation reads of a published run: both generators and the run's
    metrics (nothing with a local data root)."""
    if remote_root():
        _pull_generators(run)


@task(name="publish-dataset", task_run_name="publish-dataset")
def _publish_dataset(dataset_dir: Path) -> str:
    store = open_store()
    t = publish_snapshot(store, dataset_dir.name, dataset_dir, dataset_files(dataset_dir))
    _say(f"published snapshot {t.name} of {dataset_dir.name} to", store, t)
    return t.name


@task(name="pull-dataset", task_run_name="pull-dataset")
def _pull_dataset(dataset_dir: Path, snapshot: str | None, test_only: bool) -> str:
    store = open_store()
    sid = snapshot or latest_snapshot(store, dataset_dir.name)
    only = _test_split if test_only else None
    t = pull_snapshot(store, dataset_dir.name, sid, dataset_dir, only, defines=lambda: dataset_files(dataset_dir))
    _say(f"pulled snapshot {sid} of {dataset_dir.name}{' (test split)' if test_only else ''} from", store, t)
    return sid


def _test_split(rel: str) -> bool:
    return rel.split("/", 1)[0].startswith(TEST)  # test/A, test/B or the official testA, testB


@task(name="push-run", task_run_name="push-run")
def _push_run(run: RunDir) -> None:
    store = open_store()
    _say(f"pushed run {run.name} to", store, publish_run(store, run.dataset_dir.name, run.path))


@task(name="pull-generators", task_run_name="pull-generators")
def _pull_generators(run: RunDir) -> None:
    store = open_store()
    needed = {p.relative_to(run.path).as_posix() for p in [*map(run.generator, DIRECTIONS), run.metrics]}
    t = pull_run(store, run.dataset_dir.name, run.name, run.path, needed.__contains__)
    _say(f"pulled the generators of run {run.name} from", store, t)
