"""The `curate` flow: analyse new raw files in batches on the task runner, curate (skipped when nothing it reads
changed), then the review (artifacts; in mode `ui` a pause for a reviewer)."""

from __future__ import annotations

from prefect import flow

from curation import CurationResult
from curation.config import CurationConfig
from flows.curation_step import curate_dataset, named
from flows.remote import publish_dataset
from flows.review import ReviewSettings, review_dataset
from flows.runners import task_runner


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
    With an `s3://` data root the reviewed dataset is published as a snapshot (the newest, which training pulls).
    """
    cfg = named(curation, dataset, domains_file)
    curated = curate_dataset(cfg, refresh)
    if review is None:
        return curated
    result = review_dataset(cfg, review).recurated or curated
    publish_dataset(cfg.data_dir())
    return result
