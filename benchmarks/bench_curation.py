"""Curation benchmark: duplicates found by kind and false drops on alike pictures, end-to-end speed against the code
before (`--before`) and imagededup's PHash on the same files, rerun time, per-image costs and the candidate search.

    .venv/bin/pip install -e '.[bench]'        # imagededup, the baseline
    git archive 6a62cb3 | (mkdir -p /tmp/before && tar -x -C /tmp/before)   # the curation code to compare with
    .venv/bin/python benchmarks/bench_curation.py [--images 2000] [--before /tmp/before] [--workers 2]

Sets (benchmarks/curation_sets.py): --images varied JPEGs of 512-1024 px, 15% of them planted copies of every kind
(re-saved, quality 30, resized, brightened, cropped 5/10/20%, mirrored, rotated 5/15 degrees, letterboxed,
EXIF-rotated; a third in the other domain); and two alike sets, --alike distinct street photos per domain (the
varied street generator of tests/support/curation_streets.py, and sakura.synthetic's), each with copies of every
kind among them. Every curate runs fresh in a subprocess of its own (earlier outputs and state deleted, untimed),
rounds alternate the order of the sides, medians are compared. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import curation_sets as sets  # noqa: E402
import docs_output  # noqa: E402

from curation import CurationConfig  # noqa: E402
from curation.outputs import read_manifest  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
_DRIVER = """
import json, resource, shutil, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from curation import CurationConfig, curate
root, workers, fresh = Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "fresh"
if fresh:
    for d in ("curation", "train", "test"):
        shutil.rmtree(root / d, ignore_errors=True)
cpu = lambda: sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for f in ("ru_utime", "ru_stime"))
t, c = time.perf_counter(), cpu()
r = curate(CurationConfig(dataset_dir=root, workers=workers))
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": cpu() - c, "analysed": r.analysed,
                  "kept": {d: r.counts[d]["kept"] for d in "AB"}}))
"""


_PER_IMAGE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from curation.config import CurationConfig
from curation.decode import DecodeSettings, analyse_file
files, staging = json.loads(sys.argv[2]), sys.argv[3]
settings = DecodeSettings.of(CurationConfig(), staging)
best = [1e9] * len(files)
for _ in range(3):
    for i, f in enumerate(files):
        t = time.process_time()
        analyse_file("A", f, Path(f).name, settings)
        best[i] = min(best[i], time.process_time() - t)
print(json.dumps(sum(best) / len(best)))
"""


