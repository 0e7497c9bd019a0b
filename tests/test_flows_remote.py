"""The train flow with an s3:// data root, run in this process against the session's Prefect server and a real
SeaweedFS server: the store stopped during the snapshot's pull fails the flow with one line naming the URL and
leaves no partial file; the rerun pulls only what is missing, trains and pushes the run."""

from __future__ import annotations

import pytest

from core.snapshot import publish_snapshot
from core.store import ObjectStore
from model.config import TrainConfig
from model.data import dataset_files
from tests.support.flows_serve import TINY
from tests.support.model_data import make_dataset
from tests.support.seaweed import BUCKET, stopping_store

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def test_a_store_stopped_during_the_pull_fails_train_in_one_line_and_the_rerun_completes(
    prefect_server, s3_server, monkeypatch, tmp_path
):
    import flows.remote
    from flows.train import train_flow

    for name, value in s3_server.env("team").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SAKURA_LOCAL_ROOT", str(tmp_path / "gpu-machine"))
    src = make_dataset(tmp_path / "cpu-machine" / "ds", n_train=8, n_test=4)
    files = dataset_files(src)
    sid = publish_snapshot(flows.remote.open_store(), "ds", src, files).name

    real_open = flows.remote.open_store

    def stops_after_five() -> ObjectStore:
        store = real_open()
        return stopping_store(s3_server, after=5)(store.url, store.endpoint_url, store.region, store.client)

    monkeypatch.setattr(flows.remote, "open_store", stops_after_five)
    training = TrainConfig(**TINY["training"])
    state = train_flow(dataset="ds", training=training, snapshot=sid, return_state=True)
    assert state.is_failed()
    message = state.message or ""
    assert f"s3://{BUCKET}/team/ds/blobs/" in message and "\n" not in message.strip(), message
    assert s3_server.secret_key not in message
    local = tmp_path / "gpu-machine" / "ds"
    pulled = [p for p in local.rglob("*") if p.is_file()]
    assert not [p for p in pulled if p.name.endswith(".part")] and 5 <= len(pulled) < len(files)
    before = {p: p.stat().st_mtime_ns for p in pulled}

    monkeypatch.setattr(flows.remote, "open_store", real_open)
    s3_server.start()
    state = train_flow(dataset="ds", training=training, snapshot=sid, return_state=True)
    assert state.is_completed(), state.message
    run = state.result()
    assert len(dataset_files(local)) == len(files) and run.has_generators
    assert {p: p.stat().st_mtime_ns for p in pulled} == before  # what the first pull finished was not pulled again
    assert f"team/ds/runs/{run.name}.json" in s3_server.keys("team/ds/runs/")
