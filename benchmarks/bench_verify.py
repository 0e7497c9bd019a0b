"""Verification benchmark (issue 21): on sets of alike but distinct street photos, how many distinct scenes curate
loses or keeps twice and how many planted copies it groups with their original, per set and per copy kind, with
imagededup's PHash side by side; and curate's speed on varied JPEGs against the code before, in one run.

    .venv/bin/pip install -e '.[bench]'        # imagededup, the baseline (optional: its rows are left out without it)
    git archive 3f61831 | (mkdir -p /tmp/before && tar -x -C /tmp/before)   # the curation code before issue 21
    .venv/bin/python benchmarks/bench_verify.py [--per-domain 120] [--copies 40] [--before /tmp/before --images 2000]

Sets: `hazy` (verification was tuned on it), `textured`, `telephoto`, `rainy`, `dotted`, `glare`, `night` (all
from tests/support/curation_alike.py; glare and night unseen by every design decision, the others first run by an
earlier design: `FIRST_RUN_BY`), `streets`
(tests/support/curation_streets.py), `synthetic` (sakura.synthetic) and `real` (the colour photos scikit-image
ships, the stereo pair motorcycle_left / motorcycle_right among them, each with a copy of every kind); all but `hazy`
held out. Each generated set: --per-domain distinct scenes in A and in B, the first --copies of each domain with one
copy each (hflip, crop10, resize75, q30, bright in turn). A scene is lost when none of its files is kept, kept twice
when more than one is. curate runs at its default settings (with --before, the code before too). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docs_output  # noqa: E402

from sakura.synthetic import street_scene  # noqa: E402
from tests.support import curation_alike as ca  # noqa: E402
from tests.support import curation_streets as cs  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
MAKERS = {**ca.GENERATORS, "streets": cs.street, "synthetic": street_scene}
SETS = (*MAKERS, "real")


def write(name: str, raw: Path, per_domain: int, copies: int) -> dict[str, str]:
    """The set's raw files; {file name: scene}."""
    if name == "real":
        return ca.write_real(raw)
    return ca.write_set(raw, MAKERS[name], per_domain, copies)


def curate_rows(code: Path, root: Path, workers: int) -> tuple[list[tuple[str, str, str]], float]:
    """(file name, status, group) of every file after a fresh curate, at the default settings, of the curation code
    under `code` (in a process of its own), and its seconds."""
    import bench_curation as bc

    from curation.outputs import read_manifest

    seconds = bc.run_curate(code, root, workers)["seconds"]
    rows = read_manifest(root / "curation" / "manifest.csv")
    return [(Path(r.relpath).name, r.status, r.group) for r in rows], seconds


def imagededup_rows(raw: Path, workers: int) -> list[tuple[str, str, str]] | None:
    """The same rows from imagededup's PHash at its default threshold (10): kept unless find_duplicates_to_remove
    names it, grouped by the connected components of find_duplicates; None when imagededup is not installed."""
    try:
        from imagededup.methods import PHash
    except ImportError:
        return None
    from curation.dedup import group_duplicates

    ph = PHash(verbose=False)
    enc = ph.encode_images(image_dir=raw, recursive=True, num_enc_workers=workers)
    dups = ph.find_duplicates(encoding_map=enc, max_distance_threshold=10)
    removed = {Path(f).name for f in ph.find_duplicates_to_remove(encoding_map=enc, max_distance_threshold=10)}
    names = sorted(enc)
    at = {n: i for i, n in enumerate(names)}
    groups = group_duplicates(len(names), [(at[a], at[b]) for a, bs in dups.items() for b in bs])
    group_of = {names[i]: f"g{g[0]}" for g in groups if len(g) > 1 for i in g}
    return [(Path(n).name, "duplicate" if Path(n).name in removed else "kept", group_of.get(n, "")) for n in names]


def _cells(out: dict) -> list[str]:
    grouped = [f"{a}/{n}" for a, n in out["grouped"].values()]
    return [str(len(out["lost"])), str(len(out["twice"])), *grouped]


