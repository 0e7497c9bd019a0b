"""`sakura train` and `sakura translate`: the model stage's subcommands."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from typing import Any

from model.config import PRECISIONS, PROFILES, TrainConfig
from model.translate import DIRECTIONS, TranslateConfig, translate
from sakura.config import load_domains
from sakura.paths import default_domains_file

TRAIN_HELP = {
    "dataset": "dataset name under the data root (default: the name in the domains file)",
    "dataset_dir": "dataset folder with train/{A,B} and test/{A,B} (or trainA, ...); overrides --dataset",
    "run": "run name: <dataset>/runs/<run>/ (default: a timestamp; with --resume the newest run)",
    "profile": "auto: paper on CUDA, cpu otherwise; cpu: 64 px, ResNet-6, ngf 32; paper: 256 px, ResNet-9, ngf 64",
    "image_size": "training crop side (multiple of 4)",
    "load_size": "shorter side images are resized to (bicubic) before the random crop",
    "max_iters_per_epoch": "cap on steps per epoch (0: all of domain A)",
    "decay_epoch": "epoch from which the lr decays linearly to 0",
    "lambda_identity": "identity weight, times lambda_cycle (0 turns identity off)",
    "precision": "auto: bf16 where supported, fp16 + GradScaler on older GPUs, else fp32",
    "channels_last": "channels_last memory format (default: on CUDA)",
    "compile": "torch.compile the networks (the first step takes about a minute on a CPU)",
    "num_workers": "DataLoader worker processes (default: CUDA: cores - 1, at most 8; CPU: 0 up to 4 cores)",
    "checkpoint_every": "also checkpoint every N iterations (0: each epoch only)",
    "evaluate": "fit a domain classifier on the train split and score translations into metrics.json",
    "eval_every": "domain-classifier score every N epochs (0: only at the end)",
    "inception_weights": "local InceptionV3 weights for FID/KID (else $SAKURA_INCEPTION_WEIGHTS; never downloaded)",
    "resume": "continue the run (--run, else the newest) exactly from checkpoints/last.pt",
    "progress_bar": "show a progress bar with it/s and ETA",
}
# torchrun takes `--run` as an abbreviation of its own --run-path: under torchrun, say --run-name.
ALIASES = {"run": ("--run-name",)}
CHOICES = {"profile": PROFILES, "precision": PRECISIONS, "direction": DIRECTIONS}


def _base_type(tp: Any) -> type:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def _add_fields(p: argparse.ArgumentParser, cls: type, helps: dict[str, str], skip: tuple[str, ...] = ()) -> None:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flags, tp = ["--" + f.name.replace("_", "-"), *ALIASES.get(f.name, ())], _base_type(hints[f.name])
        help_ = helps.get(f.name, "") + f" (default: {f.default})"
        if tp is bool:
            p.add_argument(*flags, action=argparse.BooleanOptionalAction, default=f.default, help=help_)
        else:
            p.add_argument(*flags, type=tp, default=f.default, choices=CHOICES.get(f.name), help=help_)


def _default_dataset(args: argparse.Namespace) -> None:
    if args.dataset is None and args.dataset_dir is None:
        args.dataset = load_domains(default_domains_file()).name


def _cmd_train(args: argparse.Namespace) -> int:
    from model.training import train

    _default_dataset(args)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in names})
    result = train(cfg)
    if result.rank != 0:
        return 0
    print(f"run: {result.run_dir}  ({result.epochs_completed} epochs, {result.global_step} steps)")
    print(f"last checkpoint: {result.last_checkpoint}   best: {result.best_checkpoint}")
    for d, p in result.generators.items():
        print(f"generator {d}: {p}")
    m = result.metrics
    if "domain_score" in m:
        print(f"domain classifier: translated A called B {m['A2B_as_B']:.0%} (untranslated {m['real_A_as_B']:.0%}),"
              f" translated B called A {m['B2A_as_A']:.0%} (untranslated {m['real_B_as_A']:.0%});"
              f" classifier accuracy on real test images {m['classifier_accuracy']:.0%}")  # fmt: skip
    for s in result.skipped_images:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    return 0


def _cmd_translate(args: argparse.Namespace) -> int:
    if args.weights is None:
        _default_dataset(args)
    names = {f.name for f in dataclasses.fields(TranslateConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["inputs"] = tuple(args.inputs)
    result = translate(TranslateConfig(**values))
    for d, files in result.written.items():
        print(f"{d}: {len(files)} image(s) -> {files[0].parent if files else result.out_dir}")
    if result.grids:
        print(f"side-by-side grids: {result.grids[0].parent} ({len(result.grids)} page(s))")
    print(f"{result.images_per_s:.2f} images/s")
    for f in result.failed:
        print(f"failed {f.path}: {f.reason}", file=sys.stderr)
    return 1 if result.failed and not any(result.written.values()) else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train` and `translate` to the sakura CLI."""
    p = subparsers.add_parser("train", help="train a CycleGAN on a curated dataset (CPU or CUDA; torchrun for DDP)")
    _add_fields(p, TrainConfig, TRAIN_HELP)
    p.set_defaults(func=_cmd_train)

    p = subparsers.add_parser("translate", help="translate the test set both ways, or your own images/folders")
    p.add_argument("inputs", nargs="*", help="image files or folders (default: the dataset's test set)")
    helps = {
        "weights": "run folder, checkpoint, exported generator, or a public netG_A2B.pth / latest_net_G_A.pth",
        "out_dir": "output folder (default: <run>/translations)",
        "run": "run whose generators to use (default: the newest run of the dataset)",
        "tile": "images larger than this are translated in overlapping, blended tiles",
        "precision": "fp32 (default), bf16, fp16 (CUDA) or auto",
    }
    _add_fields(p, TranslateConfig, helps, skip=("inputs",))
    p.set_defaults(func=_cmd_translate)
