"""Curate against imagededup's PHash, whole processes, interleaved: fresh, rerun with nothing new, and rerun after
adding 10% new files, on a varied set and a duplicate-heavy set (most files crops of a few dozen photos, both
domains); ratios printed, peak RSS of a fresh curate, and where a fresh curate's time goes (one more fresh run, its
stages timed, beside imagededup's import alone); its table written to docs/benchmarks/generated/bench_dedup.md.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/bench_dedup.py [--images 2000] [--rounds 1] [--work /tmp/bench-dedup]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import curation_sets as sets  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
OUT = HERE / "docs" / "benchmarks" / "generated" / "bench_dedup.md"
PYCACHE = Path("/tmp/bench-dedup-pycache")
_CURATE = """
import json, resource, shutil, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from curation import CurationConfig, curate
root, fresh = Path(sys.argv[2]), sys.argv[3] == "fresh"
stages = {}
if sys.argv[4:] == ["stages"]:  # wall seconds of each stage (module functions wrapped where they are called from)
    import curation.groups, curation.pipeline
    def timed(module, name, label):
        inner = getattr(module, name)
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                stages[label] = stages.get(label, 0.0) + time.perf_counter() - t
        setattr(module, name, wrapper)
    timed(curation.pipeline, "_analyse", "decode")
    timed(curation.groups, "find_duplicates", "find")
    timed(curation.groups, "resolve_groups", "keep")
    timed(curation.pipeline, "build_report", "report")
if fresh:
    for d in ("curation", "train", "test"):
        shutil.rmtree(root / d, ignore_errors=True)
t = time.perf_counter()
r = curate(CurationConfig(dataset_dir=root, workers=2))
rss = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
print(json.dumps({"curate_s": time.perf_counter() - t, "rss_mb": rss, "analysed": r.analysed,
                  "kept": sum(r.kept(d) for d in "AB"), "stages": stages}))
"""
_IMPORT = "from imagededup.methods import PHash"
_IMAGEDEDUP = """
import json, logging, resource, sys
logging.disable(logging.WARNING)
from imagededup.methods import PHash
d = PHash(verbose=False).find_duplicates(image_dir=sys.argv[1], max_distance_threshold=10, recursive=True,
                                         num_enc_workers=2, num_dist_workers=2)
rss = max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
print(json.dumps({"rss_mb": rss, "files": len(d)}))
"""


def timed(args: list[str]) -> tuple[float, dict]:
    """(wall seconds of the whole process, what it printed last as JSON, with "cpu_s": the CPU seconds of the process
    and its children). Both sides run with their bytecode cached, as an installed package's is (in a folder of the
    benchmark's own, whatever PYTHONDONTWRITEBYTECODE says)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True, cwd=HERE, check=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, {**json.loads(out.stdout.strip().splitlines()[-1]), "cpu_s": cpu}


