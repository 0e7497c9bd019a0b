"""The training loop (torchvision-reference style): train_one_epoch, evaluate, checkpoints, and train(cfg)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as torch_dist
from tqdm import tqdm

from core.config import TRAIN, ConfigError
from core.environment import environment
from core.files import atomic_path
from model import checkpoint as ckpt_io
from model.config import TrainConfig, pick_device, resolve, resolve_device_settings
from model.data import (
    EpochSampler,
    NoImagesLeftError,
    Skipped,
    UnalignedDataset,
    batch_failures,
    domain_dirs,
    first_batch_or_explain,
    iterations,
    list_images,
    make_loader,
    next_batch,
)
from model.engine import CycleGANTrainer, DistInfo, LossLog, NonFiniteLossError
from model.evaluation import Evaluator
from model.layout import RunDir, runs_dir
from model.logs import RunLogger

Progress = Callable[[int, int, dict], None]  # (global_step, total_steps, {"epoch", "iteration"})
LOG_EVERY = 50  # steps whose losses are read from the device together (and always before a checkpoint)
# Settings that may change when resuming (they do not change the numbers a run computes).
RUNTIME_FIELDS = (
    "device",
    "progress_bar",
    "resume",
    "compile",
    "checkpoint_every",
    "evaluate",
    "eval_every",
    "eval_images",
    "inception_weights",
    "dataset",
    "dataset_dir",
)


@dataclass(frozen=True)
class TrainResult:
    """What a run produced."""

    run_dir: Path
    config: dict
    explanation: str
    epochs_completed: int
    global_step: int
    last_checkpoint: Path | None
    best_checkpoint: Path | None
    generators: dict[str, Path]
    metrics: dict
    skipped_images: list[Skipped] = field(default_factory=list)
    rank: int = 0  # under torchrun, only rank 0 writes and reports


@dataclass
class RunState:
    """Mutable position of the loop and what it has written."""

    epoch: int = 0
    iteration: int = 0
    global_step: int = 0
    last_checkpoint: Path | None = None
    best_checkpoint: Path | None = None
    best_score: float = float("-inf")
    history: list[dict] = field(default_factory=list)
    skipped: dict[str, Skipped] = field(default_factory=dict)  # training images that failed to load, by path
    losses: LossLog = field(default_factory=LossLog)  # steps whose losses are still on the device
    last_step_end: float = field(default_factory=time.perf_counter)

    def note_failures(self, batch: dict, is_main: bool) -> None:
        """Record the images this batch had to replace; warn once per file (training goes on without it)."""
        for s in batch_failures(batch):
            if s.path not in self.skipped:
                self.skipped[s.path] = s
                if is_main:
                    print(f"warning: skipping {s.path}: {s.reason}; training goes on without it", file=sys.stderr)


def setup_distributed(device: str = "auto") -> DistInfo:
    """Join the torchrun job described by the environment; world 1 otherwise. The backend follows the device this
    process trains on (`device` as asked, `model.config.pick_device`): NCCL on CUDA, gloo on the CPU or when
    SAKURA_DDP_BACKEND=gloo; on CUDA the process's GPU (cuda:LOCAL_RANK) is made current whatever the backend."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not torch_dist.is_initialized():
        dev = pick_device(device, info.local_rank, world)
        backend = ddp_backend(dev, environment().ddp_backend)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        torch_dist.init_process_group(backend=backend, device_id=dev if backend == "nccl" else None)
    return info


def ddp_backend(device: torch.device, requested: str | None) -> str:
    """NCCL for CUDA devices, gloo for the CPU; SAKURA_DDP_BACKEND=gloo forces gloo, nccl on the CPU is refused."""
    if requested == "nccl" and device.type != "cuda":
        raise ConfigError(f"SAKURA_DDP_BACKEND: got 'nccl' for device {device}; allowed on the CPU: gloo")
    return requested or ("nccl" if device.type == "cuda" else "gloo")


def _broadcast(obj, dist: DistInfo):
    if not dist.distributed:
        return obj
    box = [obj]
    torch_dist.broadcast_object_list(box, src=0)
    return box[0]


def _gather_rank_states(trainer: CycleGANTrainer) -> list[dict]:
    state = trainer.rank_state()
    if not trainer.dist.distributed:
        return [state]
    out: list = [None] * trainer.dist.world
    torch_dist.all_gather_object(out, state)
    return out


