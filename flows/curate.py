"""The `curate` flow: analyse new raw files in batches on the task runner, curate (skipped when nothing it reads
changed), publish the review, pause for it."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, pause_flow_run, task
from prefect.cache_policies import NONE, TASK_SOURCE, Inputs
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner

from curation.config import CurationConfig
from curation.layout import DatasetLayout
from curation.pipeline import Batch, analyse_batch, batches, curate, pending, store
from curation.records import Analysis
from curation.report import review_summary
from flows.fingerprint import raw_digest, settings_digest
from flows.review import (
    ReviewSettings,
    apply_review,
    approved_fingerprint,
    publish_review,
    record_approval,
    review_form,
)
from flows.runners import task_runner
from flows.steps import dataset_name


class ReviewRejected(RuntimeError):
    """The reviewer did not approve the dataset."""


@task(name="curate-plan", task_run_name="curate-plan", cache_policy=NONE)
def plan_task(cfg: CurationConfig, parallel: int) -> list[Batch]:
    """The raw files the cache cannot answer for (new or changed), in batches for `parallel` workers."""
    todo = batches(cfg, pending(cfg), parallel)
    get_run_logger().info("%s files to analyse in %s batches", sum(len(b.files) for b in todo), len(todo))
    return todo


@task(name="curate-analyse", task_run_name="curate-analyse-{index}", cache_policy=NONE)
def analyse_task(batch: Batch, index: int) -> list[Analysis]:
    """Analyse one batch wherever the task runner puts it (a thread here, a Dask worker): each file in a child
    process, so one that crashes or hangs its decoder costs only itself. The dataset folder must be reachable there."""
    return analyse_batch(batch)


# CONTENT_CACHE less one input: what curation reads is in the key (the raw fingerprint), how many files the batches
# decoded before it is not.
CURATE_CACHE = Inputs(exclude=["analysed"]) + TASK_SOURCE


@task(name="curate-dataset", task_run_name="curate-dataset", cache_policy=CURATE_CACHE)
def curate_task(cfg: CurationConfig, dataset_dir: str, raw_fingerprint: str, analysed: int = 0) -> dict[str, Any]:
    """Decide (duplicates, groups, split) and write the dataset, from the analyses the batches stored; `raw_fingerprint`
    (what curation reads) makes the cache follow the content.

    `dataset_dir` is named for the cache key: the config's location fields are not part of its JSON form."""
    result = curate(cfg, analysed=analysed)
    get_run_logger().info(
        "curated %s: %s new, %s cached, %.1f s", result.dataset_dir, result.analysed, result.cached, result.seconds
    )
    return {
        "dataset_dir": str(result.dataset_dir),
        "counts": result.counts,
        "report": str(result.report),
        "manifest": str(result.manifest),
        "analysed": result.analysed,
        "warnings": list(result.warnings),
    }


def _analyse_in_batches(cfg: CurationConfig) -> int:
    """Analyse the files the cache cannot answer for as batches of tasks on this flow's task runner, storing each
    batch's analyses as it finishes; returns how many files were analysed. On the thread runner at most
    `cfg.n_workers` batches run at once (one decoding process each); on Dask, one per Dask worker thread."""
    runner = FlowRunContext.get().task_runner
    window = cfg.n_workers if isinstance(runner, ThreadPoolTaskRunner) else None
    todo = plan_task(cfg, cfg.n_workers)
    running: deque = deque()
    done = 0
    for i, batch in enumerate(todo):
        if window is not None and len(running) >= window:
            done += _stored(cfg, running.popleft().result())
        running.append(analyse_task.submit(batch, i))
    while running:
        done += _stored(cfg, running.popleft().result())
    return done


def _stored(cfg: CurationConfig, analyses: list[Analysis]) -> int:
    store(cfg, analyses)
    return len(analyses)


def _curate(cfg: CurationConfig, refresh: bool) -> dict[str, Any]:
    ds = cfg.data_dir()
    refresh = refresh or not DatasetLayout(ds).report.is_file()  # outputs gone: the cache would lie
    analysed = _analyse_in_batches(cfg)
    return curate_task.with_options(refresh_cache=refresh)(cfg, str(ds), raw_digest(ds), analysed)


