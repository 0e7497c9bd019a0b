"""The `train` and `translate` flows: CycleGAN on the curated dataset, with progress and sample artifacts."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from core.settings import PositiveInt
from flows.artifacts import Tile, artifact_key, data_uri, gallery, table_rows
from flows.fingerprint import file_digest, split_digest
from flows.remote import pull_dataset, pull_generators, push_run
from flows.steps import CONTENT_CACHE, GPUS, dataset_name, require_dataset
from model.cli import torchrun_command
from model.config import TrainConfig
from model.layout import DIRECTIONS, RunDir, new_run_name
from model.training import train
from model.translation import TranslateConfig, TranslateResult, find_run, translate


class TrainingReporter:
    """The train task's progress callback: a progress artifact, a log line (step x/N, it/s, ETA) at least every
    `log_every_s` (what `sakura run` prints while training), and loss-plot / sample-grid artifacts per epoch."""

    def __init__(self, run_dir: Path, key: str, every_s: float = 5.0, log_every_s: float = 15.0) -> None:
        self.run_dir, self.key, self.every_s, self.log_every_s = run_dir, key, every_s, log_every_s
        self.progress_id = create_progress_artifact(progress=0.0, description=f"Training {run_dir.name}")
        self.epoch, self.last_update, self.last_log = 0, 0.0, time.monotonic()
        self.started: tuple[float, int] | None = None  # (time, step) of the first report

    def __call__(self, step: int, total: int, info: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_update >= self.every_s or step == total:
            update_progress_artifact(self.progress_id, progress=100.0 * step / max(1, total))
            self.last_update = now
        if self.started is None:
            self.started = (now, step)
        if now - self.last_log >= self.log_every_s or step == total:
            get_run_logger().info(progress_line(step, total, info, self.started, now))
            self.last_log = now
        epoch = int(info.get("epoch", 0))
        if epoch > self.epoch:
            if self.epoch > 0:
                self.publish_epoch(self.epoch)
            self.epoch = epoch

    def publish_epoch(self, epoch: int) -> None:
        """Markdown artifact with the loss plot and the newest sample grid (real | fake | rec per domain)."""
        run = RunDir(self.run_dir)
        plot, samples = run.loss_plot, run.newest_sample_grid()
        parts = [f"# {self.run_dir.name}, after epoch {epoch}\n"]
        if plot.is_file():
            parts.append(f"## Losses\n![losses]({data_uri(plot, max_side=720, quality=80)})\n")
        if samples is not None:
            parts.append("## Samples: real_A | fake_B | rec_A and real_B | fake_A | rec_B\n")
            parts.append(f"![samples]({data_uri(samples, max_side=720, quality=85)})\n")
        create_markdown_artifact(markdown="\n".join(parts), key=self.key, description=f"Epoch {epoch}")


def progress_line(step: int, total: int, info: dict[str, Any], started: tuple[float, int], now: float) -> str:
    """`train: epoch 2, step 120/1800 (7%), 1.85 it/s, ETA 15 min` from the steps done since `started`."""
    t0, s0 = started
    rate = (step - s0) / (now - t0) if now > t0 and step > s0 else 0.0
    eta = f"ETA {_duration((total - step) / rate)}" if rate else "ETA unknown"
    return f"train: epoch {info.get('epoch', '?')}, step {step}/{total} ({100 * step / max(1, total):.0f}%), " \
        f"{rate:.2f} it/s, {eta}"  # fmt: skip


def _duration(seconds: float) -> str:
    return (
        f"{seconds:.0f} s"
        if seconds < 90
        else f"{seconds / 60:.0f} min"
        if seconds < 5400
        else f"{seconds / 3600:.1f} h"
    )


@task(name="train-model", task_run_name="train-model", cache_policy=CONTENT_CACHE)
def train_task(cfg: TrainConfig, dataset_dir: str, split_fingerprint: str, gpus: int = GPUS) -> RunDir:
    """Train on the split with this fingerprint; a new run folder per trained model (`dataset_dir` keys the cache:
    the config's location fields are not part of its JSON form)."""
    cfg = cfg.replace(run=cfg.run or new_run_name())
    run = RunDir.of(cfg.data_dir(), cfg.run)
    if gpus > 1:
        command = torchrun_command(cfg, gpus)
        get_run_logger().info("launching %d processes: %s", gpus, " ".join(command))
        subprocess.run(command, check=True)
    else:
        reporter = TrainingReporter(run.path, artifact_key("training", cfg.data_dir().name))
        train(cfg, progress=reporter)
        reporter.publish_epoch(reporter.epoch)
    return run


@flow(name="train", log_prints=True, persist_result=True)  # persisted: a caller on another pool reads it
def train_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    training: TrainConfig = TrainConfig(),
    gpus: PositiveInt = GPUS,
    refresh: bool = False,
    snapshot: str | None = None,
) -> RunDir:
    """Train CycleGAN on the dataset's train split (skipped, Cached, when neither the split nor the settings changed).

    `gpus` > 1 launches `torchrun` with one process per GPU (DistributedDataParallel). With an `s3://` data root the
    dataset snapshot `snapshot` (default: the newest published) is pulled first and the run is pushed after.
    """
    cfg = training.replace(dataset=dataset_name(dataset, domains_file), progress_bar=False)  # progress: artifact
    ds = cfg.data_dir()
    pull_dataset(ds, snapshot)
    require_dataset(ds)
    run = train_task.with_options(refresh_cache=refresh)(cfg, str(ds), split_digest(ds), gpus)
    push_run(run)
    print(f"run: {run.path}")
    return run


