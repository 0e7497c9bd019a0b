"""TrainConfig, the CPU and paper profiles, and the choice of device and precision."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from model.networks import NetConfig
from sakura.config import DATASET_NAME_RE, ConfigError, require
from sakura.paths import dataset_dir

PROFILES = ("auto", "cpu", "paper")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
RUN_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

# Settings each profile fills in where the config leaves them as None.
PROFILE_DEFAULTS: dict[str, dict[str, Any]] = {
    # The paper's setup (256 px crops of 286 px images, ResNet-9 at ngf 64) with the seed project's schedule.
    "paper": dict(image_size=256, load_size=286, ngf=64, ndf=64, n_blocks=9, epochs=50, decay_epoch=25),
    # Small enough for 2 CPU cores: 64 px crops, ResNet-6 at ngf 32, a capped number of steps per epoch.
    "cpu": dict(
        image_size=64, load_size=72, ngf=32, ndf=32, n_blocks=6, epochs=12, decay_epoch=6, max_iters_per_epoch=150
    ),
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run depends on; None means "from the profile" (see `resolve`)."""

    dataset: str | None = None  # dataset name under the data root (sakura.paths.dataset_dir)
    dataset_dir: str | None = None  # or an explicit folder holding train/{A,B} (or trainA, trainB)
    run: str | None = None  # run name: <dataset>/runs/<run>/ (default: a timestamp, or the newest run on resume)
    profile: str = "auto"  # auto (paper on CUDA, cpu otherwise), cpu or paper
    image_size: int | None = None  # training crop
    load_size: int | None = None  # images are resized (bicubic, shorter side) to this before the crop
    ngf: int | None = None
    ndf: int | None = None
    n_blocks: int | None = None
    n_layers_d: int = 3
    epochs: int | None = None
    decay_epoch: int | None = None  # lr is constant before this epoch, then decays linearly to 0
    max_iters_per_epoch: int | None = None  # cap on steps per epoch (0 or None: the whole of domain A)
    batch_size: int = 1
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5  # times lambda_cycle
    pool_size: int = 50
    device: str = "auto"  # auto, cpu, cuda, cuda:N
    precision: str = "auto"  # auto (bf16 where the hardware has it, else fp16 on CUDA, else fp32), bf16, fp16, fp32
    channels_last: bool | None = None  # None: on for CUDA
    compile: bool = False  # torch.compile the networks (first step takes a minute on a CPU)
    num_workers: int | None = None  # DataLoader workers (None: chosen from the CPU count)
    seed: int = 0
    checkpoint_every: int = 0  # also checkpoint every N iterations (0: only at the end of each epoch)
    evaluate: bool = True  # fit the domain classifier and write metrics.json (False: samples and losses only)
    eval_every: int = 1  # domain-classifier score every N epochs (0: only at the end)
    eval_images: int = 64  # test images per direction for the per-epoch score (the final one uses all)
    inception_weights: str | None = None  # local InceptionV3 weights for FID/KID (never downloaded)
    resume: bool = False
    progress_bar: bool = True

    def __post_init__(self) -> None:
        require(self.profile in PROFILES, "profile", self.profile, ", ".join(PROFILES))
        require(self.precision in PRECISIONS, "precision", self.precision, ", ".join(PRECISIONS))
        require(
            self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda"),
            "device",
            self.device,
            "auto, cpu, cuda or cuda:N",
        )
        require(self.dataset is None or bool(DATASET_NAME_RE.match(self.dataset)), "dataset", self.dataset, "a name")
        require(self.run is None or (set(self.run) <= RUN_NAME_CHARS and self.run[0] != "."), "run", self.run, "a name")
        _positive(self, ("image_size", "load_size", "ngf", "ndf", "n_blocks", "epochs", "batch_size"))
        if self.image_size is not None:
            require(self.image_size % 4 == 0, "image_size", self.image_size, "a multiple of 4")
        if self.image_size is not None and self.load_size is not None:
            require(self.load_size >= self.image_size, "load_size", self.load_size, f">= image_size {self.image_size}")
        if self.epochs is not None and self.decay_epoch is not None:
            require(0 <= self.decay_epoch <= self.epochs, "decay_epoch", self.decay_epoch, f"0..epochs={self.epochs}")
        require(self.lr > 0, "lr", self.lr, "> 0")
        require(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "beta1/beta2", (self.beta1, self.beta2), "in [0, 1)")
        require(self.lambda_cycle >= 0 and self.lambda_identity >= 0, "lambda", self.lambda_cycle, ">= 0")
        require(0 <= self.pool_size <= 10_000, "pool_size", self.pool_size, "0..10000")
        require(self.num_workers is None or self.num_workers >= 0, "num_workers", self.num_workers, ">= 0")
        require(self.checkpoint_every >= 0, "checkpoint_every", self.checkpoint_every, ">= 0")
        require(
            self.eval_every >= 0 and self.eval_images >= 1, "eval_every/eval_images", self.eval_every, ">= 0 / >= 1"
        )
        require(self.dataset is not None or self.dataset_dir is not None, "dataset", None, "a dataset name or folder")

    def data_dir(self) -> Path:
        """The dataset folder: dataset_dir if given, else sakura.paths.dataset_dir(dataset)."""
        return Path(self.dataset_dir) if self.dataset_dir else dataset_dir(self.dataset)

    def net_config(self) -> NetConfig:
        """The architecture (call on a resolved config)."""
        return NetConfig(ngf=self.ngf, ndf=self.ndf, n_blocks=self.n_blocks, n_layers_d=self.n_layers_d)

    def to_dict(self) -> dict[str, Any]:
        """Plain primitives only, so a checkpoint holding it loads with weights_only=True."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of to_dict; unknown keys are a ConfigError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        require(not unknown, "config", sorted(unknown), f"fields of TrainConfig: {sorted(names)}")
        return cls(**data)


def _positive(cfg: TrainConfig, names: tuple[str, ...]) -> None:
    for name in names:
        v = getattr(cfg, name)
        require(v is None or (isinstance(v, int) and v > 0), name, v, "a positive integer")


def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 instructions (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def pick_device(requested: str, local_rank: int | None = None) -> torch.device:
    """`auto` is CUDA when present (cuda:LOCAL_RANK under torchrun), else the CPU; asking for absent CUDA raises."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device: got {requested!r}; allowed: cpu or auto (no CUDA device is visible here)")
        if requested == "cuda" and local_rank is not None:
            requested = f"cuda:{local_rank}"
    return torch.device(requested)


