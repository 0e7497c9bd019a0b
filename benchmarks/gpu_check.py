"""The GPU check: CUDA tests, precision choice, no host sync in a step, speed with MFU, resume, torchrun, translation.

    benchmarks/gpu_check.sh                    # on a CUDA machine: about 6 minutes on one GPU, figures to $OUT
    benchmarks/gpu_check.sh --dry              # the same parts on this CPU at tiny sizes (catches faults first)

Every part runs on its own: one that fails (an exception, or a verdict that is not met) is recorded as failed with
why, and the others still run. `<out>/gpu_check.json` is written again after each part, so a run cut short keeps
what it measured; a part that would not finish inside --budget-s is skipped and said so. Guide: docs/guides/gpu.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_model import bench_variants, make_trainer, peak_memory, step_flops  # noqa: E402

from model.checkpoint import load_checkpoint  # noqa: E402
from model.cli import torchrun_command  # noqa: E402
from model.config import TrainConfig, pick_precision  # noqa: E402
from model.engine import LossLog  # noqa: E402
from model.layout import RunDir  # noqa: E402
from model.networks import ResnetGenerator  # noqa: E402
from model.training import train  # noqa: E402
from model.translation import INDEX_LIMIT, Translator  # noqa: E402
from tests.support.model_data import make_dataset  # noqa: E402

# Dense (no sparsity) tensor-core peaks in TFLOP/s from the vendors' data sheets, per precision the step computes in
# (fp32: plain fp32, TF32 off), first match on the name torch.cuda.get_device_name gives; --peak-tflops overrides.
PEAKS: tuple[tuple[str, dict[str, float]], ...] = (
    (r"H100.*PCIe", {"bf16": 756.0, "fp16": 756.0, "fp32": 51.2}),
    (r"H100.*NVL", {"bf16": 835.0, "fp16": 835.0, "fp32": 60.0}),
    (r"H100|H200|GH200", {"bf16": 989.4, "fp16": 989.4, "fp32": 66.9}),  # SXM ("H100 80GB HBM3")
    (r"A100", {"bf16": 312.0, "fp16": 312.0, "fp32": 19.5}),
    (r"L40S", {"bf16": 362.1, "fp16": 362.1, "fp32": 91.6}),
    (r"\bL4\b", {"bf16": 121.0, "fp16": 121.0, "fp32": 30.3}),
    (r"\bA10\b", {"bf16": 125.0, "fp16": 125.0, "fp32": 31.2}),
    (r"V100", {"fp16": 125.0, "fp32": 15.7}),
    (r"\bT4\b", {"fp16": 65.0, "fp32": 8.1}),
)
# Seconds each part takes on one H100 (estimated from the dry run's share and the step times): a part is skipped
# when the budget left is less than this.
ESTIMATE_S = {"environment": 5, "cuda_tests": 60, "no_sync": 20, "speed": 200, "resume": 90, "torchrun": 60,
              "translation": 60}  # fmt: skip


class Interrupt(Exception):
    """Stops a training run at a chosen step (a crash in the middle of a run)."""


class Verdict(Exception):
    """A part ran but its result is not what it must be."""


def peak_tflops(name: str, precision: str) -> float | None:
    """The dense peak of the GPU called `name` in `precision` (None: not in PEAKS, or no such tensor cores)."""
    for pattern, peaks in PEAKS:
        if re.search(pattern, name):
            return peaks.get(precision)
    return None


def sizes(dry: bool) -> dict:
    """Image sizes, step counts and dataset shape: the real check, or a tiny one for the CPU."""
    if dry:
        return dict(image=32, batches=(1,), rounds=1, steps=1, warmup=1, train_images=6, steps_per_epoch=6,
                    image_px=40, checkpoint_every=4, stop_at=9, net=dict(ngf=8, ndf=8, n_blocks=2),
                    big=(64, 48), photo=(96, 72), small=(32, 2, 2), torchrun_steps=4)  # fmt: skip
    return dict(image=256, batches=(1, 4), rounds=3, steps=10, warmup=5, train_images=100, steps_per_epoch=100,
                image_px=288, checkpoint_every=60, stop_at=150, net={}, big=(1024, 768),
                photo=(4000, 3000), small=(256, 4, 16), torchrun_steps=20)  # fmt: skip


def check_environment(args, s) -> dict:
    """Python, torch, the GPU and what `auto` picks for it (capability, native bf16), the carried packages."""
    out = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "device": args.device_name, "auto_precision": pick_precision("auto", torch.device(args.device))}  # fmt: skip
    if args.device == "cuda":
        out["capability"] = torch.cuda.get_device_capability()
        out["bf16_native"] = torch.cuda.is_bf16_supported(including_emulation=False)
        out["bf16_with_emulation"] = torch.cuda.is_bf16_supported()
        out["gpus"] = torch.cuda.device_count()
        out["memory_gib"] = torch.cuda.get_device_properties(0).total_memory / 2**30
    out["packages"] = {p: _version(p) for p in ("pydantic", "pydantic-settings", "python-dotenv", "pytest",
                                                "hypothesis", "numpy", "pillow", "torchvision")}  # fmt: skip
    return out


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_cuda_tests(args, s) -> dict:
    """The tests marked `cuda` (they skip without a GPU); only their modules are collected, so packages the GPU
    machine lacks (selenium, prefect) are not imported. Ok only when pytest exits 0 (on a GPU: with none skipped)."""
    marked = re.compile(r"^@pytest\.mark\.cuda\b", re.MULTILINE)
    modules = sorted(str(p) for p in (ROOT / "tests").glob("test_*.py") if marked.search(p.read_text()))
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-rs", "-p", "no:cacheprovider", *modules]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = out.stdout.strip().splitlines()
    result = {"returncode": out.returncode, "summary": lines[-1] if lines else out.stderr[-500:],
              "modules": [Path(m).name for m in modules]}  # fmt: skip
    if out.returncode != 0:
        result["output_tail"] = (out.stdout + out.stderr)[-3000:]
        raise Verdict(f"pytest exited {out.returncode}: {result['summary']}", result)
    if args.device == "cuda" and "skipped" in result["summary"]:
        raise Verdict(f"CUDA tests skipped on a GPU: {result['summary']}", result)
    return result


def check_no_sync(args, s) -> dict:
    """Training steps that never wait for the device: on CUDA under torch.cuda.set_sync_debug_mode("error") (every
    sync raises); on the CPU with the batch marked as device memory (tests.support.host_reads), where every host
    read of a value derived from it raises."""
    device = torch.device(args.device)
    t = make_trainer(s["image"], device, True, False, pool_size=1, **s["net"])
    a, b = (torch.rand(1, 3, s["image"], s["image"], device=device) * 2 - 1 for _ in range(2))
    log = LossLog()
    t.train_step(a, b)  # the first step's lazy initialisations may sync once
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            for step in range(3):
                log.add(t.train_step(a, b), step=step)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        how = "torch.cuda.set_sync_debug_mode('error')"
    else:
        from tests.support.host_reads import host_reads_allowed, on_device

        for step in range(3):
            log.add(t.train_step(on_device(a), on_device(b)), step=step)
        how = "emulated: batch as OnDevice tensors (tests/support/host_reads.py)"
        with host_reads_allowed():
            return {"steps": len(log.read()), "precision": t.cfg.precision, "how": how}
    return {"steps": len(log.read()), "precision": t.cfg.precision, "how": how}


def check_speed(args, s) -> dict:
    """fp32 eager with TF32 off (the public implementations' step), the project's default step (`sakura train`:
    auto precision, channels_last on CUDA, no compile) and the best step (compile and channels_last on), each with
    its MFU against the GPU's dense peak in the precision it computes in."""
    device = torch.device(args.device)
    variants = {"default": {}, "best": {"compile": args.compile, "channels_last": True}}
    rows = []
    for batch in s["batches"]:
        r = bench_variants(s["image"], device, s["rounds"], s["steps"], variants, s["warmup"], batch, s["net"])
        flops = step_flops(s["image"], batch, device, s["net"])
        r["step_gflop"] = flops / 1e9
        r["fp32_eager"] = _mfu(args, flops, r["baseline_s_per_it"], "fp32")
        for v in r["variants"].values():
            v.update(_mfu(args, flops, v["s_per_it"], v["precision"]))
        rows.append(r)
        line = f"  batch {batch}: fp32 eager (TF32 off) {1 / r['baseline_s_per_it']:.2f} it/s"
        for k, v in r["variants"].items():
            line += f"; {k} ({v['precision']}, compile {v['compile']}) {v['it_s']:.2f} it/s ({v['speedup']:.2f}x"
            line += f", MFU {v['mfu']:.1%})" if v["mfu"] is not None else ")"
        print(line, flush=True)
    memory = None  # on the CPU a peak RSS says little; on CUDA max_memory_allocated of two steps, in fresh processes
    if device.type == "cuda":
        memory = {k: peak_memory(s["image"], k == "default", False, device) for k in ("fp32_eager", "default")}
    return {"device": args.device_name, "training": rows, "peak_memory_mib_batch1": memory,
            "cudnn_benchmark": torch.backends.cudnn.benchmark}  # fmt: skip


def _mfu(args, flops: float, s_per_it: float, precision: str) -> dict:
    peak = args.peak_tflops or peak_tflops(args.device_name, precision)
    achieved = flops / s_per_it / 1e12
    return {"achieved_tflops": achieved, "peak_tflops": peak, "mfu": achieved / peak if peak else None}


def _train_cfg(ds: Path, run: str, s: dict, args, **kw) -> TrainConfig:
    return TrainConfig(dataset_dir=str(ds), run=run, profile="paper", device=args.device, epochs=2, decay_epoch=1,
                       max_iters_per_epoch=s["steps_per_epoch"], checkpoint_every=s["checkpoint_every"], evaluate=False,
                       num_workers=0 if args.dry else None, progress_bar=False,
                       **({"image_size": s["image"], "load_size": s["image"] + 4} if args.dry else {}), **s["net"],
                       **kw)  # fmt: skip


def _weights_diff(ds: Path, a: str, b: str) -> dict[str, float]:
    x, y = (load_checkpoint(RunDir.of(ds, r).last_checkpoint) for r in (a, b))
    return {n: max((x[n][k].float() - y[n][k].float()).abs().max().item() for k in x[n]) for n in ("G_AB", "D_A")}


def check_resume(args, s) -> dict:
    """A paper-profile run of 2 epochs straight, twice (the run-to-run noise: on CUDA, reflection padding's backward
    adds with atomics, in no fixed order, and 100 steps grow a 1e-7 difference to 1e-2), and the same run crashed
    mid-epoch and resumed. Ok when the resumed run is as close to the straight one as two straight runs are to each
    other (within --resume-factor times the noise; exactly equal where the noise is 0, as on the CPU)."""
    ds = make_dataset(args.work / "ds", n_train=s["train_images"], n_test=4, size=(s["image_px"], s["image_px"]))
    t0 = time.perf_counter()
    train(_train_cfg(ds, "straight", s, args))
    straight_s = time.perf_counter() - t0
    train(_train_cfg(ds, "again", s, args))

    def crash(step: int, total: int, info: dict) -> None:
        if step == s["stop_at"]:
            raise Interrupt

    try:
        train(_train_cfg(ds, "broken", s, args), progress=crash)
    except Interrupt:
        pass
    resumed = train(_train_cfg(ds, "broken", s, args, resume=True))
    noise, diff = _weights_diff(ds, "straight", "again"), _weights_diff(ds, "straight", "broken")
    ok, limit = resume_verdict(noise, diff, args.resume_factor)
    result = {"steps": resumed.global_step, "crashed_at_step": s["stop_at"], "straight_run_s": straight_s,
              "noise_max_abs": noise, "resumed_max_abs": diff, "limit": limit,
              "factor": args.resume_factor}  # fmt: skip
    if not ok:
        raise Verdict(f"resumed run differs by {max(diff.values()):.3g}, over {limit:.3g} (noise x factor)", result)
    return result


def resume_verdict(noise: dict[str, float], diff: dict[str, float], factor: float) -> tuple[bool, float]:
    """(ok, limit): the resumed run's largest weight difference from the straight run against `factor` times the
    largest difference between two straight runs (0 where training is deterministic: then it must be equal)."""
    limit = factor * max(noise.values())
    return max(diff.values()) <= limit, limit


def check_torchrun(args, s) -> dict:
    """`torchrun --nproc_per_node=1 -m sakura train ...` as the train deployment builds it."""
    ds = args.work / "ds"
    if not ds.is_dir():
        make_dataset(ds, n_train=s["train_images"], n_test=4, size=(s["image_px"], s["image_px"]))
    cfg = _train_cfg(ds, "torchrun", s, args).replace(epochs=1, decay_epoch=1, max_iters_per_epoch=s["torchrun_steps"])
    cmd = torchrun_command(cfg, gpus=1)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400, env={**os.environ})
    run = RunDir.of(ds, "torchrun")
    result = {"command": " ".join(cmd[1:]), "returncode": out.returncode, "seconds": time.perf_counter() - t0,
              "generators_written": run.has_generators, "stderr_tail": out.stderr[-1500:]}  # fmt: skip
    if out.returncode != 0 or not run.has_generators:
        raise Verdict(f"torchrun exited {out.returncode}, generators written: {run.has_generators}", result)
    return result


