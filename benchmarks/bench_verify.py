"""Verification scores per alike set: of each planted copy to its original (by kind), and of the distinct pairs the
candidate search hands to verification (the highest ones, and how many reach `--min-score`). What the verification
threshold and method were chosen from: tune on one set (`--sets soft_avenue`), read the others.

    .venv/bin/python benchmarks/bench_verify.py --sets soft_avenue --alike 120 --copies 4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import curation_sets as sets  # noqa: E402

from curation import CurationConfig  # noqa: E402
from curation.decode import DecodeSettings, analyse_file  # noqa: E402
from curation.groups import Matches, candidate_pairs  # noqa: E402
from curation.verify import prepare, scores  # noqa: E402


def _analyse(job: tuple[str, str, str]) -> object:
    path, staging, domain = job
    return analyse_file(domain, path, Path(path).name, DecodeSettings.of(CurationConfig(), staging))


def analysed(raw: Path, workers: int) -> list:
    """The analyses of every file under raw/A and raw/B, in name order."""
    files = sorted(raw.rglob("*.jpg"))
    jobs = [(str(f), str(raw.parent / "staged"), f.parent.name) for f in files]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_analyse, jobs, chunksize=8))


def source(name: str) -> str:
    """The distinct picture a file is (or is a copy of): its name up to the kind."""
    return name.split("_")[0]


def report(label: str, recs: list, cfg: CurationConfig) -> None:
    """Copy scores by kind and the distinct candidates' highest scores, printed."""
    names = [Path(r.relpath).name for r in recs]
    prep = prepare([r.signature for r in recs])
    origin = {source(n): i for i, n in enumerate(names) if n.endswith("_orig.jpg")}
    by_kind: dict[str, list[float]] = {}
    for i, n in enumerate(names):
        if not n.endswith("_orig.jpg"):
            s = float(scores(prep, np.array([[origin[source(n)], i]]))[0])
            by_kind.setdefault(sets.kind_of(n), []).append(s)
    matches = Matches(recs, cfg.min_score)
    _, cand, _ = candidate_pairs(recs, matches, cfg)
    distinct = cand[[source(names[a]) != source(names[b]) for a, b in cand.tolist()]]
    got = scores(prep, distinct)
    top = np.sort(got)[::-1]
    kinds = " ".join(f"{k} {min(v):.2f}" for k, v in by_kind.items() if k in sets.TARGET_KINDS)
    print(f"{label}: {len(recs)} files; copies, lowest score by target kind: {kinds}")
    print(f"{label}: {len(distinct)} distinct candidate pairs, highest {np.round(top[:6], 3).tolist()}, "
          f">= {cfg.min_score}: {int((got >= cfg.min_score).sum())}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="*", default=[*sets.ALIKE, "photos"], choices=[*sets.ALIKE, "photos"])
    ap.add_argument("--alike", type=int, default=120, help="distinct pictures per domain")
    ap.add_argument("--copies", type=int, default=4, help="copies of each kind per domain")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    cfg = CurationConfig()
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        for name in args.sets:
            raw = Path(tmp) / name / "raw"
            jobs = sets.photo_jobs() if name == "photos" else sets.alike_jobs(name, args.alike, args.copies)
            sets.generate(raw, jobs, args.workers)
            report(name, [r for r in analysed(raw, args.workers) if r.ok], cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
