"""Where the model stage writes: `<dataset>/runs/<run>/` (the only module that spells these paths)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.config import ConfigError

RUNS = "runs"
RUN_NAME_FORMAT = "%Y%m%d-%H%M%S"  # a new run's default name: when it started (UTC)
Direction = Literal["A2B", "B2A"]
DIRECTIONS: tuple[str, ...] = ("A2B", "B2A")
TRANSLATION_METRICS = "metrics.json"  # in every translation output folder: its images' measures and failures
UNFINISHED = "UNFINISHED"  # in a run folder while its training has not ended well (running, cancelled or crashed)


def runs_dir(dataset_dir: str | Path) -> Path:
    """`<dataset>/runs`: one folder per training run."""
    return Path(dataset_dir) / RUNS


def new_run_name() -> str:
    """The default name of a new run: its start time, so names sort as runs were made."""
    return time.strftime(RUN_NAME_FORMAT, time.gmtime())


def datasets_with_runs(data_root: str | Path) -> list[str]:
    """The datasets under a data root that have at least one trained run (exported generators)."""
    root = Path(data_root)
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if d.is_dir() and any(r.trained for r in RunDir.all(d)))


@dataclass(frozen=True)
class RunDir:
    """One run's folder: checkpoints, exported generators, logs, metrics and translations."""

    path: Path

    @classmethod
    def of(cls, dataset_dir: str | Path, run: str) -> RunDir:
        return cls(runs_dir(dataset_dir) / run)

    @classmethod
    def newest(cls, dataset_dir: str | Path, needs: Literal["generators", "checkpoint"] = "generators") -> RunDir:
        """The most recently written finished run with exported generators (or any run with a last checkpoint, which
        `--resume` continues, unfinished ones included); ConfigError if none."""
        found = [r for r in cls.all(dataset_dir) if (r.trained if needs == "generators" else r.has_checkpoint)]
        if not found:
            if needs == "generators":
                others = [d for d in datasets_with_runs(Path(dataset_dir).parent) if d != Path(dataset_dir).name]
                where = f"; datasets with trained runs: {', '.join(others)} (--dataset NAME)" if others else ""
                raise ConfigError(
                    f"run: no trained run under {runs_dir(dataset_dir)} (train first, or give --weights){where}"
                )
            raise ConfigError(f"resume: no run with checkpoints/last.pt under {runs_dir(dataset_dir)}")
        return max(found, key=lambda r: r.mtime(needs))

    @classmethod
    def all(cls, dataset_dir: str | Path) -> list[RunDir]:
        """Every run folder of a dataset, by name."""
        root = runs_dir(dataset_dir)
        return [cls(p) for p in sorted(root.iterdir()) if p.is_dir()] if root.is_dir() else []

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def dataset_dir(self) -> Path:
        return self.path.parent.parent

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "best.pt"

    def generator(self, direction: str, best: bool = False) -> Path:
        """generators/G_A2B.pt (or best_G_A2B.pt): one generator alone, for translation."""
        return self.path / "generators" / f"{'best_' if best else ''}G_{direction}.pt"

    @property
    def has_generators(self) -> bool:
        return all(self.generator(d).is_file() for d in DIRECTIONS)

    @property
    def unfinished_mark(self) -> Path:
        """`UNFINISHED`: written when training starts, removed when it ends well; left by a cancel or a crash."""
        return self.path / UNFINISHED

    @property
    def unfinished(self) -> bool:
        return self.unfinished_mark.exists()

    @property
    def trained(self) -> bool:
        """Finished, with both generators exported: what translation and the summaries pick up."""
        return self.has_generators and not self.unfinished

    def mark_unfinished(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.unfinished_mark.write_text(
            "training started here and has not ended well (still running, cancelled or crashed); nothing picks this "
            "run up. `sakura train --resume --run-name NAME` continues it; or delete the folder.\n"
        )

    def mark_finished(self) -> None:
        self.unfinished_mark.unlink(missing_ok=True)

    @property
    def has_checkpoint(self) -> bool:
        return self.last_checkpoint.is_file()

    def mtime(self, of: Literal["generators", "checkpoint"] = "generators") -> float:
        return (self.generator("A2B") if of == "generators" else self.last_checkpoint).stat().st_mtime

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    def read_metrics(self) -> dict[str, Any]:
        """metrics.json ({} before the first evaluation)."""
        return json.loads(self.metrics.read_text()) if self.metrics.is_file() else {}

    @property
    def domain_classifier(self) -> Path:
        return self.path / "domain_classifier.pt"

    @property
    def losses(self) -> Path:
        return self.path / "losses.csv"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    @property
    def loss_plot(self) -> Path:
        return self.path / "plots" / "losses.png"

    def sample_grid(self, epoch: int) -> Path:
        return self.path / "samples" / f"epoch_{epoch:03d}.png"

    def newest_sample_grid(self) -> Path | None:
        found = sorted((self.path / "samples").glob("epoch_*.png"))
        return found[-1] if found else None

    @property
    def translations(self) -> Path:
        """The test set's translations: A2B/, B2A/ and grids/ (your own images go to custom/)."""
        return self.path / "translations"

    @property
    def translation_metrics(self) -> Path:
        """translations/metrics.json: checkerboard and structure of the translated test set, and its failures."""
        return self.translations / TRANSLATION_METRICS