def check_translation(args, s) -> dict:
    """Images/s of a ResNet-9 ngf 64 generator (256 px at batch 4, a 1024x768 photo; smaller when dry) in fp32 and the
    auto precision;
    tiled against whole; the batch chosen for three same-size photos and, on CUDA, the memory estimate against the
    measured peak and whether a reflection pad over 2^31 elements is refused or right."""
    device = torch.device(args.device)
    G = ResnetGenerator()
    out: dict = {}
    side, batch_small, n_small = s["small"]
    shapes = ((f"{side}px_batch{batch_small}", (side, side), batch_small, n_small), ("big", s["big"][::-1], 1, 2))
    for precision in dict.fromkeys(("fp32", pick_precision("auto", device))):
        for label, (h, w), batch, n in shapes:
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
    out["big_size"] = "x".join(map(str, s["big"]))
    out["big_tiled_fp32_s"], out["tiles"] = time.perf_counter() - t0, tr.tiled.tiles_run
    out["tiled_vs_whole_max_abs"] = (tiled - tr.run(x)).abs().max().item()
    w, h = s["photo"]
    tr = Translator(G, device, "fp32", batch_size=4)
    out["photo"] = {"size": f"{w}x{h}", "batch_for_3": tr.batch_limit(h, w), "estimate_gib": tr.forward_bytes(1, h, w)
                    / 2**30, "largest_tensor_elements": tr.cost(h, w).elements}  # fmt: skip
    if device.type == "cuda":
        out["photo"].update(_measured_forward(tr, h, w, device))
        out["reflection_pad_over_2_31"] = _big_reflection_pad(device)
    return out


