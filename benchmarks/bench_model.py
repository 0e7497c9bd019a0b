"""Benchmark of the model stage: training it/s against a plain fp32 eager step, translation images/s, peak memory.

    .venv/bin/python benchmarks/bench_model.py                 # 128 and 256 px, batch 1, this machine's device
    .venv/bin/python benchmarks/bench_model.py --sizes 128 --rounds 2
    .venv/bin/python benchmarks/bench_model.py --compile       # also torch.compile (default on CUDA)

The baseline is what the public implementations do: the project's own networks (ResNet-9 ngf 64, 70x70 PatchGAN)
in fp32 eager mode, one network call per image role (six generator and four discriminator calls a step), with TF32
off (PyTorch lets cuDNN convolutions use TF32 by default: that would not be fp32). The optimised step is
CycleGANTrainer: mixed precision (bf16 autocast where the hardware has it, fp16 + GradScaler on older GPUs), calls
that share a network batched, channels_last on CUDA, and torch.compile where asked (`sakura train` leaves it off).
Both are timed in the same process, interleaved round by round, so machine load hits both alike; the ratio is
what to read. Peak memory is measured in a fresh child process per configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docs_output  # noqa: E402

from model.config import TrainConfig, pick_device, resolve  # noqa: E402
from model.engine import CycleGANTrainer  # noqa: E402
from model.losses import cycle_loss, lsgan_loss  # noqa: E402
from model.networks import ResnetGenerator  # noqa: E402
from model.translation import Translator  # noqa: E402


def make_trainer(size: int, device: torch.device, optimised: bool, compile_: bool, **overrides) -> CycleGANTrainer:
    """The paper profile at `size`: as `sakura train` resolves it on `device` (optimised), or fp32 without
    channels_last (the baseline's networks); `overrides` change single settings."""
    extra = {} if optimised else {"precision": "fp32", "channels_last": False}
    settings = {**extra, **overrides, "compile": compile_ and optimised}
    cfg = TrainConfig(dataset="bench", profile="paper", image_size=size, load_size=size, **settings)
    return CycleGANTrainer(resolve(cfg, device)[0], device)


@contextlib.contextmanager
def strict_fp32():
    """fp32 as written: no TF32 in cuDNN convolutions (PyTorch's default allows it) nor in cuBLAS matmuls."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def baseline_step(t: CycleGANTrainer, real_A: torch.Tensor, real_B: torch.Tensor) -> None:
    """The public implementations' step: fp32, one call per role (no batching), D frozen during the G update."""
    m, cfg = t.model, t.cfg
    for p in (*m.D_A.parameters(), *m.D_B.parameters()):
        p.requires_grad_(False)
    fake_B, fake_A = m.G_AB(real_A), m.G_BA(real_B)
    rec_A, rec_B = m.G_BA(fake_B), m.G_AB(fake_A)
    idt_B, idt_A = m.G_AB(real_B), m.G_BA(real_A)
    loss_G = lsgan_loss(m.D_B(fake_B), True) + lsgan_loss(m.D_A(fake_A), True)
    loss_G = loss_G + cfg.lambda_cycle * (cycle_loss(rec_A, real_A) + cycle_loss(rec_B, real_B))
    loss_G = loss_G + cfg.lambda_cycle * cfg.lambda_identity * (cycle_loss(idt_A, real_A) + cycle_loss(idt_B, real_B))
    t.opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    t.opt_G.step()
    for p in (*m.D_A.parameters(), *m.D_B.parameters()):
        p.requires_grad_(True)
    fb, fa = t.pool_B.query(fake_B.detach()), t.pool_A.query(fake_A.detach())
    loss_D = 0.5 * (lsgan_loss(m.D_B(real_B), True) + lsgan_loss(m.D_B(fb), False))
    loss_D = loss_D + 0.5 * (lsgan_loss(m.D_A(real_A), True) + lsgan_loss(m.D_A(fa), False))
    t.opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    t.opt_D.step()
    loss_D.item()  # the public implementations read their losses every step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step, n: int, device: torch.device) -> float:
    """Seconds per step over n steps."""
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    _sync(device)
    return (time.perf_counter() - t0) / n


def step_flops(size: int, batch: int, device: torch.device, net: dict | None = None) -> float:
    """FLOPs of one training step's mathematics (forward and backward of every network call), counted on the eager
    fp32 baseline step: the optimised step computes the same, so this is the model FLOPs that MFU divides by."""
    from torch.utils.flop_counter import FlopCounterMode

    t = make_trainer(size, device, False, False, **(net or {}))
    a, b = (torch.rand(batch, 3, size, size, device=device) * 2 - 1 for _ in range(2))
    with FlopCounterMode(display=False) as counter:
        baseline_step(t, a, b)
    return float(counter.get_total_flops())


def bench_training(
    size: int, device: torch.device, rounds: int, steps: int, compile_: bool, warmup: int = 4, batch: int = 1
) -> dict:
    """The fp32 eager baseline (TF32 off) against the optimised step (`compile_` on or off); see bench_variants."""
    r = bench_variants(size, device, rounds, steps, {"optimised": {"compile": compile_}}, warmup, batch)
    o = r["variants"]["optimised"]
    return {"size": size, "batch": batch, "baseline_s_per_it": r["baseline_s_per_it"],
            "optimised_s_per_it": o["s_per_it"], "baseline_it_s": 1 / r["baseline_s_per_it"],
            "optimised_it_s": 1 / o["s_per_it"], "speedup": r["baseline_s_per_it"] / o["s_per_it"],
            **{k: o[k] for k in ("precision", "channels_last", "compile", "first_step_s", "warmup_s")}}  # fmt: skip


def bench_variants(size: int, device: torch.device, rounds: int, steps: int, variants: dict[str, dict],
                   warmup: int = 4, batch: int = 1, net: dict | None = None) -> dict:  # fmt: skip
    """Seconds per step of the fp32 eager baseline (TF32 off) and of CycleGANTrainer with each variant's settings
    (e.g. {"default": {}, "best": {"compile": True, "channels_last": True}}), interleaved round by round so machine
    load hits all alike; medians. Each variant's first step (where torch.compile compiles) is timed on its own.
    `net` changes the networks (ngf, n_blocks, ...) of all of them."""
    net = net or {}
    base = make_trainer(size, device, False, False, **net)
    trainers = {}
    for k, v in variants.items():
        settings = {**net, **{n: x for n, x in v.items() if n != "compile"}}
        trainers[k] = make_trainer(size, device, True, v.get("compile", False), **settings)
    a, b = (torch.rand(batch, 3, size, size, device=device) * 2 - 1 for _ in range(2))

    def baseline() -> None:
        with strict_fp32():
            baseline_step(base, a, b)

    fns = {"baseline": baseline, **{k: (lambda t=t: t.train_step(a, b)) for k, t in trainers.items()}}
    first = {k: time_steps(fn, 1, device) for k, fn in fns.items()}
    warm = {}
    for k, fn in fns.items():  # warm-up (and compilation): the bf16 step needs about 3 steps to settle
        t0 = time.perf_counter()
        time_steps(fn, warmup, device)
        warm[k] = time.perf_counter() - t0
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            times[k].append(time_steps(fn, steps, device))
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"size": size, "batch": batch, "baseline_s_per_it": med["baseline"],
           "baseline_first_step_s": first["baseline"], "variants": {}}  # fmt: skip
    for k, t in trainers.items():
        out["variants"][k] = {"s_per_it": med[k], "it_s": 1 / med[k], "speedup": med["baseline"] / med[k],
                              "precision": t.cfg.precision, "channels_last": t.cfg.channels_last,
                              "compile": t.cfg.compile, "first_step_s": first[k], "warmup_s": warm[k]}  # fmt: skip
    return out


