"""`sakura train` and `sakura translate`: the model stage's subcommands."""

from __future__ import annotations

import argparse
import sys

from core.settings import add_arguments, from_args
from model.config import TrainConfig
from model.translation import TranslateConfig, translate


def _cmd_train(args: argparse.Namespace) -> int:
    from model.training import train

    result = train(from_args(TrainConfig, args))
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
    if "checkerboard" in m:
        print(f"artifacts: checkerboard energy {m['checkerboard']:.2f}x the input's (1 = none added),"
              f" structure kept {m['structure']:.2f} (edge-map SSIM, 1 = every edge where it was)")  # fmt: skip
    for s in result.skipped_images:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    return 0


def _cmd_translate(args: argparse.Namespace) -> int:
    """Exit 0 when every image was translated or at least one was (the failures are listed, one line each), 1 when
    there were images and none could be translated; configuration errors exit 2 (sakura.cli)."""
    result = translate(from_args(TranslateConfig, args, inputs=tuple(args.inputs)))
    for d, info in result.generators.items():
        print(f"weights {d}: {info['path']} ({info['source']})")
    for d, files in result.written.items():
        print(f"{d}: {len(files)} image(s) -> {files[0].parent if files else result.out_dir}")
    if result.grids:
        print(f"side-by-side grids: {result.grids[0].parent} ({len(result.grids)} page(s))")
    m = result.metrics
    line = f"{result.images_per_s:.2f} images/s"
    if "checkerboard" in m:
        line += f"; checkerboard energy {m['checkerboard']:.2f}x the input's, structure kept {m['structure']:.2f}"
    if m.get("tiled_images"):
        line += f"; {m['tiled_images']} image(s) translated layer by layer in tiles"
    print(line)
    for f in result.failed:
        print(f"failed {f.path}: {f.reason}", file=sys.stderr)
    if result.failed:
        n = sum(len(v) for v in result.written.values())
        print(f"translate: {len(result.failed)} of {n + len(result.failed)} image(s) failed", file=sys.stderr)
    return 1 if result.failed and not any(result.written.values()) else 0


def configure_train(p: argparse.ArgumentParser) -> None:
    """The `train` command's flags: one per TrainConfig setting."""
    add_arguments(p, TrainConfig)
    p.set_defaults(func=_cmd_train)


def configure_translate(p: argparse.ArgumentParser) -> None:
    """The `translate` command's flags: the inputs, then one per TranslateConfig setting."""
    p.add_argument("inputs", nargs="*", help="image files or folders (default: the dataset's test set)")
    add_arguments(p, TranslateConfig)
    p.set_defaults(func=_cmd_translate)


COMMANDS = {"train": configure_train, "translate": configure_translate}


def torchrun_command(cfg: TrainConfig, gpus: int) -> list[str]:
    """`torchrun ... -m sakura train` with every setting of `cfg` as its flag: one process per GPU, rank 0 writes.

    Under torchrun the run is named with `--run-name` (torchrun takes `--run` for its own `--run-path`). torchrun is
    started as `python -m torch.distributed.run` of this interpreter: a `torchrun` script on PATH may be another
    Python's, and an image or virtualenv may have torch without the script."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}", "-m", "sakura"]
    cmd.append("train")
    for name, value in cfg.to_dict().items():
        if value is None or name == "resume":
            continue
        flag = "--run-name" if name == "run" else "--" + name.replace("_", "-")
        if isinstance(value, bool):
            cmd.append(flag if value else "--no-" + flag[2:])
        else:
            cmd += [flag, str(value)]
    return cmd
