"""The curation step as Prefect tasks: new raw files analysed in batches on the flow's task runner, then one cached
task that decides and writes. The curate flow runs it, and the review runs it again after excluding images."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from prefect import get_run_logger, task
from prefect.cache_policies import NONE, TASK_SOURCE, Inputs
from prefect.context import FlowRunContext
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from curation import Batch, CurationResult, analyse, analyse_batch, curate
from curation.config import CurationConfig
from curation.layout import DatasetLayout
from curation.records import Analysis
from flows.fingerprint import raw_digest
from flows.steps import dataset_name


@task(name="curate-analyse", task_run_name="curate-analyse-{index}", cache_policy=NONE)
def analyse_task(batch: Batch, index: int) -> list[Analysis]:
    """Analyse one batch wherever the task runner puts it (a thread here, a Dask worker): each file in a child
    process, so one that crashes or hangs its decoder costs only itself. The dataset folder must be reachable there."""
    return analyse_batch(batch)


# CONTENT_CACHE less one input: what curation reads is in the key (the raw fingerprint), how many files the batches
# decoded before it is not.
CURATE_CACHE = Inputs(exclude=["analysed"]) + TASK_SOURCE


@task(name="curate-dataset", task_run_name="curate-dataset", cache_policy=CURATE_CACHE)
def curate_task(cfg: CurationConfig, dataset_dir: str, raw_fingerprint: str, analysed: int = 0) -> CurationResult:
    """Decide (duplicates, groups, split) and write the dataset, from the analyses the batches stored; `raw_fingerprint`
    (what curation reads) makes the cache follow the content.

    `dataset_dir` is named for the cache key: the config's location fields are not part of its JSON form."""
    result = curate(cfg, analysed=analysed)
    get_run_logger().info(
        "curated %s: %s new, %s cached, %.1f s", result.dataset_dir, result.analysed, result.cached, result.seconds
    )
    return result


def _on_task_runner(todo: list[Batch], window: int) -> Iterator[list[Analysis]]:
    """Run the batches as tasks on this flow's task runner; their analyses as each finishes. On the thread runner at
    most `window` batches (one decoding process each) run at once: batch i waits for batch i - window."""
    if not isinstance(FlowRunContext.get().task_runner, ThreadPoolTaskRunner):
        window = len(todo)  # Dask: one batch per worker thread, as the cluster schedules them
    get_run_logger().info("%s files to analyse in %s batches", sum(len(b.files) for b in todo), len(todo))
    futures: list = []
    for i, batch in enumerate(todo):
        futures.append(analyse_task.submit(batch, i, wait_for=[futures[i - window]] if i >= window else []))
    for future in as_completed(futures):
        yield future.result()


def curate_dataset(cfg: CurationConfig, refresh: bool = False) -> CurationResult:
    """Analyse what the cache cannot answer for on the task runner, then decide and write (Cached when nothing that
    curation reads changed)."""
    ds = cfg.data_dir()
    refresh = refresh or not DatasetLayout(ds).report.is_file()  # outputs gone: the cache would lie
    analysed = analyse(cfg, functools.partial(_on_task_runner, window=cfg.n_workers))
    return curate_task.with_options(refresh_cache=refresh)(cfg, str(ds), raw_digest(ds), analysed)


def named(curation: CurationConfig, dataset: str | None, domains_file: str | None) -> CurationConfig:
    """The flows' curation settings for the dataset the flow works on."""
    return curation.replace(dataset=dataset_name(dataset, domains_file))