def _review_description(ds: Path, counts: dict[str, Any]) -> str:
    lines = [
        f"### Review the curated dataset `{ds.name}`",
        "",
        "The images are on this flow run's **Artifacts** tab: `review-...-a` / `-b` (duplicate groups, rejections)"
        " and `review-...-<domain>-<split>-<page>` (every kept image).",
        "",
        "| domain | kept | train | test |",
        "|---|---|---|---|",
    ]
    lines += [f"| {d} | {c.get('kept')} | {c.get('train')} | {c.get('test')} |" for d, c in counts.items()]
    lines += ["", "Approve to train. To leave images out, pick their ids or whole duplicate groups below, or type ids "
              "seen on the pages under *exclude*; each excluded image's near-duplicates go with it."]  # fmt: skip
    return "\n".join(lines)


def _named(curation: CurationConfig, dataset: str | None, domains_file: str | None) -> CurationConfig:
    """The flow's curation settings for the dataset the flow works on."""
    return curation.replace(dataset=dataset_name(dataset, domains_file))


def review_dataset(cfg: CurationConfig, review: ReviewSettings) -> dict[str, Any]:
    """Publish the curated dataset's review artifacts in the current flow run; in mode `ui`, pause this run (the one
    the user started and watches) for a reviewer, then apply the exclusions.

    An exclusion re-curates the dataset at once (before any training) and stays in curation/excluded.txt for
    every later run. A dataset approved once is not asked about again until it changes.
    """
    ds = cfg.data_dir()
    counts = review_summary(ds).counts
    publish_review(ds, counts)
    if review.mode == "auto":
        return {"approved": True, "excluded": [], "counts": counts}
    if approved_fingerprint(ds) == settings_digest([raw_digest(ds), cfg.to_dict()]):
        print("this dataset was already approved in an earlier review; not pausing")
        return {"approved": True, "excluded": [], "counts": counts}
    form = review_form(ds)
    print(f"paused for review of {ds.name}: approve or exclude images in the run's Resume form")
    decision = pause_flow_run(
        wait_for_input=form.with_initial_data(description=_review_description(ds, counts)),
        timeout=review.timeout_s,
    )
    if not decision.approve:
        raise ReviewRejected(f"the reviewer did not approve {ds.name}: {decision.note or 'no reason given'}")
    excluded = apply_review(ds, decision)
    if excluded:
        print(f"excluding {len(excluded)} image(s) from {ds.name}: {excluded}; curating again")
        counts = _curate(cfg, refresh=False)["counts"]
        publish_review(ds, counts)
    record_approval(ds, settings_digest([raw_digest(ds), cfg.to_dict()]), excluded)
    return {"approved": True, "excluded": excluded, "counts": counts}


@flow(name="review", log_prints=True)
def review_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    curation: CurationConfig = CurationConfig(),
    review: ReviewSettings = ReviewSettings(mode="ui"),
) -> dict[str, Any]:
    """Publish the last curation's review artifacts; in mode `ui` (this deployment's default), pause for a reviewer."""
    return review_dataset(_named(curation, dataset, domains_file), review)


@flow(name="curate", log_prints=True, task_runner=task_runner())
def curate_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    curation: CurationConfig = CurationConfig(),
    review: ReviewSettings | None = ReviewSettings(),
    refresh: bool = False,
) -> dict[str, Any]:
    """Curate raw/ into {train,test}/{A,B}, then the review (artifacts; in mode `ui` this run pauses for a reviewer).

    The curation step is skipped (Cached) when neither the raw images, the exclusions nor the settings changed.
    `review` None leaves the review to the caller (collect-and-train reviews in its own run, where the user looks).
    """
    cfg = _named(curation, dataset, domains_file)
    summary = _curate(cfg, refresh)
    if review is None:
        return summary
    reviewed = review_dataset(cfg, review)
    return {**summary, "counts": reviewed["counts"], "excluded": reviewed["excluded"]}
