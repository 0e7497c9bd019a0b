"""Candidate search at scale, on synthetic hashes: time and peak memory of curation.search.nearest_pairs for n images
(11 window hashes each, random, with 2,000 planted near copies at 0-12 bits), the share of planted pairs found by
distance, and on a smaller n the candidates found against the exhaustive search (recall, by distance). A size that runs
past --limit seconds is stopped and reported so. Writes its table to docs/benchmarks/generated/bench_search.md.

    .venv/bin/python benchmarks/bench_search.py [--sizes 100000 1000000] [--check 30000] [--limit 600]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation import search  # noqa: E402
from curation.search import EXACT_MAX  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
OUT = HERE / "docs" / "benchmarks" / "generated" / "bench_search.md"
_CHILD = """
import json, resource, sys, time
import numpy as np
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/benchmarks"]
from bench_search import hashes
from curation import search
n, exact = int(sys.argv[2]), sys.argv[3] == "exact"
h, planted = hashes(n)
t, c = time.perf_counter(), time.process_time()
pairs, _ = search.nearest_window_pairs(h, 12, 32) if exact else search.nearest_pairs(h, 12, 32)
seconds, cpu = time.perf_counter() - t, time.process_time() - c
got = set(map(tuple, pairs.tolist()))
found = {}
for (a, b), d in planted.items():
    f = found.setdefault(d, [0, 0]); f[1] += 1; f[0] += (a, b) in got
print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "pairs": [list(p) for p in pairs.tolist()] if n <= 50_000 else len(pairs),
                  "orders": search.bit_orders(12), "found": found}))
"""


def hashes(n: int, planted: int = 2000, seed: int = 0) -> tuple[np.ndarray, dict[tuple[int, int], int]]:
    """(n, 11) random window hashes, image 2i + 1 a copy of image 2i with d = i mod 13 bits flipped in every hash,
    for the first `planted` pairs; and those pairs with their distance."""
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, (n, 11), dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, (n, 11), dtype=np.uint64)
    out = {}
    for i in range(0, min(n - 1, 2 * planted), 2):
        d = (i // 2) % 13
        h[i + 1] = h[i] ^ np.uint64(sum(1 << int(b) for b in rng.choice(64, d, replace=False)))
        out[(i, i + 1)] = d
    return h, out


def run(n: int, exact: bool = False, limit: float | None = None) -> dict | None:
    """One search in a process of its own (its own peak memory); None when it ran past `limit` seconds."""
    try:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(HERE), str(n), "exact" if exact else "index"],
                             capture_output=True, text=True, check=True, cwd=HERE, timeout=limit)  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> str:
    """The load average over the last 1, 5 and 15 minutes (the machine is shared)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--check", type=int, default=30_000, help="images for the check against the exhaustive search")
    ap.add_argument("--limit", type=float, default=600, help="seconds a size may run before it is stopped")
    args = ap.parse_args(argv)
    command = "benchmarks/bench_search.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"`{command.strip()}` ({datetime.date.today()}; 2 cores shared with other work: times vary)", "",
             "| images | bit orders | seconds (CPU) | peak RSS MB | planted pairs found, by distance 0-12 bits | "
             "load before |", "|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for n in args.sizes:
        before = load()
        r = run(n, limit=args.limit)
        if r is None:
            lines.append(f"| {n:,} | {search.bit_orders(12)} | stopped after {args.limit:.0f} s | | | {before} |")
        else:
            found = " ".join(f"{d}:{a}/{b}" for d, (a, b) in sorted(r["found"].items(), key=lambda x: int(x[0])))
            row = f"| {n:,} | {r['orders']} | {r['seconds']:.1f} ({r['cpu']:.1f}) | {r['rss_mb']:.0f} | {found} |"
            lines.append(f"{row} {before} |")
        print(lines[-1], flush=True)
    if args.check:
        before = load()
        r, e = run(args.check), run(args.check, exact=True)
        mine, theirs = set(map(tuple, r["pairs"])), set(map(tuple, e["pairs"]))
        recall = len(mine & theirs) / max(1, len(theirs))
        lines += ["", f"At {args.check:,} images (indexed, {r['orders']} bit orders): {len(mine & theirs)} of the "
                  f"exhaustive search's {len(theirs)} candidate pairs (recall {recall:.2%}), {len(mine - theirs)} "
                  f"others; {r['seconds']:.1f} s against {e['seconds']:.1f} s exhaustive (load before: {before}). Up "
                  f"to {EXACT_MAX:,} images the search is the exhaustive one."]  # fmt: skip
        print(lines[-1], flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
