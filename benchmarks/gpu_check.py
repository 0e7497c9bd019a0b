"""The GPU check: CUDA-only tests, training speed against fp32 eager with MFU, exact resume, torchrun, translation.

    benchmarks/gpu_check.sh                    # on a CUDA machine: about 8 minutes on one GPU, figures to $OUT
    benchmarks/gpu_check.sh --dry              # the same steps on this CPU at tiny sizes (catches typos first)

Every part runs on its own: one that fails is recorded with its error and the others still run. The figures go to
`<out>/gpu_check.json`, written again after each part, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_model import bench_training, peak_memory, step_flops  # noqa: E402

from model.checkpoint import load_checkpoint  # noqa: E402
from model.cli import torchrun_command  # noqa: E402
from model.config import TrainConfig  # noqa: E402
from model.layout import RunDir  # noqa: E402
from model.networks import ResnetGenerator  # noqa: E402
from model.training import train  # noqa: E402
from model.translation import Translator  # noqa: E402
from tests.support.model_data import make_dataset  # noqa: E402

# Dense bf16 tensor-core peaks (TFLOP/s) from the vendors' data sheets; --peak-tflops for anything else.
BF16_PEAK_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0, "L40S": 362.1, "L4": 121.0, "A10": 125.0}


class Interrupt(Exception):
    """Stops a training run at a chosen step (a crash in the middle of a run)."""


def sizes(dry: bool) -> dict:
    """Image sizes, step counts and dataset shape: the real check, or a tiny one for the CPU."""
    if dry:
        return dict(image=32, batches=(1, 2), rounds=1, steps=1, warmup=1, train_images=8, steps_per_epoch=8,
                    image_px=40, checkpoint_every=3, stop_at=11, net=dict(ngf=8, ndf=8, n_blocks=2),
                    big=(96, 64))  # fmt: skip
    return dict(image=256, batches=(1, 4), rounds=3, steps=10, warmup=5, train_images=150, steps_per_epoch=150,
                image_px=288, checkpoint_every=100, stop_at=230, net={}, big=(1024, 768))  # fmt: skip


def check_cuda_tests(args, s) -> dict:
    """The tests marked `cuda` (they skip without a GPU); only their modules are collected, so packages the GPU
    machine lacks (selenium, prefect) are not imported."""
    modules = sorted(str(p) for p in (ROOT / "tests").glob("test_*.py") if "pytest.mark.cuda" in p.read_text())
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-rs", "-p", "no:cacheprovider", *modules]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    tail = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-500:]
    return {"returncode": out.returncode, "summary": tail}


def check_speed(args, s) -> dict:
    """fp32 eager (one call per role) against the optimised step (AMP, batched calls, channels_last, compile)."""
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = args.peak_tflops or next((v for k, v in BF16_PEAK_TFLOPS.items() if k in name), None)
    rows = []
    for batch in s["batches"]:
        r = bench_training(s["image"], device, s["rounds"], s["steps"], args.compile, s["warmup"], batch=batch)
        flops = step_flops(s["image"], batch, device)
        r.update(step_gflop=flops / 1e9, achieved_tflops=flops * r["optimised_it_s"] / 1e12)
        r["mfu_vs_bf16_peak"] = r["achieved_tflops"] / peak if peak else None
        rows.append(r)
        print(f"  batch {batch}: {r['baseline_it_s']:.2f} -> {r['optimised_it_s']:.2f} it/s ({r['speedup']:.2f}x), "
              f"first step {r['first_step_s']:.1f} s, {r['achieved_tflops']:.1f} TFLOP/s", flush=True)  # fmt: skip
    memory = {k: peak_memory(s["image"], k == "optimised", args.compile, device) for k in ("baseline", "optimised")}
    return {"device": name, "bf16_peak_tflops": peak, "training": rows, "peak_memory_mib_batch1": memory}


def _train_cfg(ds: Path, run: str, s: dict, args, **kw) -> TrainConfig:
    return TrainConfig(dataset_dir=str(ds), run=run, profile="paper", device=args.device, epochs=2, decay_epoch=1,
                       max_iters_per_epoch=s["steps_per_epoch"], checkpoint_every=s["checkpoint_every"], evaluate=False,
                       num_workers=0 if args.dry else None, progress_bar=False, compile=args.compile,
                       **({"image_size": s["image"], "load_size": s["image"] + 4} if args.dry else {}), **s["net"],
                       **kw)  # fmt: skip


def check_resume(args, s) -> dict:
    """A paper-profile run of 2 epochs straight, and the same run crashed mid-epoch and resumed: same weights?"""
    ds = make_dataset(args.work / "ds", n_train=s["train_images"], n_test=4, size=(s["image_px"], s["image_px"]))
    t0 = time.perf_counter()
    train(_train_cfg(ds, "straight", s, args))
    straight_s = time.perf_counter() - t0

    def crash(step: int, total: int, info: dict) -> None:
        if step == s["stop_at"]:
            raise Interrupt

    try:
        train(_train_cfg(ds, "broken", s, args), progress=crash)
    except Interrupt:
        pass
    resumed = train(_train_cfg(ds, "broken", s, args, resume=True))
    a, b = (load_checkpoint(RunDir.of(ds, r).last_checkpoint) for r in ("straight", "broken"))
    diffs = {}
    for net in ("G_AB", "G_BA", "D_A", "D_B"):
        diffs[net] = max((a[net][k].float() - b[net][k].float()).abs().max().item() for k in a[net])
    exact = all(d == 0 for d in diffs.values())
    scale = max(a["G_AB"][k].float().abs().max().item() for k in a["G_AB"])
    return {"steps": resumed.global_step, "crashed_at_step": s["stop_at"], "straight_run_s": straight_s,
            "max_abs_weight_diff": diffs, "exact": exact, "largest_weight": scale,
            "within_tolerance": max(diffs.values()) <= args.resume_atol, "atol": args.resume_atol}  # fmt: skip


def check_torchrun(args, s) -> dict:
    """`torchrun --nproc_per_node=1 -m sakura train ...` as the train deployment builds it."""
    ds = args.work / "ds"
    if not ds.is_dir():
        make_dataset(ds, n_train=s["train_images"], n_test=4, size=(s["image_px"], s["image_px"]))
    cfg = _train_cfg(ds, "torchrun", s, args).replace(epochs=1, decay_epoch=1, max_iters_per_epoch=20)
    cmd = torchrun_command(cfg, gpus=1)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400, env={**os.environ})
    run = RunDir.of(ds, "torchrun")
    return {"command": " ".join(cmd[1:]), "returncode": out.returncode, "seconds": time.perf_counter() - t0,
            "generators_written": run.has_generators, "stderr_tail": out.stderr[-1500:]}  # fmt: skip


def check_translation(args, s) -> dict:
    """Images/s of a ResNet-9 ngf 64 generator: 256 px at batch 4, and a whole 1024x768 photo, fp32 and bf16; the
    same photo translated layer by layer in tiles (a 256 MiB budget) against the whole pass: time and largest
    difference."""
    device = torch.device(args.device)
    G = ResnetGenerator()
    out = {}
    for precision in ("fp32", "bf16"):
        for label, (h, w), batch, n in (("256px_batch4", (256, 256), 4, 16), ("1024x768", s["big"][::-1], 1, 4)):
            tr = Translator(G, device, precision, batch_size=batch)
            x = torch.rand(batch, 3, h, w) * 2 - 1
            tr.run(x)
            t0 = time.perf_counter()
            for _ in range(n // batch):
                tr.run(x)  # includes the copy back to the CPU
            out[f"{label}_{precision}_img_s"] = n / (time.perf_counter() - t0)
    tr = Translator(G, device, "fp32", memory_bytes=256 * 2**20)
    x = torch.rand(1, 3, *s["big"][::-1]) * 2 - 1
    t0 = time.perf_counter()
    tiled = tr.run_tiled(x)
    out["1024x768_tiled_fp32_s"], out["tiles"] = time.perf_counter() - t0, tr.tiled.tiles_run
    out["tiled_vs_whole_max_abs"] = (tiled - tr.run(x)).abs().max().item()
    return out


CHECKS: dict[str, Callable] = {
    "cuda_tests": check_cuda_tests,
    "speed": check_speed,
    "resume": check_resume,
    "torchrun": check_torchrun,
    "translation": check_translation,
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-check")))
    p.add_argument("--dry", action="store_true", help="tiny sizes on the CPU (no GPU needed)")
    p.add_argument("--only", nargs="+", choices=list(CHECKS), help="run only these parts")
    p.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16 peak, if not in the built-in table")
    p.add_argument("--resume-atol", type=float, default=1e-3, help="weights of a resumed run within this of straight")
    args = p.parse_args()
    args.device = "cpu" if args.dry else "cuda"
    if not args.dry and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; use --dry for the CPU run", file=sys.stderr)
        return 2
    args.compile = not args.dry  # torch.compile on the GPU; on the CPU its first step takes minutes
    args.out.mkdir(parents=True, exist_ok=True)
    args.work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    s = sizes(args.dry)
    report: dict = {"dry": args.dry, "torch": torch.__version__, "checks": {}}
    for name in args.only or CHECKS:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            result = {"ok": True, **CHECKS[name](args, s)}
        except Exception as e:  # one part failing must not lose the others' figures
            result = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]}
            print(result["traceback"], file=sys.stderr)
        result["seconds"] = round(time.perf_counter() - t0, 1)
        report["checks"][name] = result
        (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=_json))
        print(json.dumps({k: v for k, v in result.items() if k != "traceback"}, default=_json)[:2000], flush=True)
    failed = [n for n, r in report["checks"].items() if not r["ok"]]
    print(f"gpu_check: {len(report['checks']) - len(failed)} part(s) ok, failed: {failed or 'none'}; {args.out}")
    return 1 if failed else 0


def _json(v):
    return None if isinstance(v, float) and not math.isfinite(v) else str(v)


if __name__ == "__main__":
    sys.exit(main())
