"""The `collect-and-train` flow: scrape -> curate (+ review) -> train -> translate, each a subflow."""

from __future__ import annotations

from typing import Any

from prefect import flow

from curation.config import CurationConfig
from flows.curate import curate_flow, review_dataset
from flows.review import ReviewSettings
from flows.scrape import scrape_flow
from flows.steps import GPUS, SEARCHES_PER_MINUTE, Step, dataset_name
from flows.train import train_flow, translate_flow
from model.config import TrainConfig
from model.translation import TranslateConfig
from scraper.config import ScrapeConfig


@flow(name="collect-and-train", log_prints=True)
def collect_and_train(
    dataset: str | None = None,
    domains_file: str | None = None,
    queries_a: list[str] | None = None,
    queries_b: list[str] | None = None,
    engine_url: str | None = None,
    searches_per_minute: int = SEARCHES_PER_MINUTE,
    scrape: ScrapeConfig = ScrapeConfig(),
    curation: CurationConfig = CurationConfig(),
    review: ReviewSettings = ReviewSettings(),
    training: TrainConfig = TrainConfig(),
    translation: TranslateConfig = TranslateConfig(),
    gpus: int = GPUS,
    force: list[Step] | None = None,
) -> dict[str, Any]:
    """The whole pipeline. Steps whose inputs did not change are skipped (Cached); `force` names steps to redo.

    Each stage's settings are one section (scrape, curation, review, training, translation). Review `ui` pauses
    after curation until a reviewer resumes the run (approve, exclude image ids); `auto` goes straight on.
    Training profile `auto` trains the paper setup on a GPU and the small CPU setup otherwise.
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
    curated = curate_flow(dataset=name, curation=curation, review=None, refresh="curate" in forced)
    reviewed = review_dataset(curation.replace(dataset=name), review)  # in this run: the one the user watches
    trained = train_flow(dataset=name, training=training, gpus=gpus, refresh="train" in forced)
    translated = translate_flow(
        dataset=name, translation=translation.replace(run=trained["run"]), refresh="translate" in forced
    )
    summary = {
        "dataset_dir": curated["dataset_dir"],
        "images": scraped["images"],
        "curated": reviewed["counts"],
        "run_dir": trained["run_dir"],
        "generators": trained["generators"],
        "translations": translated["out_dir"],
        "metrics": (trained.get("metrics") or {}).get("final"),
    }
    print(
        f"dataset: {summary['dataset_dir']}\ncheckpoints: {summary['run_dir']}/checkpoints\n"
        f"translations: {summary['translations']}"
    )
    return summary