def _measured_forward(tr: Translator, h: int, w: int, device: torch.device) -> dict:
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    tr.run(torch.rand(1, 3, h, w) * 2 - 1)
    peak = torch.cuda.max_memory_allocated(device) - before
    return {"measured_gib": peak / 2**30, "estimate_over_measured": tr.forward_bytes(1, h, w) / peak}


def _big_reflection_pad(device: torch.device) -> dict:
    """Three 64 x 3000 x 4000 maps through ReflectionPad2d(3) together (3 x 64 x 3006 x 4006 > 2^31 elements): does
    CUDA refuse it, or pad each map as it pads it alone?"""
    pad = torch.nn.ReflectionPad2d(3)
    try:
        with torch.inference_mode():
            x = torch.randn(3, 64, 3000, 4000, device=device)
            y = pad(x)
            same = all(torch.equal(y[i : i + 1, :, -8:, -8:], pad(x[i : i + 1])[..., -8:, -8:]) for i in range(3))
            elements = y.numel()
        return {"elements": elements, "over_limit": elements >= INDEX_LIMIT, "refused": False, "correct": same}
    except RuntimeError as e:
        return {"refused": True, "error": str(e).splitlines()[0][:300]}
    finally:
        torch.cuda.empty_cache()


CHECKS: dict[str, Callable] = {
    "environment": check_environment,
    "cuda_tests": check_cuda_tests,
    "no_sync": check_no_sync,
    "speed": check_speed,
    "resume": check_resume,
    "torchrun": check_torchrun,
    "translation": check_translation,
}


