"""The `collect-and-train` flow: scrape -> curate (+ review) -> train -> translate, each a subflow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow

from core.settings import PositiveInt
from curation.config import CurationConfig
from flows.curate import curate_flow
from flows.remote import publish_dataset
from flows.review import Reviewed, ReviewSettings, review_dataset
from flows.scrape import scrape_flow
from flows.steps import GPUS, SEARCHES_PER_MINUTE, Step, dataset_name, on_deployment
from flows.train import train_flow, translate_flow
from model.config import TrainConfig
from model.layout import RunDir
from model.translation import TranslateConfig, TranslateResult
from scraper.config import ScrapeConfig
from scraper.records import ScrapeResult


@dataclass(frozen=True)
class PipelineResult:
    """What collect-and-train made: each stage's own result."""

    scraped: ScrapeResult
    reviewed: Reviewed
    run: RunDir
    translated: TranslateResult

    @property
    def dataset_dir(self) -> Path:
        return self.run.dataset_dir


@flow(name="collect-and-train", log_prints=True)
def collect_and_train(
    dataset: str | None = None,
    domains_file: str | None = None,
    queries_a: list[str] | None = None,
    queries_b: list[str] | None = None,
    engine_url: str | None = None,
    searches_per_minute: PositiveInt = SEARCHES_PER_MINUTE,
    scrape: ScrapeConfig = ScrapeConfig(),
    curation: CurationConfig = CurationConfig(),
    review: ReviewSettings = ReviewSettings(),
    training: TrainConfig = TrainConfig(),
    translation: TranslateConfig = TranslateConfig(),
    gpus: PositiveInt = GPUS,
    force: list[Step] | None = None,
    gpu_deployment: str | None = None,
) -> PipelineResult:
    """The whole pipeline. Steps whose inputs did not change are skipped (Cached); `force` names steps to redo.

    Each stage's settings are one section (scrape, curation, review, training, translation). Review `ui` pauses
    after curation until a reviewer resumes the run (approve, exclude image ids); `auto` goes straight on.
    Training profile `auto` trains the paper setup on a GPU and the small CPU setup otherwise.
    `gpu_deployment` (e.g. `gpu`) hands training and translation to the deployments `train/<it>` and
    `translate/<it>` (their work pool's workers, e.g. on a GPU machine); none: they run in this run's process.
    With an `s3://` data root the curated dataset is published as a snapshot that training pulls by its id.
    """
    forced = set(force or [])
    name = dataset_name(dataset, domains_file)
    scraped = scrape_flow(
        dataset=name,
        domains_file=domains_file,
        queries_a=queries_a,
        queries_b=queries_b,
        engine_url=engine_url,
        searches_per_minute=searches_per_minute,
        scrape=scrape,
        refresh="scrape" in forced,
    )
    curate_flow(dataset=name, curation=curation, review=None, refresh="curate" in forced)
    reviewed = review_dataset(curation.replace(dataset=name), review)  # in this run: the one the user watches
    snapshot = publish_dataset(curation.replace(dataset=name).data_dir())  # s3:// data root: what training pulls
    train, translate = (train_flow, translate_flow) if gpu_deployment is None else _deployed(gpu_deployment)
    run = train(dataset=name, training=training, gpus=gpus, refresh="train" in forced, snapshot=snapshot)
    translated = translate(
        dataset=name,
        translation=translation.replace(run=run.name),
        refresh="translate" in forced,
        snapshot=snapshot,
    )
    print(f"dataset: {run.dataset_dir}\ncheckpoints: {run.last_checkpoint.parent}\ntranslations: {translated.out_dir}")
    return PipelineResult(scraped, reviewed, run, translated)


def _deployed(deployment: str):
    """train_flow and translate_flow as calls of their deployments named `deployment` (same parameters)."""

    def train(**parameters) -> RunDir:
        return on_deployment(f"{train_flow.name}/{deployment}", parameters)

    def translate(**parameters) -> TranslateResult:
        return on_deployment(f"{translate_flow.name}/{deployment}", parameters)

    return train, translate