def save_checkpoint(trainer: CycleGANTrainer, run_dir: Path, st: RunState, epoch: int, iteration: int) -> Path | None:
    """Atomically write checkpoints/last.pt (rank 0; every rank contributes its pools and RNG state)."""
    ranks = _gather_rank_states(trainer)
    if not trainer.dist.is_main:
        return None
    path = ckpt_io.save_checkpoint(
        RunDir(run_dir).last_checkpoint,
        trainer.state_dict(),
        ranks,
        epoch,
        iteration,
        st.global_step,
        trainer.cfg.to_dict(),
        {"best_score": st.best_score, "device_type": trainer.device.type},
    )
    st.last_checkpoint = path
    return path


def export_generators(trainer: CycleGANTrainer, run_dir: Path, best: bool = False) -> dict[str, Path]:
    """generators/G_A2B.pt and G_B2A.pt (best_G_*.pt): each generator alone, for `sakura translate`."""
    m, meta = trainer.model, {"run": trainer.cfg.run, "image_size": trainer.cfg.image_size}
    return {
        d: ckpt_io.export_generator(RunDir(run_dir).generator(d, best), net.state_dict(), m.cfg, d, meta)
        for d, net in (("A2B", m.G_AB), ("B2A", m.G_BA))
    }


def train_one_epoch(
    trainer: CycleGANTrainer,
    loader,
    sampler: EpochSampler,
    epoch: int,
    st: RunState,
    run_dir: Path,
    logger: RunLogger | None,
    progress: Progress | None,
    total_steps: int,
) -> None:
    """One pass over (this rank's share of) domain A, starting at st.iteration; checkpoints every N iterations."""
    cfg = trainer.cfg
    per_epoch = iterations(sampler.per_epoch(), cfg.batch_size)
    sampler.set_epoch(epoch, skip=st.iteration * cfg.batch_size)
    bar = tqdm(
        total=per_epoch,
        initial=st.iteration,
        desc=f"epoch {epoch + 1}/{cfg.epochs}",
        unit="it",
        disable=not (trainer.dist.is_main and cfg.progress_bar),
        dynamic_ncols=True,
    )
    st.last_step_end = time.perf_counter()
    try:
        it, batch = first_batch_or_explain(loader)
        while batch is not None:
            st.note_failures(batch, trainer.dist.is_main)
            _step(trainer, batch, epoch, st, run_dir, logger, progress, total_steps, bar, per_epoch)
            batch = next_batch(it, loader)
        read_losses(st, logger, bar)
    except NoImagesLeftError as e:
        raise NoImagesLeftError(
            f"{e}; training stopped at epoch {epoch + 1}, iteration {st.iteration + 1}. Last checkpoint: "
            f"{st.last_checkpoint or 'none written yet'} (resume with --resume once the images are readable)"
        ) from None
    finally:
        bar.close()


def _step(trainer: CycleGANTrainer, batch: dict, epoch: int, st: RunState, run_dir: Path, logger: RunLogger | None,
          progress: Progress | None, total_steps: int, bar: tqdm, per_epoch: int) -> None:  # fmt: skip
    """One training step (queued on the device, not waited for), its progress, and every LOG_EVERY steps or before a
    periodic checkpoint the losses read and logged."""
    cfg = trainer.cfg
    losses = trainer.train_step(batch["A"], batch["B"])
    st.iteration += 1
    st.global_step += 1
    now = time.perf_counter()
    st.losses.add(losses, step=st.global_step, epoch=epoch + 1, iteration=st.iteration, lr=trainer.lr(),
                  seconds=now - st.last_step_end)  # fmt: skip
    st.last_step_end = now
    bar.update(1)
    checkpoint = cfg.checkpoint_every and st.global_step % cfg.checkpoint_every == 0 and st.iteration < per_epoch
    if checkpoint or len(st.losses) >= LOG_EVERY:
        read_losses(st, logger, bar)
    if checkpoint:
        save_checkpoint(trainer, run_dir, st, epoch, st.iteration)
    if progress is not None and trainer.dist.is_main:
        progress(st.global_step, total_steps, {"epoch": epoch + 1, "iteration": st.iteration})


