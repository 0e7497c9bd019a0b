"""TrainConfig, the CPU and paper profiles, and the choice of device and precision."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
from pydantic import AfterValidator, Field, model_validator

from core.config import ConfigError
from core.errors import invalid
from core.settings import Bool, Cli, DatasetSettings, Float, Hidden, Int, NonNegativeInt, PositiveInt
from model.layout import new_run_name
from model.networks import NetConfig, Output, Upsample

Profile = Literal["auto", "cpu", "paper"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
PROFILES: tuple[str, ...] = Profile.__args__
PRECISIONS: tuple[str, ...] = Precision.__args__
RUN_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"

# Settings each profile fills in where the config leaves them as None.
PROFILE_DEFAULTS: dict[str, dict[str, Any]] = {
    # The paper's setup (256 px crops of 286 px images, ResNet-9 at ngf 64) with the seed project's schedule.
    "paper": dict(
        image_size=256,
        load_size=286,
        ngf=64,
        ndf=64,
        n_blocks=9,
        epochs=50,
        decay_epoch=25,
        upsample="deconv",
        output="image",
        diff_augment=False,
    ),
    # Small enough for 2 CPU cores: 64 px crops, ResNet-6 at ngf 32, a capped number of steps per epoch, resize-conv
    # upsampling (benchmarks/bench_upsample.py, README).
    "cpu": dict(
        image_size=64,
        load_size=72,
        ngf=32,
        ndf=32,
        n_blocks=6,
        epochs=12,
        decay_epoch=6,
        max_iters_per_epoch=150,
        upsample="resize",  # measured: a fifth of deconv's checkerboard energy, more structure, same domain score
        output="masked",  # measured (benchmarks/bench_quality.py): the season changes the canopy, the rest stays
        diff_augment=False,  # measured: with 286 px crops the mask closed everywhere (the input came back unchanged)
    ),
}


def _device(value: str) -> str:
    if value in ("auto", "cpu") or re.fullmatch(r"cuda(:\d+)?", value):
        return value
    raise ValueError("auto, cpu, cuda or cuda:N")


Device = Annotated[str, AfterValidator(_device)]
RunName = Annotated[str, Field(pattern=RUN_NAME)]
Side = Annotated[PositiveInt | None, Field(multiple_of=4)]


class TrainConfig(DatasetSettings):
    """Training settings: profile (cpu / paper) and any value to override in it (empty: from the profile), device and
    precision, checkpoints and evaluation."""

    run: Annotated[RunName | None, Cli(flags=("--run-name",))] = Field(
        None, description="run name: <dataset>/runs/<run>/ (default: its start time; with --resume the newest run)"
    )
    profile: Profile = Field(
        "auto", description="auto: paper on CUDA, cpu otherwise; cpu: 64 px, ResNet-6, ngf 32; paper: 256 px, ResNet-9"
    )
    image_size: Side = Field(None, description="training crop side (multiple of 4)")
    load_size: PositiveInt | None = Field(None, description="shorter side images are resized to before the crop")
    ngf: PositiveInt | None = Field(None, description="generator filters in the first layer")
    ndf: PositiveInt | None = Field(None, description="discriminator filters in the first layer")
    n_blocks: PositiveInt | None = Field(None, description="ResNet blocks in each generator")
    n_layers_d: PositiveInt = Field(3, description="PatchGAN layers (3: 70x70 patches)")
    upsample: Upsample | None = Field(
        None,
        description="generator upsampling: deconv (the paper's transposed convolutions, public weights) or resize "
        "(nearest-neighbour x2 then a 3x3 convolution: no checkerboard)",
    )
    output: Output | None = Field(
        None,
        description="generator output: image (the paper's; public weights) or masked (a learned mask keeps the input "
        "wherever the season does not change it)",
    )
    diff_augment: Bool | None = Field(
        None,
        description="shift and cut out what the discriminators see (DiffAugment: for small datasets; real and fake "
        "alike, in both steps)",
    )
    epochs: PositiveInt | None = None
    decay_epoch: NonNegativeInt | None = Field(None, description="epoch from which the lr decays linearly to 0")
    max_iters_per_epoch: NonNegativeInt | None = Field(None, description="cap on steps per epoch (0: all of A)")
    batch_size: PositiveInt = 1
    lr: Annotated[Float, Field(gt=0)] = 2e-4
    beta1: Annotated[Float, Field(ge=0, lt=1)] = 0.5
    beta2: Annotated[Float, Field(ge=0, lt=1)] = 0.999
    lambda_cycle: Annotated[Float, Field(ge=0)] = Field(10.0, description="cycle-consistency weight")
    lambda_identity: Annotated[Float, Field(ge=0)] = Field(0.5, description="identity weight, times lambda_cycle")
    pool_size: Annotated[NonNegativeInt, Field(le=10_000)] = Field(50, description="past fakes the D's see")
    device: Device = Field("auto", description="auto, cpu, cuda or cuda:N")
    precision: Precision = Field(
        "auto",
        description="auto: bf16 where native (GPUs from Ampere, CPUs with bf16), fp16 + GradScaler on "
        "Volta/Turing, else fp32",
    )
    channels_last: Bool | None = Field(None, description="channels_last memory format (default: on CUDA)")
    compile: Bool = Field(False, description="torch.compile the networks (the first step takes a minute on a CPU)")
    num_workers: NonNegativeInt | None = Field(
        None,
        description="DataLoader worker processes per training process (default: CUDA: its share of the cores - 1, "
        "at most 8; CPU: 0 up to 4 cores)",
    )
    seed: Int = 0
    checkpoint_every: NonNegativeInt = Field(0, description="also checkpoint every N iterations (0: each epoch)")
    evaluate: Bool = Field(True, description="fit a domain classifier and score translations into metrics.json")
    eval_every: NonNegativeInt = Field(1, description="domain-classifier score every N epochs (0: only at the end)")
    eval_images: PositiveInt = Field(64, description="test images per direction for the per-epoch score")
    inception_weights: str | None = Field(
        None, description="local InceptionV3 weights for FID/KID (else $SAKURA_INCEPTION_WEIGHTS; never downloaded)"
    )
    resume: Hidden[Bool] = Field(
        False, description="continue the run (--run, else the newest) from its last checkpoint"
    )
    progress_bar: Hidden[Bool] = Field(True, description="show a progress bar with it/s and ETA")

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.image_size is not None and self.load_size is not None and self.load_size < self.image_size:
            raise invalid("load_size", self.load_size, f">= image_size {self.image_size}")
        if self.epochs is not None and self.decay_epoch is not None and self.decay_epoch > self.epochs:
            raise invalid("decay_epoch", self.decay_epoch, f"0..epochs={self.epochs}")
        return self

    def net_config(self) -> NetConfig:
        """The architecture (call on a resolved config)."""
        upsample = self.upsample or "deconv"  # checkpoints from before the setting existed were all deconv
        output = self.output or "image"  # and all image
        return NetConfig(
            ngf=self.ngf,
            ndf=self.ndf,
            n_blocks=self.n_blocks,
            n_layers_d=self.n_layers_d,
            upsample=upsample,
            output=output,
        )


def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 instructions (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def pick_device(requested: str, local_rank: int | None = None, world: int = 1) -> torch.device:
    """`auto` is CUDA when present, else the CPU; asking for absent CUDA raises. Under torchrun (`local_rank` given)
    `cuda` is cuda:LOCAL_RANK; a fixed `cuda:N` with more than one process would put every rank on one GPU: refused."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device: got {requested!r}; allowed: cpu or auto (no CUDA device is visible here)")
        if local_rank is not None and world > 1 and requested != "cuda":
            raise ConfigError(f"device: got {requested!r} under torchrun with {world} processes; allowed: cuda or auto "
                              "(each process takes cuda:LOCAL_RANK)")  # fmt: skip
        if requested == "cuda" and local_rank is not None:
            if local_rank >= torch.cuda.device_count():
                raise ConfigError(f"device: process LOCAL_RANK={local_rank} has no GPU: {torch.cuda.device_count()} "
                                  "visible; start torchrun with at most that many processes per node")  # fmt: skip
            requested = f"cuda:{local_rank}"
    return torch.device(requested)


