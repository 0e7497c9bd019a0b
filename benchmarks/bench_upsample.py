"""Deconv vs resize-convolution upsampling on the generated streets: checkerboard, structure, domain score, speed.

    .venv/bin/python benchmarks/bench_upsample.py                       # the cpu profile, seeds 0 1 2, both kinds
    .venv/bin/python benchmarks/bench_upsample.py --epochs 8 --steps 100 --work /tmp/bench-upsample

Each (upsample, seed) pair trains the same number of steps with the same seed on the same generated dataset
(`tests/support/model_data.py`: A green canopies, B pink, 128x96), runs are interleaved deconv / resize so machine
load hits both alike, and a run already finished in `--work` is reused. Reported per kind, mean and spread over the
seeds: the final evaluation's domain score and checkerboard / structure at the training size (`metrics.json`), the
same two measures on the test set translated at full size (`sakura translate`'s metrics), median seconds per
training step in the runs, and seconds per step of both networks timed in interleaved rounds in this process.
`--image` writes input | deconv | resize for one test street (seed 0), enlarged 2x without smoothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import docs_output  # noqa: E402

from model.config import TrainConfig, pick_device, resolve  # noqa: E402
from model.engine import CycleGANTrainer  # noqa: E402
from model.layout import RunDir  # noqa: E402
from model.logs import read_losses  # noqa: E402
from model.training import train  # noqa: E402
from model.translation import TranslateConfig, translate  # noqa: E402
from tests.support.model_data import make_dataset  # noqa: E402

KINDS = ("deconv", "resize")


def run_one(ds: Path, kind: str, seed: int, args) -> dict:
    """Train (unless already done) and evaluate one run; returns its figures."""
    name = f"{kind}-seed{seed}"
    run = RunDir.of(ds, name)
    if not run.has_generators or not run.read_metrics().get("final"):
        cfg = TrainConfig(dataset_dir=str(ds), run=name, profile="cpu", upsample=kind, seed=seed, epochs=args.epochs,
                          decay_epoch=args.epochs // 2, max_iters_per_epoch=args.steps, eval_every=0,
                          progress_bar=False)  # fmt: skip
        t0 = time.perf_counter()
        train(cfg)
        print(f"  trained {name} in {time.perf_counter() - t0:.0f} s", flush=True)
    final = run.read_metrics()["final"]
    seconds = [float(r["seconds"]) for r in read_losses(run.losses)]
    out = {k: final[k] for k in ("domain_score", "A2B_as_B", "B2A_as_A", "checkerboard", "structure")}
    out["s_per_step_in_run"] = statistics.median(seconds)
    if not args.train_only:
        result = translate(TranslateConfig(dataset_dir=str(ds), run=name, grids=False, progress_bar=False))
        out["full_size_checkerboard"] = result.metrics["checkerboard"]
        out["full_size_structure"] = result.metrics["structure"]
    return out


def step_times(args, device: torch.device) -> dict[str, float]:
    """Seconds per training step of the cpu profile's networks with each kind, interleaved rounds, medians."""
    trainers, times = {}, {k: [] for k in KINDS}
    for kind in KINDS:
        cfg = resolve(TrainConfig(dataset="bench", profile="cpu", upsample=kind), device)[0]
        trainers[kind] = CycleGANTrainer(cfg, device)
    size = trainers["deconv"].cfg.image_size
    a, b = (torch.rand(1, 3, size, size) * 2 - 1 for _ in range(2))
    for kind in KINDS:
        for _ in range(3):
            trainers[kind].train_step(a, b)  # warm-up
    for _ in range(args.rounds):
        for kind in KINDS:
            t0 = time.perf_counter()
            for _ in range(10):
                trainers[kind].train_step(a, b)
            times[kind].append((time.perf_counter() - t0) / 10)
    return {k: statistics.median(v) for k, v in times.items()}


def side_by_side(ds: Path, path: Path, seed: int = 0, scale: int = 2) -> Path:
    """input | deconv | resize for the first test street, each enlarged `scale` times (nearest)."""
    src = sorted((ds / "test" / "A").iterdir())[0]
    panels = [Image.open(src).convert("RGB")]
    for kind in KINDS:
        out = RunDir.of(ds, f"{kind}-seed{seed}").translations / "A2B" / f"{src.stem}.png"
        panels.append(Image.open(out).convert("RGB"))
    w, h = panels[0].size
    gap = 4
    sheet = Image.new("RGB", (3 * w * scale + 2 * gap, h * scale), "white")
    for i, im in enumerate(panels):
        sheet.paste(im.resize((w * scale, h * scale), Image.NEAREST), (i * (w * scale + gap), 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)
    return path


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/bench-upsample"), help="dataset and runs (reused)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=12, help="the cpu profile's 12 by default")
    p.add_argument("--steps", type=int, default=150, help="steps per epoch (the cpu profile's 150 by default)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds of 10 steps for the step time")
    p.add_argument("--train-only", action="store_true", help="train and score at the training size only")
    p.add_argument("--image", type=Path, help="write input | deconv | resize of one test street here")
    p.add_argument("--json", type=Path, help="also write the figures here")
    docs_output.add_argument(p)
    args = p.parse_args()
    device = pick_device("cpu")
    ds = args.work / "streets"
    if not (ds / "train").is_dir():
        make_dataset(ds, n_train=150, n_test=30, size=(128, 96), seed=0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.epochs} epochs x {args.steps} steps")
    rows: dict[str, list[dict]] = {k: [] for k in KINDS}
    for seed in args.seeds:
        for kind in KINDS if seed % 2 == 0 else KINDS[::-1]:
            rows[kind].append(run_one(ds, kind, seed, args))
            print(f"  {kind} seed {seed}: {json.dumps(rows[kind][-1])}", flush=True)
    speed = step_times(args, device)
    names = list(rows["deconv"][0])
    print(f"\n| measure ({len(args.seeds)} seeds, mean ± sd) | deconv | resize |\n|---|---|---|")
    for name in names:
        cells = " | ".join(_mean_sd([r[name] for r in rows[k]]) for k in KINDS)
        print(f"| {name} | {cells} |")
    print(f"| s/step, interleaved in one process | {speed['deconv']:.3f} | {speed['resize']:.3f} |")
    if args.image and not args.train_only:
        print(f"side by side: {side_by_side(ds, args.image, args.seeds[0])}")
    if args.json:
        args.json.write_text(json.dumps({"runs": rows, "s_per_step_interleaved": speed, "args": vars(args)},
                                        indent=2, default=str))  # fmt: skip


if __name__ == "__main__":
    docs_output.run(main, __file__)