def read_losses(st: RunState, logger: RunLogger | None, bar: tqdm | None = None) -> None:
    """Read the losses of the steps since the last read from the device (one wait for it) and log them; a
    non-finite one stops training before anything more is written."""
    try:
        rows = st.losses.read()
    except NonFiniteLossError as e:
        raise NonFiniteLossError(
            f"{e}; training stopped at step {st.global_step} with nothing written after the last checkpoint: "
            f"{st.last_checkpoint or 'none written yet'} (try --precision fp32 or a lower --lr)"
        ) from None
    for meta, losses in rows:
        if logger is not None:
            logger.log_step(meta["step"], meta["epoch"], meta["iteration"], losses, meta["lr"], meta["seconds"])
    if rows and bar is not None:
        bar.set_postfix({k: f"{v:.3f}" for k, v in rows[-1][1].items()}, refresh=False)


def _resume_state(cfg: TrainConfig, device: torch.device, world: int) -> tuple[TrainConfig, dict, str]:
    """The stored config with this command's runtime settings. precision and channels_last stay as stored unless
    given again (--precision, --channels-last) or the run moves between the CPU and CUDA, where they are chosen
    anew for the device, as for a new run; DataLoader workers always follow this machine."""
    ds = cfg.data_dir()
    run = cfg.run or RunDir.newest(ds, needs="checkpoint").name
    state = ckpt_io.load_checkpoint(RunDir.of(ds, run).last_checkpoint)
    stored = TrainConfig.from_dict(state["config"])
    overrides = {k: getattr(cfg, k) for k in RUNTIME_FIELDS}
    if cfg.epochs is not None and cfg.epochs != stored.epochs:
        overrides["epochs"] = cfg.epochs
    # checkpoints from before the device was stored: fp16 or channels_last were CUDA's choices
    trained_on = state["extra"].get("device_type") or ("cuda" if stored.precision == "fp16" or stored.channels_last
                                                       else device.type)  # fmt: skip
    moved = trained_on != device.type
    keep = {} if moved else {"precision": stored.precision, "channels_last": stored.channels_last}
    device_settings = {
        "precision": cfg.precision if cfg.precision != "auto" else keep.get("precision", "auto"),
        "channels_last": cfg.channels_last if cfg.channels_last is not None else keep.get("channels_last"),
        "num_workers": cfg.num_workers,
    }
    merged = resolve_device_settings(stored.replace(**overrides, **device_settings, run=run), device, world)
    changed = [f"{k} {getattr(stored, k)} -> {getattr(merged, k)}" for k in ("precision", "channels_last")
               if getattr(stored, k) != getattr(merged, k)]  # fmt: skip
    why = (
        f"resuming run {run} at epoch {state['epoch'] + 1}, iteration {state['iteration']} "
        f"(step {state['global_step']}) with the config stored in its checkpoint"
    )
    if changed:
        why += (f"; on {device.type}, trained on {trained_on}: " if moved else "; as asked: ") + ", ".join(changed)
    return merged, state, why


def _setup(cfg: TrainConfig, dist: DistInfo) -> tuple[TrainConfig, torch.device, dict | None, str]:
    device = pick_device(cfg.device, dist.local_rank if dist.distributed else None, dist.world)
    if cfg.resume and (cfg.run is not None or any(r.has_checkpoint for r in RunDir.all(cfg.data_dir()))):
        resolved, state, why = _resume_state(cfg, device, dist.world)
    else:
        if cfg.resume:
            print(f"resume: no checkpoint under {runs_dir(cfg.data_dir())} yet, starting a new run", file=sys.stderr)
        (resolved, why), state = resolve(cfg, device, dist.world), None
        resolved = resolved.replace(run=_broadcast(resolved.run, dist))
    return resolved, device, state, why


