"""The `curate` flow: analyse new raw files in batches on the task runner, curate (skipped when nothing it reads
changed), publish the review, pause for it."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, pause_flow_run, task
from prefect.cache_policies import NONE, TASK_SOURCE, Inputs
from prefect.context import FlowRunContext
from prefect.futures import as_completed
from prefect.input import create_flow_run_input
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from curation import Batch, CurationResult, analyse, analyse_batch, curate, review_summary
from curation.config import CurationConfig
from curation.layout import DatasetLayout
from curation.records import Analysis
from flows.fingerprint import raw_digest, settings_digest
from flows.review import (
    REVIEW_REQUEST,
    Curated,
    ReviewSettings,
    apply_review,
    approved_fingerprint,
    publish_review,
    record_approval,
    review_form,
)
from flows.runners import task_runner
from flows.steps import dataset_name, paused_saying, review_message


class ReviewRejected(RuntimeError):
    """The reviewer did not approve the dataset."""


@dataclass(frozen=True)
class Reviewed:
    """What the review decided: the ids it excluded, the counts it leaves, and the curation it ran again when it
    excluded images (None when it did not)."""

    counts: dict[str, dict[str, Any]]
    excluded: tuple[str, ...] = ()
    recurated: CurationResult | None = None


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


def _curate(cfg: CurationConfig, refresh: bool) -> CurationResult:
    ds = cfg.data_dir()
    refresh = refresh or not DatasetLayout(ds).report.is_file()  # outputs gone: the cache would lie
    analysed = analyse(cfg, functools.partial(_on_task_runner, window=cfg.n_workers))
    return curate_task.with_options(refresh_cache=refresh)(cfg, str(ds), raw_digest(ds), analysed)


def _review_description(ds: Path, counts: dict[str, Any], page_hint: str) -> str:
    lines = [
        f"### Review the curated dataset `{ds.name}`",
        "",
        "| domain | kept | train | test |",
        "|---|---|---|---|",
    ]
    lines += [f"| {d} | {c.get('kept')} | {c.get('train')} | {c.get('test')} |" for d, c in counts.items()]
    lines += ["", "Approve to train. To leave images out, pick them below (each list has its pictures above it, "
              "captioned with the ids its options start with); each excluded image's near-duplicates go with it.",
              "", f"Many images? Click them on {page_hint}: every kept image by domain and split, duplicate groups "
              "side by side; its Submit resumes this run. Rejections and every image also are on this run's "
              "**Artifacts** tab (`review-...`)."]  # fmt: skip
    return "\n".join(lines)


def _summary(counts: dict[str, Any]) -> str:
    """The counts in words: `A 92 kept (81 train, 11 test); B ...`."""
    return "; ".join(
        f"{d} {c.get('kept')} kept ({c.get('train')} train, {c.get('test')} test)" for d, c in counts.items()
    )


def _named(curation: CurationConfig, dataset: str | None, domains_file: str | None) -> CurationConfig:
    """The flow's curation settings for the dataset the flow works on."""
    return curation.replace(dataset=dataset_name(dataset, domains_file))


def review_dataset(cfg: CurationConfig, review: ReviewSettings) -> Reviewed:
    """Publish the curated dataset's review artifacts in the current flow run; in mode `ui`, pause this run (the one
    the user started and watches) for a reviewer, then apply the exclusions.

    An exclusion re-curates the dataset at once (before any training) and stays in curation/excluded.txt for
    every later run. A dataset approved once is not asked about again until it changes.
    """
    ds = cfg.data_dir()
    cur = Curated.read(ds)
    counts = review_summary(ds).counts
    publish_review(cur, counts)
    if review.mode == "auto":
        return Reviewed(counts)
    if approved_fingerprint(cur.layout) == settings_digest([raw_digest(ds), cfg.to_dict()]):
        print("this dataset was already approved in an earlier review; not pausing")
        return Reviewed(counts)
    run_id = flow_run.get_id()
    hint = f"the review page: `.venv/bin/sakura review {run_id}` (prints its address)"
    create_flow_run_input(REVIEW_REQUEST, {"dataset_dir": str(ds)})  # what `sakura review <run>` shows
    print(review_message(run_id, ds.name))  # the log line `--watch` shows; the Paused state says the same
    with paused_saying(review_message(run_id, ds.name)):
        decision = pause_flow_run(
            wait_for_input=review_form(cur, hint, _summary(counts)).with_initial_data(
                description=_review_description(ds, counts, hint)
            ),
            timeout=review.timeout_s,
        )
    if not decision.approve:
        raise ReviewRejected(f"the reviewer did not approve {ds.name}: {decision.note or 'no reason given'}")
    excluded = apply_review(cur, decision)
    recurated = None
    if excluded:
        print(f"excluding {len(excluded)} image(s) from {ds.name}: {excluded}; curating again")
        recurated = _curate(cfg, refresh=False)
        counts = recurated.counts
        publish_review(Curated.read(ds), counts)  # the manifest curation just wrote
    record_approval(cur.layout, settings_digest([raw_digest(ds), cfg.to_dict()]), excluded)
    return Reviewed(counts, tuple(excluded), recurated)


@flow(name="review", log_prints=True)
def review_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    curation: CurationConfig = CurationConfig(),
    review: ReviewSettings = ReviewSettings(mode="ui"),
) -> Reviewed:
    """Publish the last curation's review artifacts; in mode `ui` (this deployment's default), pause for a reviewer."""
    return review_dataset(_named(curation, dataset, domains_file), review)


@flow(name="curate", log_prints=True, task_runner=task_runner())
def curate_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    curation: CurationConfig = CurationConfig(),
    review: ReviewSettings | None = ReviewSettings(),
    refresh: bool = False,
) -> CurationResult:
    """Curate raw/ into {train,test}/{A,B}, then the review (artifacts; in mode `ui` this run pauses for a reviewer).

    The curation step is skipped (Cached) when neither the raw images, the exclusions nor the settings changed.
    `review` None leaves the review to the caller (collect-and-train reviews in its own run, where the user looks).
    """
    cfg = _named(curation, dataset, domains_file)
    curated = _curate(cfg, refresh)
    if review is None:
        return curated
    return review_dataset(cfg, review).recurated or curated