def load() -> str:
    """The load average over the last 1, 5 and 15 minutes (the machine is shared)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ours(root: Path, fresh: bool, stages: bool = False) -> tuple[float, dict]:
    return timed([_CURATE, str(HERE), str(root), "fresh" if fresh else "", *(["stages"] if stages else [])])


def theirs(root: Path) -> tuple[float, dict]:
    return timed([_IMAGEDEDUP, str(root / "raw")])


def make(kind: str, root: Path, n: int) -> Path:
    """The set's raw/ of n files, and n // 10 more files in extra/ (added for the third run)."""
    if not (root / "raw").is_dir():
        if kind == "heavy":
            sets.heavy(root / "raw", n)
            sets.heavy(root / "extra", n // 10, start=n)
        else:
            jobs = sets.varied_jobs(n)  # jobs, not files: a job with a planted copy writes two
            sets.generate(root / "raw", jobs, 2)
            more, files = [], 0
            for job in sets.varied_jobs(n + n // 5)[len(jobs) :]:  # the first of the new jobs, n // 10 files
                if files >= n // 10:
                    break
                more.append(job)
                files += 1 + (job[3] is not None)
            sets.generate(root / "extra", more, 2)
    return root


def bench(kind: str, root: Path, rounds: int) -> list[str]:
    """Rows of the table for one set."""
    shutil.rmtree(root / "raw" / "A" / "new", ignore_errors=True)
    shutil.rmtree(root / "raw" / "B" / "new", ignore_errors=True)
    fresh, base, rss, cpu, their_cpu, loads = [], [], [], [], [], [load()]
    theirs(root)  # its bytecode cached and its files read once before timing, as ours get in the first fresh run
    ours(root, fresh=True)
    for r in range(rounds):
        for side in ("ours", "theirs") if r % 2 == 0 else ("theirs", "ours"):
            if side == "ours":
                s, out = ours(root, fresh=True)
                fresh.append(s)
                rss.append(out["rss_mb"])
                cpu.append(out["cpu_s"])
            else:
                s, out = theirs(root)
                base.append(s)
                their_rss = out["rss_mb"]
                their_cpu.append(out["cpu_s"])
            print(f"{kind} fresh {side}: {s:.1f} s", flush=True)
    loads.append(load())
    staged_wall, staged = ours(root, fresh=True, stages=True)  # where a fresh run's time goes (not in the ratio)
    import_wall = statistics.median(timed([_IMPORT + "; print('{}')"])[0] for _ in range(3))
    rerun = [ours(root, fresh=False) for _ in range(2)]  # the first right after a fresh run
    loads.append(load())
    for d in "AB":  # 10% new files
        if (root / "extra" / d).is_dir():
            shutil.copytree(root / "extra" / d, root / "raw" / d / "new")
    s10, out10 = ours(root, fresh=False)
    t10, their10 = theirs(root)
    loads.append(load())
    f, b = statistics.median(fresh), statistics.median(base)
    (r_wall, r_out), (r2_wall, _) = rerun
    parts = staged["stages"]
    stage_text = ", ".join(f"{label} {parts.get(label, 0.0):.1f}" for label in ("decode", "find", "keep", "report"))
    return [
        f"| {kind} | fresh, by stage | {staged_wall:.1f}: {stage_text}; "
        f"the rest {staged_wall - sum(parts.values()):.1f} | import alone {import_wall:.1f} | | stages: "
        "`curation.pipeline._analyse`, `find_duplicates`, `resolve_groups`, `build_report` | |",
        f"| {kind} | fresh | {f:.1f} (CPU {statistics.median(cpu):.1f}) | {b:.1f} (CPU "
        f"{statistics.median(their_cpu):.1f}) | **{b / f:.2f}x** | peak RSS {max(rss):.0f} MB (imagededup "
        f"{their_rss:.0f} MB) | {loads[0]} |",
        f"| {kind} | rerun, nothing new | {r_wall:.2f} (CPU {r_out['cpu_s']:.2f}; curate() {r_out['curate_s']:.2f}; "
        f"again {r2_wall:.2f}) | {b:.1f} | {b / r_wall:.1f}x | {r_out['analysed']} decoded | {loads[1]} |",
        f"| {kind} | rerun, 10% new | {s10:.1f} (CPU {out10['cpu_s']:.1f}) | {t10:.1f} (CPU {their10['cpu_s']:.1f}) | "
        f"{t10 / s10:.1f}x | {s10 / f:.0%} of our fresh time; {out10['analysed']} decoded | {loads[2]} |",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=1, help="fresh runs of each side, alternating which goes first")
    ap.add_argument("--sets", nargs="*", default=["heavy", "varied"], choices=["heavy", "varied"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-dedup"), help="where the sets are (kept)")
    args = ap.parse_args(argv)
    command = "benchmarks/bench_dedup.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = [f"`{command.strip()}` ({datetime.date.today()}; 2 cores shared with other work: compare the ratios)",
             "", "| set | run | curate, s (whole process) | imagededup PHash, s (whole process, 2 workers) | "
             "speed vs imagededup | notes | load (1, 5, 15 min) |", "|---|---|---:|---:|---:|---|---|"]  # fmt: skip
    for kind in args.sets:
        root = make(kind, args.work / f"{kind}-{args.images}", args.images)
        lines += bench(kind, root, args.rounds)
        print("\n".join(lines[-4:]), flush=True)
    shutil.rmtree(PYCACHE, ignore_errors=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