def run_part(name: str, args, s: dict) -> dict:
    """One part: its figures and ok, or ok False with the error (an exception) or the verdict not met."""
    if args.fail == name:  # shows how a failing part is reported (the acceptance run of --dry)
        return {"ok": False, "error": "Verdict: failure injected by --fail"}
    try:
        return {"ok": True, **CHECKS[name](args, s)}
    except Verdict as v:
        return {"ok": False, "error": f"Verdict: {v.args[0]}", **(v.args[1] if len(v.args) > 1 else {})}
    except Exception as e:  # one part failing must not lose the others' figures
        print(traceback.format_exc(), file=sys.stderr)
        return {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-check")))
    p.add_argument("--dry", action="store_true", help="tiny sizes on the CPU (no GPU needed)")
    p.add_argument("--only", nargs="+", choices=list(CHECKS), help="run only these parts")
    p.add_argument("--peak-tflops", type=float, help="the GPU's dense peak for every precision, if not in PEAKS")
    p.add_argument("--resume-factor", type=float, default=3.0, help="resumed run within this times the noise")
    p.add_argument("--budget-s", type=float, help="skip parts that would end after this (default: 540 on a GPU)")
    p.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile in the best step (default: on a GPU; on the CPU compiling takes many minutes)",
    )
    p.add_argument("--fail", choices=list(CHECKS), help=argparse.SUPPRESS)
    p.add_argument("--docs", type=Path, help="also write the report page here (docs/benchmarks/generated/...)")
    args = p.parse_args()
    argv = sys.argv[1:]
    for flag in ("--out", "--docs"):  # where the report goes is no part of the command that measured it
        if flag in argv:
            i = argv.index(flag)
            argv = argv[:i] + argv[i + 2 :]
    args.command = " ".join(["benchmarks/gpu_check.sh", *argv])
    args.device = "cpu" if args.dry else "cuda"
    args.compile = not args.dry if args.compile is None else args.compile
    if not args.dry and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; use --dry for the CPU run", file=sys.stderr)
        return 2
    args.device_name = torch.cuda.get_device_name(0) if args.device == "cuda" else f"CPU ({platform.machine()})"
    budget = args.budget_s or (math.inf if args.dry else 540.0)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True  # as `sakura train` sets it: fixed sizes, fastest algorithms
    args.out.mkdir(parents=True, exist_ok=True)
    args.work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    s = sizes(args.dry)
    report: dict = {"dry": args.dry, "device": args.device_name, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "checks": {}}  # fmt: skip
    start = time.perf_counter()
    for name in args.only or CHECKS:
        left = budget - (time.perf_counter() - start)
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        if not args.dry and left < ESTIMATE_S[name]:
            why = f"skipped: {left:.0f} s of the budget left, the part takes about {ESTIMATE_S[name]} s"
            result = {"ok": False, "error": why}
        else:
            result = run_part(name, args, s)
        result["seconds"] = round(time.perf_counter() - t0, 1)
        report["checks"][name] = result
        report["total_s"] = round(time.perf_counter() - start, 1)
        (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=_json))
        (args.out / "gpu_check.md").write_text(markdown(report, args.command))
        print(json.dumps({k: v for k, v in result.items() if k not in ("traceback", "output_tail")},
                         default=_json)[:2000], flush=True)  # fmt: skip
    if args.docs:
        args.docs.parent.mkdir(parents=True, exist_ok=True)
        args.docs.write_text(markdown(report, args.command))
    failed = [n for n, r in report["checks"].items() if not r["ok"]]
    timings = ", ".join(f"{n} {r['seconds']:.0f} s" for n, r in report["checks"].items())
    print(f"gpu_check: {len(report['checks']) - len(failed)} part(s) ok, failed: {failed or 'none'}; "
          f"{report['total_s']:.0f} s ({timings}); {args.out / 'gpu_check.json'}")  # fmt: skip
    return 1 if failed else 0