def table(per_domain: int, copies: int, workers: int, base: Path, before: Path | None) -> None:
    """One row per set and tool: scenes, lost, kept twice, copies grouped per kind."""
    head = ["set", "held out", "tool", "files", "scenes", "lost", "twice", *ca.COPY_KINDS, "curate s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    totals: dict[str, list[int]] = {}
    for name in SETS:
        raw = base / name / "raw"
        scenes = write(name, raw, per_domain, copies)
        runs = [("curate (before)", *curate_rows(before, base / name, workers))] if before else []
        runs.append(("curate", *curate_rows(HERE, base / name, workers)))
        runs.append(("imagededup", imagededup_rows(raw, workers), 0.0))
        first = ca.FIRST_RUN_BY.get(name, 1)
        held = "tuned on" if name == ca.TUNED_ON else "unseen" if name in ca.UNSEEN else f"seen by design {first}"
        for tool, got, seconds in runs:
            if got is None:
                continue
            out = ca.outcome(got, scenes)
            t = totals.setdefault(tool, [0, 0, 0, 0])
            t[0] += len(out["lost"])
            t[1] += len(out["twice"])
            t[2] += sum(a for a, _ in out["grouped"].values())
            t[3] += sum(n for _, n in out["grouped"].values())
            secs = f"{seconds:.1f}" if seconds else ""
            print(f"| {name} | {held} | {tool} | {len(scenes)} | {out['scenes']} | " + " | ".join(_cells(out))
                  + f" | {secs} |", flush=True)  # fmt: skip
            if tool == "curate" and (out["lost"] or out["twice"] or out["rejected"]):
                print(f"|   | | lost: {' '.join(out['lost'][:8])} twice: {' '.join(out['twice'][:8])}; copies "
                      f"rejected by a rule (too small, no colour left): {out['rejected']} |")  # fmt: skip
    for tool, (lost, twice, hit, n) in totals.items():
        print(f"all sets, {tool}: {lost} lost, {twice} kept twice, copies grouped {hit}/{n} ({hit / max(1, n):.1%})")


def speed(before: Path, images: int, workers: int, rounds: int, base: Path) -> None:
    """Fresh curate of `images` varied JPEGs (15% planted copies of every kind), this code and the code under
    `before` alternating, each in a process of its own; medians and their ratio."""
    import bench_curation as bc
    import curation_sets as sets

    root = base / "varied"
    sets.generate(root / "raw", sets.varied_jobs(images), workers)
    for p in (root / "raw").rglob("*.jpg"):
        p.read_bytes()  # a warm page cache for both sides
    times: dict[str, list[float]] = {"after": [], "before": []}
    for r in range(rounds):
        for side in ("after", "before") if r % 2 == 0 else ("before", "after"):
            out = bc.run_curate(HERE if side == "after" else before, root, workers)
            times[side].append(out["seconds"])
            print(f"round {r + 1}: {side:<6} {out['seconds']:6.2f} s (CPU {out['cpu']:.2f} s)", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"curate on {images} varied JPEGs, {workers} processes, medians of {rounds}: after {med['after']:.2f} s, "
          f"before {med['before']:.2f} s; speed after / before {med['before'] / med['after']:.2f} (>= 1: as fast or "
          f"faster)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-domain", type=int, default=120, help="distinct scenes per domain in each generated set")
    ap.add_argument("--copies", type=int, default=40, help="scenes per domain with a planted copy")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--before", type=Path, help="a checkout of the code before, for the speed comparison")
    ap.add_argument("--images", type=int, default=2000, help="varied JPEGs for the speed comparison")
    ap.add_argument("--rounds", type=int, default=3, help="fresh runs of each side in the speed comparison")
    ap.add_argument("--skip-table", action="store_true")
    docs_output.add_argument(ap)
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)  # imagededup logs every file
    base = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    try:
        if not args.skip_table:
            table(args.per_domain, args.copies, args.workers, base, args.before)
        if args.before:
            speed(args.before, args.images, args.workers, args.rounds, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(docs_output.run(main, __file__))