def cuda_amp_dtype(device: torch.device) -> str:
    """The mixed precision the GPU `device` runs natively: bf16 from compute capability 8.0 (Ampere), fp16 with
    tensor cores from 7.0 (Volta, Turing), else fp32. Asks the device given, not the current one, and never counts
    bf16 that PyTorch only emulates (is_bf16_supported() does by default: V100/T4 would get bf16)."""
    if torch.version.hip:
        return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp16"
    major, minor = torch.cuda.get_device_capability(device)
    if (major, minor) >= (8, 0):
        return "bf16"
    return "fp16" if major >= 7 else "fp32"


def pick_precision(requested: str, device: torch.device) -> str:
    """bf16 where native (CUDA compute capability >= 8.0, CPUs with bf16 instructions), fp16 + GradScaler on
    Volta/Turing GPUs, else fp32. An explicit request is kept (fp16 only on CUDA)."""
    if requested == "fp16" and device.type != "cuda":
        raise ConfigError("precision: got 'fp16'; allowed on the CPU: bf16, fp32 or auto")
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return cuda_amp_dtype(device)
    return "bf16" if cpu_has_bf16() else "fp32"


def resolve(cfg: TrainConfig, device: torch.device, world: int = 1) -> tuple[TrainConfig, str]:
    """Fill every None from the profile (auto: paper on CUDA, cpu otherwise) and the device settings (`world`: DDP
    processes sharing this machine); returns it and a one-line reason."""
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
    out = cfg.replace(profile=profile, run=cfg.run or new_run_name(), **filled)
    out = resolve_device_settings(out, device, world)
    precision, num_workers = out.precision, out.num_workers
    if out.max_iters_per_epoch == 0:
        out = out.replace(max_iters_per_epoch=None)
    why += (
        f" ({out.image_size} px crops of {out.load_size} px, ResNet-{out.n_blocks} ngf {out.ngf} {out.upsample} "
        f"upsampling, {out.epochs} epochs,"
        f" {precision} on {device}, {num_workers} DataLoader workers); override with --profile or single settings"
    )
    return out, why


def resolve_device_settings(cfg: TrainConfig, device: torch.device, world: int = 1) -> TrainConfig:
    """precision, channels_last and num_workers for `device` where cfg leaves them to it (auto / None)."""
    return cfg.replace(
        precision=pick_precision(cfg.precision, device),
        channels_last=device.type == "cuda" if cfg.channels_last is None else cfg.channels_last,
        num_workers=default_workers(device, world) if cfg.num_workers is None else cfg.num_workers,
    )


def default_workers(device: torch.device, world: int = 1, cores: int | None = None) -> int:
    """DataLoader workers of one process, from its share of the cores (`world` DDP processes on this machine).
    CUDA: the share less the process itself, at most 8. CPU training: none up to 4 cores (the step's own threads
    need every core: on 2 cores one worker process made each step 2.6x slower, measured), else a quarter of the
    share, at most 4."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    share = max(1, cores // max(1, world))
    if device.type == "cuda":
        return max(0, min(8, share - 1))
    return 0 if share <= 4 else min(4, share // 4)