def _metric_rows(metrics: dict[str, Any], translated: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's final scores (domain classifier, checkerboard, structure, FID/KID) and those of this translation."""
    final = metrics.get("final") or {}
    rows = [{"metric": k, "value": v, "of": "training"} for k, v in final.items() if isinstance(v, int | float)]
    rows += [{"metric": f"fid_kid.{k}", "value": v, "of": "training"} for k, v in (final.get("fid_kid") or {}).items()]
    rows += [{"metric": k, "value": v, "of": "translated test set"} for k, v in translated.items()]
    return rows


@task(name="translate-test-set", task_run_name="translate-test-set", cache_policy=CONTENT_CACHE)
def translate_task(
    cfg: TranslateConfig, run_dir: str, weights_fingerprint: str, split_fingerprint: str
) -> TranslateResult:
    """Translate the test set both ways with the run's generators (`run_dir` keys the cache)."""
    return translate(cfg)


@flow(name="translate", log_prints=True, persist_result=True)
def translate_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    translation: TranslateConfig = TranslateConfig(),
    refresh: bool = False,
    snapshot: str | None = None,
) -> TranslateResult:
    """Translate the test set A->B and B->A with a run's generators (default: the newest run); publish a gallery
    and the metrics. With an `s3://` data root the test split of `snapshot` (default: the newest published) and the
    named run's generators are pulled first and the translations pushed after."""
    cfg = translation.replace(dataset=dataset_name(dataset, domains_file), progress_bar=False)
    pull_dataset(cfg.data_dir(), snapshot, test_only=True)
    require_dataset(cfg.data_dir())
    if cfg.run:
        pull_generators(RunDir.of(cfg.data_dir(), cfg.run))
    run = find_run(cfg)
    cfg = cfg.replace(run=run.name)
    weights = "".join(file_digest(run.generator(d)) for d in DIRECTIONS)
    translate_step = translate_task.with_options(refresh_cache=refresh)
    result = translate_step(cfg, str(run.path), weights, split_digest(run.dataset_dir))
    push_run(run)
    ds = run.dataset_dir
    grids = result.grids or result.written.get("A2B", [])
    create_markdown_artifact(
        markdown=f"# {ds.name} / {run.name}: test set A -> B\n\n"
        + gallery([Tile(Path(p), Path(p).stem[:24]) for p in grids], columns=3, limit=24, max_side=320),
        key=artifact_key("translations", ds.name),
        description="Street -> cherry blossoms on the test set",
    )
    rows = _metric_rows(run.read_metrics(), result.metrics)
    if rows:
        create_table_artifact(
            table=table_rows(rows),
            key=artifact_key("metrics", ds.name),
            description="Domain score, checkerboard energy and structure (and FID/KID with Inception weights)",
        )
    print(f"translations: {result.out_dir}")
    return result