def train(cfg: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Train a CycleGAN on cfg's dataset into <dataset>/runs/<run>/ (under torchrun: data-parallel over ranks)."""
    dist = setup_distributed(cfg.device)
    try:
        return _train(cfg, progress, dist)
    finally:
        if dist.distributed and torch_dist.is_initialized():
            torch_dist.destroy_process_group()


def _train(cfg: TrainConfig, progress: Progress | None, dist: DistInfo) -> TrainResult:
    cfg, device, state, why = _setup(cfg, dist)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop size: cuDNN times its algorithms once, keeps the fastest
    run = RunDir.of(cfg.data_dir(), cfg.run)
    run_dir = run.path
    train_A, train_B = domain_dirs(cfg.data_dir(), TRAIN)
    (files_A, skip_A), (files_B, skip_B) = list_images(train_A), list_images(train_B)
    if dist.is_main:
        print(why, file=sys.stderr)
        if device.type == "cpu":
            print("warning: training on the CPU; this is slow; a CUDA GPU trains the paper profile", file=sys.stderr)
    dataset = UnalignedDataset(files_A, files_B, cfg.load_size, cfg.image_size, cfg.seed)
    limit = cfg.max_iters_per_epoch * cfg.batch_size if cfg.max_iters_per_epoch else None
    sampler = EpochSampler(len(dataset), dist.world, dist.rank, cfg.seed, limit)
    loader = make_loader(dataset, sampler, cfg.batch_size, cfg.num_workers, device.type == "cuda")
    trainer = CycleGANTrainer(cfg, device, dist)
    st = RunState()
    if state is not None:
        trainer.load_state_dict(state)
        ranks = state["ranks"]
        trainer.load_rank_state(ranks[dist.rank] if len(ranks) == dist.world else ranks[0])
        st = RunState(
            state["epoch"],
            state["iteration"],
            state["global_step"],
            run.last_checkpoint,
            best_score=state["extra"].get("best_score", float("-inf")),
        )
        if run.best_checkpoint.exists():
            st.best_checkpoint = run.best_checkpoint
    if dist.is_main:
        run.mark_unfinished()  # until training ends well: a cancel or crash leaves the mark
    logger = RunLogger(run_dir, st.global_step if state is not None else None) if dist.is_main else None
    evaluator = Evaluator(cfg, run_dir, files_A, files_B, device) if dist.is_main else None
    if evaluator is not None:
        st.history = evaluator.load_history(st.epoch)
    total = cfg.epochs * iterations(sampler.per_epoch(), cfg.batch_size)
    try:
        for epoch in range(st.epoch, cfg.epochs):
            train_one_epoch(trainer, loader, sampler, epoch, st, run_dir, logger, progress, total)
            trainer.end_epoch()
            st.epoch, st.iteration = epoch + 1, 0
            _end_of_epoch(trainer, run_dir, st, logger, evaluator)
        trainer.check_ranks_in_sync()
        final = evaluator.final(trainer, st) if evaluator is not None else {}
    finally:
        if logger is not None:
            logger.close()
    gens = export_generators(trainer, run_dir) if dist.is_main else {}
    if dist.is_main:
        run.mark_finished()
    return TrainResult(
        run_dir=run_dir,
        config=cfg.to_dict(),
        explanation=why,
        epochs_completed=st.epoch,
        global_step=st.global_step,
        last_checkpoint=st.last_checkpoint,
        best_checkpoint=st.best_checkpoint,
        generators=gens,
        metrics=final,
        skipped_images=skip_A + skip_B + list(st.skipped.values()),
        rank=dist.rank,
    )


def _end_of_epoch(trainer, run_dir: Path, st: RunState, logger: RunLogger | None, evaluator) -> None:
    cfg, epoch = trainer.cfg, st.epoch
    metrics = None
    if evaluator is not None and cfg.eval_every and epoch % cfg.eval_every == 0:
        metrics = evaluator.epoch_metrics(trainer, epoch, st)
    improved = metrics is not None and metrics.get("domain_score", float("-inf")) > st.best_score
    if improved:
        st.best_score = metrics["domain_score"]
    save_checkpoint(trainer, run_dir, st, epoch, 0)
    if trainer.dist.is_main:
        if improved:
            best = RunDir(run_dir).best_checkpoint
            with atomic_path(best) as tmp:
                shutil.copyfile(st.last_checkpoint, tmp)
            st.best_checkpoint = best
            export_generators(trainer, run_dir, best=True)
        export_generators(trainer, run_dir)
        logger.end_epoch(epoch, evaluator.samples(trainer))
        if metrics is not None:
            logger.log_metrics(st.global_step, metrics)
    if trainer.dist.distributed:
        torch_dist.barrier()