def markdown(report: dict, command: str) -> str:
    """The report as a page: the command and date first, then one row per part (ok, seconds, its key figures)."""
    lines = [f"`{command}` ({report['started']}; {report['device']}, torch {torch.__version__})", "",
             "| part | ok | seconds | figures |", "| --- | --- | --- | --- |"]  # fmt: skip
    for name, r in report["checks"].items():
        lines.append(f"| {name} | {'yes' if r['ok'] else 'FAILED'} | {r['seconds']:.0f} | {_figures(name, r)} |")
    lines.append(f"\ntotal {report['total_s']:.0f} s")
    return "\n".join(lines) + "\n"


def _figures(name: str, r: dict) -> str:
    if not r["ok"]:
        return r["error"].replace("|", "/")[:300]
    if name == "speed":
        rows = []
        for t in r["training"]:
            parts = [f"batch {t['batch']}: fp32 eager {1 / t['baseline_s_per_it']:.2f} it/s"]
            for k, v in t["variants"].items():
                mfu = f", MFU {v['mfu']:.1%}" if v.get("mfu") is not None else ""
                parts.append(
                    f"{k} ({v['precision']}, compile {v['compile']}) {v['it_s']:.2f} it/s ({v['speedup']:.2f}x{mfu})"
                )
            rows.append("; ".join(parts))
        return "<br>".join(rows)
    keep = {k: v for k, v in r.items() if k not in ("ok", "seconds", "traceback", "output_tail", "stderr_tail")}
    return json.dumps(keep, default=_json)[:400].replace("|", "/")


def _json(v):
    return None if isinstance(v, float) and not math.isfinite(v) else str(v)


if __name__ == "__main__":
    sys.exit(main())
