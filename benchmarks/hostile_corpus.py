"""Hostile-corpus run: `sakura curate` on a folder of 1,000+ files nobody chose by hand; prints what it made of them.

    .venv/bin/python benchmarks/hostile_corpus.py [--files 1000] [--seed 0] [--workers 2] [--keep DIR]

The folder is built reproducibly (tests/support/curation_hostile.py): --files seeded hostile files (valid images in
odd modes and formats, cut at random offsets, bytes flipped, huge declared sizes, wrong extensions, garbage around
them), every crafted failure (decompression bombs at open and in load, unimplemented DDS formats, EPS, HEIC, JPEG XL,
TIFF with WebP or LERC compression, SVG, PDF, HTML, archives...), and every image file found in the installed
packages and the standard library (icons, sample data, test images). Then the console script runs on it twice
(fresh, then again with nothing new) and the script checks what the acceptance asks: exit code 0, no traceback, one
manifest row per input file; and prints the counts by reason and the times.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docs_output  # noqa: E402

from tests.support.curation_hostile import found_on_machine, hostile_corpus  # noqa: E402


def run_curate(root: Path, workers: int) -> tuple[subprocess.CompletedProcess, float]:
    """`sakura curate --root root` as a user runs it (the console script of this interpreter's environment)."""
    sakura = Path(sys.executable).parent / "sakura"
    t = time.perf_counter()
    out = subprocess.run(
        [str(sakura), "curate", "--root", str(root), "--workers", str(workers), "--no-progress"],
        capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    return out, time.perf_counter() - t


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=1000, help="seeded hostile files to generate (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated files (%(default)s)")
    p.add_argument("--workers", type=int, default=2, help="curate's --workers (%(default)s)")
    p.add_argument("--keep", type=Path, help="build the folder here and keep it (default: a temporary folder)")
    docs_output.add_argument(p)
    args = p.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    shutil.rmtree(root / "raw", ignore_errors=True)
    shutil.rmtree(root / "curation", ignore_errors=True)
    t = time.perf_counter()
    found = found_on_machine()
    kinds = hostile_corpus(root / "raw", args.files, args.seed, found)
    files = sorted(q for q in (root / "raw").rglob("*") if q.is_file())
    size = sum(q.stat().st_size for q in files)
    digest = hashlib.sha256()
    for q in files:
        digest.update(q.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(q.read_bytes()).digest())
    print(f"built {root}/raw in {time.perf_counter() - t:.1f} s: {len(files)} files, {size / 1e6:.1f} MB "
          f"({args.files} generated from seed {args.seed}, {kinds['crafted']} crafted, {kinds['found']} found in "
          f"the installed packages); digest {digest.hexdigest()[:16]}")  # fmt: skip
    fresh, seconds = run_curate(root, args.workers)
    again, rerun = run_curate(root, args.workers)
    print(f"\n$ sakura curate --root {root} --workers {args.workers} --no-progress   # exit {fresh.returncode}, "
          f"{seconds:.1f} s (rerun with nothing new: exit {again.returncode}, {rerun:.1f} s)")  # fmt: skip
    print(fresh.stdout.rstrip())
    with (root / "curation" / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    reasons = Counter(r["reason"] or "kept" for r in rows)
    report = json.loads((root / "curation" / "report.json").read_text())
    print(f"\nmanifest rows: {len(rows)} for {len(files)} input files; by reason (both domains):")
    print("  " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    checks = {
        "exit code 0 (both runs)": fresh.returncode == again.returncode == 0,
        "no traceback": "Traceback" not in fresh.stdout + fresh.stderr + again.stdout + again.stderr,
        "one manifest row per input file": sorted(r["raw_path"] for r in rows)
        == sorted(q.relative_to(root).as_posix() for q in files),
        "every row not kept has a reason": all(r["reason"] for r in rows if r["status"] != "kept"),
    }
    unexpected = report["problems"].get("decode_error", {}).get("count", 0)
    print(f"unexpected errors (decode_error): {unexpected}")
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    if fresh.stderr.strip():
        print("stderr:\n" + fresh.stderr.rstrip())
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(docs_output.run(main, __file__))
