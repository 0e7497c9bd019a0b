"""The `collect-and-train` flow: scrape -> curate (+ review) -> train -> translate, each a subflow."""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow

from flows.curate import curate_flow
from flows.scrape import scrape_flow
from flows.steps import Step, check_steps, dataset_name
from flows.train import train_flow, translate_flow


@flow(name="collect-and-train", log_prints=True)
def collect_and_train(
    dataset: str | None = None,
    domains_file: str | None = None,
    queries_a: list[str] | None = None,
    queries_b: list[str] | None = None,
    per_query_limit: int = 100,
    per_domain_limit: int | None = 300,
    engine: Literal["google", "bing"] = "google",
    engine_url: str | None = None,
    headed: bool = False,
    allow_private_networks: list[str] | None = None,
    searches_per_minute: int = 6,
    min_side: int = 256,
    threshold: int = 8,
    test_fraction: float = 0.1,
    review: Literal["auto", "ui"] = "auto",
    review_timeout_s: int = 3600,
    profile: Literal["auto", "cpu", "paper"] = "auto",
    epochs: int | None = None,
    device: str = "auto",
    gpus: int = 1,
    scrape_options: dict[str, Any] | None = None,
    curation_options: dict[str, Any] | None = None,
    train_options: dict[str, Any] | None = None,
    force: list[Step] | None = None,
) -> dict[str, Any]:
    """The whole pipeline. Steps whose inputs did not change are skipped (Cached); `force` names steps to redo.

    Review `ui` pauses after curation until a reviewer resumes the run (approve, exclude image ids); `auto`
    goes straight on. Profile `auto` trains the paper setup on a GPU and the small CPU setup otherwise.
    """
    forced = check_steps(force)
    name = dataset_name(dataset, domains_file)
    scraped = scrape_flow(
        dataset=name,
        domains_file=domains_file,
        queries_a=queries_a,
        queries_b=queries_b,
        per_query_limit=per_query_limit,
        per_domain_limit=per_domain_limit,
        engine=engine,
        engine_url=engine_url,
        headed=headed,
        allow_private_networks=allow_private_networks,
        options=scrape_options,
        refresh="scrape" in forced,
    )
    curated = curate_flow(
        dataset=name,
        domains_file=domains_file,
        review=review,
        review_timeout_s=review_timeout_s,
        min_side=min_side,
        threshold=threshold,
        test_fraction=test_fraction,
        options=curation_options,
        refresh="curate" in forced,
    )
    trained = train_flow(
        dataset=name,
        domains_file=domains_file,
        profile=profile,
        epochs=epochs,
        device=device,
        gpus=gpus,
        options=train_options,
        refresh="train" in forced,
    )
    translated = translate_flow(
        dataset=name, domains_file=domains_file, run=trained["run"], device=device, refresh="translate" in forced
    )
    summary = {
        "dataset_dir": curated["dataset_dir"],
        "images": scraped["images"],
        "curated": curated["counts"],
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
