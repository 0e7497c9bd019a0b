"""Training logs without servers: per-iteration CSV and TensorBoard, loss plots and sample grids as PNG."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from core import files  # noqa: E402
from model.data import to_image  # noqa: E402
from model.engine import LOSS_NAMES  # noqa: E402
from model.layout import RunDir  # noqa: E402

CSV_FIELDS = ("global_step", "epoch", "iteration", *LOSS_NAMES, "lr", "seconds")


class RunLogger:
    """Writes <run>/losses.csv, TensorBoard events under <run>/tensorboard, plots and samples. On resume, rows
    after the resumed step are dropped so the logs match the weights."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir, self.run = run_dir, RunDir(run_dir)
        self.csv_path = self.run.losses
        run_dir.mkdir(parents=True, exist_ok=True)
        if resume_step is not None and self.csv_path.exists():
            rows = [r for r in read_losses(self.csv_path) if int(r["global_step"]) <= resume_step]
            _write_rows(self.csv_path, rows)
        elif not self.csv_path.exists() or resume_step is None:
            _write_rows(self.csv_path, [])
        self._csv_file = self.csv_path.open("a", newline="", encoding="utf-8")
        self._csv = csv.DictWriter(self._csv_file, fieldnames=CSV_FIELDS)
        self.tb = SummaryWriter(str(self.run.tensorboard), purge_step=(resume_step + 1) if resume_step else None)

    def log_step(
        self, global_step: int, epoch: int, iteration: int, losses: dict[str, float], lr: float, seconds: float
    ) -> None:
        self._csv.writerow(
            {
                "global_step": global_step,
                "epoch": epoch,
                "iteration": iteration,
                **losses,
                "lr": lr,
                "seconds": round(seconds, 4),
            }
        )
        for k, v in losses.items():
            self.tb.add_scalar(f"loss/{k}", v, global_step)
        self.tb.add_scalar("lr", lr, global_step)

    def log_metrics(self, global_step: int, metrics: dict) -> None:
        for k, v in metrics.items():
            if isinstance(v, int | float):
                self.tb.add_scalar(f"metrics/{k}", v, global_step)

    def end_epoch(self, epoch: int, samples: dict[str, torch.Tensor] | None) -> dict[str, Path]:
        """Flush the CSV and TensorBoard, redraw plots/losses.png, write samples/epoch_NNN.png."""
        self._csv_file.flush()
        self.tb.flush()
        out = {"plot": plot_losses(read_losses(self.csv_path), self.run.loss_plot)}
        if samples is not None:
            out["samples"] = sample_grid(samples, self.run.sample_grid(epoch))
        return out

    def close(self) -> None:
        self._csv_file.close()
        self.tb.close()


def _write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        w.writerows(rows)


def read_losses(path: Path) -> list[dict[str, str]]:
    """Rows of losses.csv."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def plot_losses(rows: list[dict[str, str]], path: Path, window: int = 20) -> Path:
    """Each loss per iteration (faint) and its moving average over `window` iterations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    steps = [int(r["global_step"]) for r in rows]
    for ax, names in zip(axes, (("G_GAN", "G_cycle", "G_identity"), ("D_A", "D_B")), strict=True):
        for name in names:
            ys = [float(r[name]) for r in rows]
            line = ax.plot(steps, ys, alpha=0.25, linewidth=0.8)[0]
            avg = [
                sum(ys[max(0, i - window + 1) : i + 1]) / len(ys[max(0, i - window + 1) : i + 1])
                for i in range(len(ys))
            ]
            ax.plot(steps, avg, color=line.get_color(), label=name)
        ax.set_xlabel("iteration")
        ax.legend()
        ax.grid(alpha=0.3)
    axes[0].set_title("generators")
    axes[1].set_title("discriminators")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def sample_grid(samples: dict[str, torch.Tensor], path: Path) -> Path:
    """Rows real_A | fake_B | rec_A and real_B | fake_A | rec_B (one pair of rows per sample image)."""
    rows = []
    for i in range(samples["real_A"].shape[0]):
        rows.append([samples[k][i] for k in ("real_A", "fake_B", "rec_A")])
        rows.append([samples[k][i] for k in ("real_B", "fake_A", "rec_B")])
    return image_grid(rows, path)


def image_grid(rows: list[list[torch.Tensor]], path: Path, gap: int = 2) -> Path:
    """Tiles (3, H, W) tensors in [-1, 1] (same size per row) into one PNG with white gaps."""
    ims = [[to_image(t) for t in row] for row in rows]
    width = max(sum(im.width for im in row) + gap * (len(row) - 1) for row in ims)
    height = sum(max(im.height for im in row) for row in ims) + gap * (len(ims) - 1)
    grid = Image.new("RGB", (width, height), "white")
    y = 0
    for row in ims:
        x = 0
        for im in row:
            grid.paste(im, (x, y))
            x += im.width + gap
        y += max(im.height for im in row) + gap
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)
    return path


def write_metrics(path: Path, data: dict) -> Path:
    """Write JSON atomically (temp file + rename), indented, keys sorted."""
    return files.write_json(path, data, indent=2, sort_keys=True)