def per_image(code: Path, files: list[Path], staging: Path) -> float:
    """CPU seconds `analyse_file` of the code under `code` takes per image (quickest of 3 passes each)."""
    out = subprocess.run([sys.executable, "-c", _PER_IMAGE, str(code), json.dumps([str(f) for f in files]),
                          str(staging)], capture_output=True, text=True, cwd=code, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_curate(code: Path, root: Path, workers: int, fresh: bool = True) -> dict:
    """curate() of the curation code under `code` on `root`, in a process of its own; its own timing."""
    out = subprocess.run([sys.executable, "-c", _DRIVER, str(code), str(root), str(workers), "fresh" if fresh else ""],
                         capture_output=True, text=True, cwd=code, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def grouped_pairs(root: Path) -> tuple[sets.Planted, list[str]]:
    """From a curated manifest: the pairs of files that share a duplicate group, and the false drops (files left
    out as a duplicate although no other member of their group is a copy of the same picture)."""
    rows = read_manifest(root / "curation" / "manifest.csv")
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r.group:
            groups.setdefault(r.group, []).append(Path(r.relpath).name)
    pairs = {frozenset((a, b)) for g in groups.values() for i, a in enumerate(g) for b in g[i + 1 :]}
    source = {n: n.split("_")[0] for g in groups.values() for n in g}
    false = [r.relpath for r in rows if r.status == "duplicate" and r.reason != "split_conflict"
             and not any(source[n] == source[Path(r.relpath).name] for n in groups[r.group]
                         if n != Path(r.relpath).name)]  # fmt: skip
    return pairs, false


def imagededup_pairs(raw: Path, threshold: int, workers: int) -> tuple[sets.Planted, float]:
    from imagededup.methods import PHash

    t = time.perf_counter()
    dups = PHash(verbose=False).find_duplicates(
        image_dir=raw, max_distance_threshold=threshold, recursive=True, num_enc_workers=workers,
        num_dist_workers=workers,
    )  # fmt: skip
    seconds = time.perf_counter() - t
    return {frozenset((Path(a).name, Path(b).name)) for a, bs in dups.items() for b in bs}, seconds


def _kinds(recall: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.0%}" for k, v in recall.items())


def end_to_end(root: Path, planted: sets.Planted, args: argparse.Namespace) -> None:
    """Fresh runs of this code, the code before and imagededup, alternating; then recall by kind and reruns."""
    times: dict[str, list[float]] = {"after": [], "before": [], "imagededup": []}
    cpus: dict[str, list[float]] = {"after": [], "before": []}
    sides = ["after", "imagededup"] + (["before"] if args.before else [])
    for r in range(args.rounds):
        for side in sides if r % 2 == 0 else sides[::-1]:
            cpu = ""
            if side == "imagededup":
                theirs, s = imagededup_pairs(root / "raw", 10, args.workers)
            else:
                out = run_curate(HERE if side == "after" else args.before, root, args.workers)
                s = out["seconds"]
                cpus[side].append(out["cpu"])
                cpu = f", CPU {out['cpu']:.2f} s in all processes"
            times[side].append(s)
            print(f"round {r + 1}: {side:<10} {s:6.2f} s{cpu} (load average {os.getloadavg()[0]:.1f})")
    med = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"fresh, {args.workers} processes, medians of {args.rounds}: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))  # fmt: skip
    if args.before:
        cpu = {k: statistics.median(v) for k, v in cpus.items()}
        print(f"  after / before: {med['after'] / med['before']:.2f} wall, {cpu['after'] / cpu['before']:.2f} CPU "
              f"({cpu['after']:.2f} s vs {cpu['before']:.2f} s; below 1: faster)")  # fmt: skip
    run_curate(HERE, root, args.workers)
    ours, false = grouped_pairs(root)
    for label, found in (("curate (after)", ours), ("imagededup, threshold 10", theirs)):
        recall, extra = sets.score(found, planted)
        print(f"{label:<26} recall {recall:6.1%} (target kinds {sets.target_recall(found, planted):6.1%}), "
              f"false pairs {extra}; by kind: {_kinds(sets.by_kind(found, planted))}")  # fmt: skip
    print(f"curate (after): {len(false)} false drops")
    decide_cost(root)
    rerun = [run_curate(HERE, root, args.workers, fresh=False) for _ in range(3)]
    print(f"rerun, nothing new (after): {statistics.median(r['seconds'] for r in rerun):.2f} s "
          f"({rerun[-1]['analysed']} decoded)")  # fmt: skip
    if args.before:
        run_curate(args.before, root, args.workers)
        old, old_false = grouped_pairs(root)
        recall, extra = sets.score(old, planted)
        print(
            f"{'curate (before)':<26} recall {recall:6.1%} (target kinds {sets.target_recall(old, planted):6.1%}), "
            f"false pairs {extra}, false drops {len(old_false)}; by kind: {_kinds(sets.by_kind(old, planted))}"
        )
        rerun = [run_curate(args.before, root, args.workers, fresh=False)["seconds"] for _ in range(3)]
        print(f"rerun, nothing new (before): {statistics.median(rerun):.2f} s")


def alike(base: Path, args: argparse.Namespace) -> None:
    """Alike sets: false drops among distinct street photos of one composition, and recall of copies among them."""
    for maker in ("streets", "synthetic"):
        root = base / maker
        planted = sets.generate(root / "raw", sets.alike_jobs(maker, args.alike, args.alike_copies), args.workers)
        n = sum(1 for _ in (root / "raw").rglob("*.jpg"))
        for side, code in (("before", args.before), ("after", HERE)):  # after last: its records for decide_cost
            if code is None:
                continue
            r = run_curate(code, root, args.workers)
            found, false = grouped_pairs(root)
            per_domain = {d: sum(f.startswith(f"{d}/") for f in false) for d in "AB"}
            recall, extra = sets.score(found, planted)
            print(f"alike '{maker}' ({args.alike} distinct per domain, {n} files), {side}: false drops "
                  f"A {per_domain['A']} B {per_domain['B']}, false pairs {extra}; recall {recall:.0%} (target "
                  f"{sets.target_recall(found, planted):.0%}): {_kinds(sets.by_kind(found, planted))}; "
                  f"{r['seconds']:.1f} s")  # fmt: skip
        decide_cost(root)
        theirs, _ = imagededup_pairs(root / "raw", 10, args.workers)
        recall, extra = sets.score(theirs, planted)
        print(f"alike '{maker}', imagededup threshold 10: false pairs {extra}, recall {recall:.0%}: "
              f"{_kinds(sets.by_kind(theirs, planted))}")  # fmt: skip


def decide_cost(root: Path) -> None:
    """decide() alone on the records of the last run: candidate search, verification, groups, split."""
    from curation import groups
    from curation.state import CurationState

    cfg = CurationConfig(dataset_dir=root)
    with CurationState(root / "curation" / "state.sqlite") as st:
        recs = [rec for _, (_, _, rec) in sorted(st.all_cached(cfg.decode_key).items())]
    t = time.perf_counter()
    groups.decide(recs, cfg, set(), {}, root / "curation" / "staged")
    print(f"decide alone over {len(recs)} records: {time.perf_counter() - t:.2f} s")


def search(n: int) -> None:
    """The candidate search alone over n images' random window hashes (each image's nearest), and the search before."""
    from curation.search import nearest_window_pairs
    from tests.support.curation_search import near_pairs

    rng = np.random.default_rng(0)
    h = rng.integers(0, 2**63, (n, 11), dtype=np.uint64) * np.uint64(2)
    for label, fn in (
        ("each image's 32 nearest within 12 bits (frame, mirror, windows)", lambda: nearest_window_pairs(h, 12, 32)[0]),
        ("whole-frame hashes within 10 bits alone (the search before)", lambda: near_pairs(h[:, 0], 10)),
    ):
        t = time.perf_counter()
        pairs = fn()
        print(f"search {n:,}: {label}: {time.perf_counter() - t:.1f} s ({len(pairs)} pairs)")
    from imagededup.methods import PHash

    k = min(n, 5000)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "num_enc_workers has no effect": no encoding here
        encodings = {f"{i}.jpg": f"{int(x):016x}" for i, x in enumerate(h[:k, 0])}
        PHash(verbose=False).find_duplicates(encoding_map=encodings, max_distance_threshold=10)
    print(f"search {k:,} hashes: imagededup {time.perf_counter() - t:.2f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--alike", type=int, default=300, help="distinct pictures per domain in each alike set")
    ap.add_argument("--alike-copies", type=int, default=4, help="copies of each kind per domain in the alike sets")
    ap.add_argument("--before", type=Path, help="a checkout of the curation code to compare with")
    ap.add_argument("--workers", type=int, default=2, help="processes for curate and for imagededup alike")
    ap.add_argument("--rounds", type=int, default=2, help="fresh runs of each side, alternating which goes first")
    ap.add_argument("--search", type=int, default=20_000, help="images (random hashes) for the search-only figure")
    ap.add_argument("--skip", nargs="*", default=[], choices=["end-to-end", "alike", "search"])
    ap.add_argument("--keep", action="store_true", help="keep the generated folders")
    docs_output.add_argument(ap)
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)  # imagededup logs every file
    base = Path(tempfile.mkdtemp(prefix="bench-curation-"))
    try:
        if "end-to-end" not in args.skip:
            t = time.perf_counter()
            planted = sets.generate(base / "varied" / "raw", sets.varied_jobs(args.images), args.workers)
            files = sorted((base / "varied" / "raw").rglob("*.jpg"))
            for p in files:
                p.read_bytes()  # every side starts from a warm page cache
            print(f"generated {len(files)} JPEGs ({len(planted)} planted pairs) in {time.perf_counter() - t:.0f} s")
            end_to_end(base / "varied", planted, args)
            sample = files[:: max(1, len(files) // 100)]
            for r in range(2):
                for side, code in (("after", HERE), ("before", args.before))[:: 1 if r % 2 == 0 else -1]:
                    if code is not None:
                        ms = 1000 * per_image(code, sample, base / f"staging-{side}")
                        print(f"analyse_file, one image, CPU ({side}): {ms:.2f} ms (mean of {len(sample)} files)")
        if "alike" not in args.skip:
            alike(base, args)
        if "search" not in args.skip:
            search(args.search)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}")
    return 0


if __name__ == "__main__":
    sys.exit(docs_output.run(main, __file__))
