"""The `train` and `translate` flows: CycleGAN on the curated dataset, with progress and sample artifacts."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from flows.artifacts import Tile, artifact_key, data_uri, gallery, table_rows
from flows.fingerprint import file_digest, split_digest
from flows.steps import CONTENT_CACHE, build_config, dataset_name
from model import TrainConfig, TranslateConfig, train, translate
from sakura.config import ConfigError
from sakura.paths import dataset_dir


def _newest(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


class TrainingReporter:
    """The train task's progress callback: a progress artifact, and loss-plot / sample-grid artifacts per epoch."""

    def __init__(self, run_dir: Path, key: str, every_s: float = 5.0) -> None:
        self.run_dir, self.key, self.every_s = run_dir, key, every_s
        self.progress_id = create_progress_artifact(progress=0.0, description=f"Training {run_dir.name}")
        self.epoch, self.last_update = 0, 0.0

    def __call__(self, step: int, total: int, info: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_update >= self.every_s or step == total:
            update_progress_artifact(self.progress_id, progress=100.0 * step / max(1, total))
            self.last_update = now
        epoch = int(info.get("epoch", 0))
        if epoch > self.epoch:
            if self.epoch > 0:
                self.publish_epoch(self.epoch)
            self.epoch = epoch

    def publish_epoch(self, epoch: int) -> None:
        """Markdown artifact with the loss plot and the newest sample grid (real | fake | rec per domain)."""
        plot, samples = self.run_dir / "plots" / "losses.png", _newest(self.run_dir / "samples", "*.png")
        parts = [f"# {self.run_dir.name}, after epoch {epoch}\n"]
        if plot.is_file():
            parts.append(f"## Losses\n![losses]({data_uri(plot, max_side=720, quality=80)})\n")
        if samples is not None:
            parts.append("## Samples: real_A | fake_B | rec_A and real_B | fake_A | rec_B\n")
            parts.append(f"![samples]({data_uri(samples, max_side=720, quality=85)})\n")
        create_markdown_artifact(markdown="\n".join(parts), key=self.key, description=f"Epoch {epoch}")


def _read_metrics(run_dir: Path) -> dict[str, Any]:
    """The run's metrics.json ({} before the first evaluation)."""
    path = run_dir / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def torchrun_command(settings: dict[str, Any], gpus: int) -> list[str]:
    """`torchrun ... -m sakura train` with every setting as a flag: one process per GPU, rank 0 writes."""
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    cmd = [torchrun, "--standalone", f"--nproc_per_node={gpus}", "-m", "sakura", "train"]
    for name, value in settings.items():
        if value is None or name == "resume":
            continue
        flag = "--run-name" if name == "run" else "--" + name.replace("_", "-")
        if isinstance(value, bool):
            cmd.append(flag if value else "--no-" + flag[2:])
        else:
            cmd += [flag, str(value)]
    return cmd


@task(name="train-model", task_run_name="train-model", cache_policy=CONTENT_CACHE)
def train_task(settings: dict[str, Any], split_fingerprint: str, gpus: int = 1) -> dict[str, Any]:
    """Train on the split with this fingerprint; a new run folder per trained model."""
    run = settings.get("run") or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    settings = {**settings, "run": run}
    cfg = TrainConfig(**settings)
    run_dir = cfg.data_dir() / "runs" / run
    key = artifact_key("training", cfg.data_dir().name)
    if gpus > 1:
        get_run_logger().info("launching %d processes: %s", gpus, " ".join(torchrun_command(settings, gpus)))
        subprocess.run(torchrun_command(settings, gpus), check=True)
        reporter = None
    else:
        reporter = TrainingReporter(run_dir, key)
        result = train(cfg, progress=reporter)
        run_dir = result.run_dir
    if reporter is not None:
        reporter.publish_epoch(reporter.epoch)
    metrics = _read_metrics(run_dir)
    generators = {d: str(run_dir / "generators" / f"G_{d}.pt") for d in ("A2B", "B2A")}
    return {"run_dir": str(run_dir), "run": run, "generators": generators, "metrics": metrics}


@flow(name="train", log_prints=True)
def train_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    profile: Literal["auto", "cpu", "paper"] = "auto",
    epochs: int | None = None,
    device: str = "auto",
    gpus: int = 1,
    options: dict[str, Any] | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """Train CycleGAN on the dataset's train split (skipped, Cached, when neither the split nor the settings changed).

    `gpus` > 1 launches `torchrun` with one process per GPU (DistributedDataParallel).
    """
    if gpus < 1:
        raise ConfigError(f"gpus: got {gpus}; allowed: 1 or more")
    options = {"progress_bar": False, **(options or {})}  # progress goes to the artifact, not the log
    cfg = build_config(
        TrainConfig, options, dataset=dataset_name(dataset, domains_file), profile=profile, epochs=epochs, device=device
    )
    fingerprint = split_digest(cfg.data_dir())
    summary = train_task.with_options(refresh_cache=refresh)(cfg.to_dict(), fingerprint, gpus)
    print(f"run: {summary['run_dir']}")
    return summary


def _metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    final = metrics.get("final") or {}
    rows = [{"metric": k, "value": v} for k, v in final.items() if isinstance(v, int | float)]
    rows += [{"metric": f"fid_kid.{k}", "value": v} for k, v in (final.get("fid_kid") or {}).items()]
    return rows


@task(name="translate-test-set", task_run_name="translate-test-set", cache_policy=CONTENT_CACHE)
def translate_task(settings: dict[str, Any], weights_fingerprint: str, split_fingerprint: str) -> dict[str, Any]:
    """Translate the test set both ways with the run's generators; publish a gallery and the metrics."""
    result = translate(TranslateConfig(**settings))
    written = {d: [str(p) for p in ps] for d, ps in result.written.items()}
    return {
        "out_dir": str(result.out_dir),
        "written": written,
        "grids": [str(p) for p in result.grids],
        "failed": [f"{s.path}: {s.reason}" for s in result.failed],
        "images_per_s": result.images_per_s,
    }


@flow(name="translate", log_prints=True)
def translate_flow(
    dataset: str | None = None,
    domains_file: str | None = None,
    run: str | None = None,
    device: str = "auto",
    options: dict[str, Any] | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """Translate the test set A->B and B->A with a run's generators (default: the newest run)."""
    cfg = build_config(TranslateConfig, options, dataset=dataset_name(dataset, domains_file), run=run, device=device)
    run_dir = find_run(cfg)
    ds = run_dir.parent.parent
    settings = {**dataclasses.asdict(cfg), "inputs": list(cfg.inputs), "progress_bar": False}
    weights = file_digest(run_dir / "generators" / "G_A2B.pt") + file_digest(run_dir / "generators" / "G_B2A.pt")
    summary = translate_task.with_options(refresh_cache=refresh)(settings, weights, split_digest(ds))
    grids = summary["grids"] or summary["written"].get("A2B", [])
    create_markdown_artifact(
        markdown=f"# {ds.name} / {run_dir.name}: test set A -> B\n\n"
        + gallery([Tile(Path(p), Path(p).stem[:24]) for p in grids], columns=3, limit=24, max_side=320),
        key=artifact_key("translations", ds.name),
        description="Street -> cherry blossoms on the test set",
    )
    metrics = _read_metrics(run_dir)
    rows = _metric_rows(metrics)
    if rows:
        create_table_artifact(
            table=table_rows(rows),
            key=artifact_key("metrics", ds.name),
            description="Domain-classifier scores (and FID/KID when Inception weights are given)",
        )
    summary["metrics"] = metrics
    print(f"translations: {summary['out_dir']}")
    return summary


def find_run(cfg: TranslateConfig) -> Path:
    """The run folder whose generators the translation uses: cfg.run, else the newest trained run."""
    runs = (Path(cfg.dataset_dir) if cfg.dataset_dir else dataset_dir(cfg.dataset)) / "runs"
    if cfg.run:
        found = [runs / cfg.run / "generators" / "G_A2B.pt"]
    else:
        found = sorted(runs.glob("*/generators/G_A2B.pt"), key=lambda p: p.stat().st_mtime)
    if not found or not found[-1].is_file():
        raise ConfigError(f"run: no trained generators under {runs}; train first")
    return found[-1].parent.parent