def pick_precision(requested: str, device: torch.device) -> str:
    """bf16 where supported (CUDA with bf16, CPUs with native bf16), fp16 on older CUDA GPUs, else fp32."""
    if requested == "fp16" and device.type != "cuda":
        raise ConfigError("precision: got 'fp16'; allowed on the CPU: bf16, fp32 or auto")
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_bf16() else "fp32"


def resolve(cfg: TrainConfig, device: torch.device) -> tuple[TrainConfig, str]:
    """Fill every None from the profile (auto: paper on CUDA, cpu otherwise); returns it and a one-line reason."""
    if cfg.profile == "auto":
        profile = "paper" if device.type == "cuda" else "cpu"
        why = f"profile {profile} chosen automatically: " + (
            "a CUDA device is present" if device.type == "cuda" else "no CUDA device, so the small CPU settings"
        )
    else:
        profile, why = cfg.profile, f"profile {cfg.profile} as requested"
    filled = {k: v for k, v in PROFILE_DEFAULTS[profile].items() if getattr(cfg, k) is None}
    epochs = filled.get("epochs", cfg.epochs)
    if "decay_epoch" in filled:
        filled["decay_epoch"] = min(filled["decay_epoch"], epochs)
    if "load_size" in filled:
        filled["load_size"] = max(filled["load_size"], filled.get("image_size", cfg.image_size))
    run = cfg.run or time.strftime("run-%Y%m%d-%H%M%S")
    out = dataclasses.replace(cfg, profile=profile, run=run, **filled)
    precision = pick_precision(cfg.precision, device)
    channels_last = device.type == "cuda" if cfg.channels_last is None else cfg.channels_last
    num_workers = cfg.num_workers if cfg.num_workers is not None else default_workers(device)
    out = dataclasses.replace(out, precision=precision, channels_last=channels_last, num_workers=num_workers)
    if out.max_iters_per_epoch == 0:
        out = dataclasses.replace(out, max_iters_per_epoch=None)
    why += (
        f" ({out.image_size} px crops of {out.load_size} px, ResNet-{out.n_blocks} ngf {out.ngf}, {out.epochs} epochs,"
        f" {precision} on {device}, {num_workers} DataLoader workers); override with --profile or single settings"
    )
    return out, why


def default_workers(device: torch.device) -> int:
    """DataLoader workers. CUDA: one per spare core, at most 8. CPU training: none up to 4 cores (the step's own
    threads need every core: on 2 cores one worker process made each step 2.6x slower, measured), else a quarter of
    the cores, at most 4."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if device.type == "cuda":
        return max(0, min(8, n - 1))
    return 0 if n <= 4 else min(4, n // 4)
