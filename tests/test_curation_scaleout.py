"""Curation scaled out: the curate flow's per-file analysis as batches of tasks on a 2-worker local Dask cluster and on
threads, each making the dataset that `curate` alone makes, byte for byte; a rerun analyses nothing and is Cached."""

from __future__ import annotations

import random
import shutil

import pytest

from curation import CurationConfig, curate
from flows.runners import task_runner
from tests.support import curation_images as ci
from tests.support import curation_streets as cs
from tests.support.flows_serve import task_states

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _raw(root) -> None:
    """71 files: 30 distinct streets per domain, copies of 5 of each (the target kinds), one that cannot be decoded."""
    for domain in "AB":
        for seed in range(30):
            im = cs.street(domain, seed, (480, 360))
            ci.put(root / "raw", domain, cs.jpeg(im))
            if seed < 5:
                ci.put(root / "raw", domain, cs.transformed(im, cs.TARGET_KINDS[seed], random.Random(seed)))
    ci.put(root / "raw", "A", ci.truncated_jpeg())


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("scaleout")
    _raw(base / "local")
    for name in ("dask", "threads"):
        shutil.copytree(base / "local" / "raw", base / name / "raw")
    curate(CurationConfig(dataset_dir=base / "local", workers=2))
    return base


@pytest.mark.parametrize("kind", ["dask", "threads"])
def test_the_flow_on_each_task_runner_makes_the_dataset_curate_makes(prefect_server, folders, kind):
    from prefect_dask import DaskTaskRunner

    from flows.curate import curate_flow

    runner = task_runner(kind, dask_workers=2)
    assert isinstance(runner, DaskTaskRunner) == (kind == "dask")
    flow = curate_flow.with_options(task_runner=runner)
    cfg = CurationConfig(dataset_dir=folders / kind, workers=2)
    state = flow(dataset="scaleout", curation=cfg, review=None, return_state=True)
    summary = state.result()
    states = task_states(str(state.state_details.flow_run_id))
    analysed = sorted(name for name in states if name.startswith("curate-analyse-"))
    assert analysed == ["curate-analyse-0", "curate-analyse-1", "curate-analyse-2"], states
    assert states["curate-dataset"] == "Completed" and summary.analysed == 71
    assert ci.dataset_files(folders / kind) == ci.dataset_files(folders / "local")
    again = flow(dataset="scaleout", curation=cfg, review=None, return_state=True)
    states = task_states(str(again.state_details.flow_run_id))
    assert states["curate-dataset"] == "Cached" and not any(n.startswith("curate-analyse-") for n in states), states