def bench_translation(device: torch.device, n: int = 8, batch: int = 4) -> dict:
    """Images/s of a ResNet-9 ngf 64 generator on 256 px images, fp32 and mixed precision."""
    G = ResnetGenerator()
    x = torch.rand(n, 3, 256, 256) * 2 - 1
    out = {}
    precisions = ["fp32", resolve(TrainConfig(dataset="bench"), device)[0].precision]
    for precision in dict.fromkeys(precisions):
        tr = Translator(G, device, precision, batch_size=batch)
        tr.run(x[:batch])
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            tr.run(x[i : i + batch])  # includes the copy back to the CPU
        out[precision] = n / (time.perf_counter() - t0)
    return out


def peak_memory(size: int, optimised: bool, compile_: bool, device: torch.device) -> float:
    """Peak memory (MiB) of two training steps in a fresh process: CUDA max allocated, else peak RSS growth."""
    cmd = [sys.executable, __file__, "--_memory", str(size), "--device", str(device)]
    cmd += (["--_optimised"] if optimised else []) + (["--compile"] if compile_ else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _memory_child(size: int, optimised: bool, compile_: bool, device: torch.device) -> None:
    """Prints the peak memory of the training steps alone: on the CPU, the peak RSS is reset (clear_refs 5) after
    the imports and the model are set up, and the RSS before the steps is subtracted."""
    t = make_trainer(size, device, optimised, compile_)
    a, b = torch.rand(1, 3, size, size, device=device) * 2 - 1, torch.rand(1, 3, size, size, device=device) * 2 - 1
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (Linux >= 4.0)
    before = _vm_kib("VmRSS")
    for _ in range(2):
        t.train_step(a, b) if optimised else baseline_step(t, a, b)
    if device.type == "cuda":
        print(torch.cuda.max_memory_allocated(device) / 2**20)
    else:
        print((_vm_kib("VmHWM") - before) / 1024)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=2, help="steps per round")
    p.add_argument("--warmup", type=int, default=4, help="untimed steps of each kind first")
    p.add_argument("--device", default="auto")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="default: on for CUDA")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--_memory", type=int, help=argparse.SUPPRESS)
    p.add_argument("--_optimised", action="store_true", help=argparse.SUPPRESS)
    docs_output.add_argument(p)
    args = p.parse_args()
    device = pick_device(args.device)
    compile_ = device.type == "cuda" if args.compile is None else args.compile
    if args._memory:
        return _memory_child(args._memory, args._optimised, compile_, device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}")
    results = {"device": name, "training": [], "memory_mib": {}}
    for size in args.sizes:
        r = bench_training(size, device, args.rounds, args.steps, compile_, args.warmup)
        results["training"].append(r)
        print(f"train {size} px batch 1: baseline fp32 eager {r['baseline_it_s']:.3f} it/s "
              f"({r['baseline_s_per_it']:.2f} s/it); optimised ({r['precision']}, batched calls, channels_last "
              f"{r['channels_last']}, compile {r['compile']}) {r['optimised_it_s']:.3f} it/s "
              f"({r['optimised_s_per_it']:.2f} s/it): {r['speedup']:.2f}x")  # fmt: skip
        if not args.no_memory:
            mem = {k: peak_memory(size, k == "optimised", compile_, device) for k in ("baseline", "optimised")}
            results["memory_mib"][size] = mem
            kind = "max allocated" if device.type == "cuda" else "peak RSS growth during 2 steps"
            print(f"peak memory {size} px ({kind}): baseline {mem['baseline']:.0f} MiB, "
                  f"optimised {mem['optimised']:.0f} MiB")  # fmt: skip
    results["translation_img_s_256"] = tr = bench_translation(device)
    print("translate 256 px, batch 4: " + ", ".join(f"{k} {v:.2f} images/s" for k, v in tr.items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    docs_output.run(main, __file__)
