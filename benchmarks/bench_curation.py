"""Curation benchmark: end-to-end `curate` against imagededup's PHash on the same generated files, plus the search.

    .venv/bin/pip install -e '.[bench]'        # imagededup, the baseline
    .venv/bin/python benchmarks/bench_curation.py [--images 2000] [--search 100000] [--workers 2]

Generates --images JPEGs of 512-1024 px (15% of them planted near-duplicates: exact pixel copy, JPEG quality 30,
resized, brightened, 5% crop, EXIF-rotated; a third of those in the other domain), then in the same run:
curate end to end (validate, hash, dedup, resize, write, report), imagededup `PHash().find_duplicates` on the
same files, recall and false pairs of both, a threshold sweep, an incremental rerun, the near-duplicate search
alone over random 64-bit hashes, and peak memory. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from curation import CurationConfig, CurationResult, curate
from curation.decode import DecodeSettings, analyse_file, output_size
from curation.dedup import hex_to_uint64, near_pairs
from curation.hashing import pixel_hash
from curation.outputs import read_manifest

KINDS = ("exact", "q30", "resize", "bright", "crop", "exif")


def scene(seed: int) -> Image.Image:
    """A distinct 512-1024 px picture with photo-like noise (so it costs what a photo costs to decode)."""
    rng = np.random.default_rng(seed)
    w = int(rng.integers(512, 1025))
    h = int(np.clip(w * rng.uniform(0.6, 1.0), 512, 1024))
    w, h = (w, h) if rng.random() < 0.7 else (h, w)
    im = Image.fromarray((rng.random((6, 8, 3)) * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        box = (x0, y0, x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    a = np.asarray(im, dtype=np.int16) + rng.normal(0, 6, (h, w, 1)).astype(np.int16)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _jpeg(im: Image.Image, quality: int = 90, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def variant(im: Image.Image, kind: str) -> bytes:
    """A planted near-duplicate of `im`."""
    if kind == "exact":
        return _jpeg(im, comment=b"same pixels, other bytes")
    if kind == "q30":
        return _jpeg(im, 30)
    if kind == "resize":
        f = 320 / min(im.size)
        return _jpeg(im.resize((round(im.width * f), round(im.height * f)), Image.Resampling.LANCZOS))
    if kind == "bright":
        return _jpeg(Image.fromarray(np.clip(np.asarray(im, np.float32) * 1.25, 0, 255).astype(np.uint8)))
    if kind == "crop":
        dx, dy = im.width // 20, im.height // 20
        return _jpeg(im.crop((dx, dy, im.width - dx, im.height - dy)))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg(im.transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())


def _make(args: tuple[int, str | None, str]) -> list[tuple[str, str, bytes]]:
    """(domain, name, bytes) of one original and, if asked, its planted copy."""
    seed, kind, domain = args
    im = scene(seed)
    out = [(domain, f"s{seed:05d}_orig.jpg", _jpeg(im))]
    if kind:
        other = ("B" if domain == "A" else "A") if seed % 3 == 0 else domain
        out.append((other, f"s{seed:05d}_{kind}.jpg", variant(im, kind)))
    return out


def generate(raw: Path, n: int, workers: int) -> set[frozenset[str]]:
    """n files under raw/A and raw/B; returns the planted pairs as sets of two file names."""
    n_copies = int(n * 0.15)
    jobs = [(s, KINDS[s % len(KINDS)] if s < n_copies else None, "A" if s % 2 else "B") for s in range(n - n_copies)]
    planted = set()
    with ProcessPoolExecutor(workers) as pool:
        for files in pool.map(_make, jobs, chunksize=16):
            for domain, name, data in files:
                (raw / domain).mkdir(parents=True, exist_ok=True)
                (raw / domain / name).write_bytes(data)
            if len(files) == 2:
                planted.add(frozenset(f[1] for f in files))
    return planted


def score(found: set[frozenset[str]], planted: set[frozenset[str]]) -> tuple[float, int]:
    """(recall of planted pairs, number of found pairs that were not planted)."""
    return len(found & planted) / len(planted), len(found - planted)


def by_kind(found: set[frozenset[str]], planted: set[frozenset[str]]) -> str:
    """Recall per kind of planted copy."""
    parts = []
    for k in KINDS:
        mine = {p for p in planted if any(n.endswith(f"_{k}.jpg") for n in p)}
        parts.append(f"{k} {score(found, mine)[0]:.0%}")
    return " ".join(parts)


def ours_pairs(manifest: Path, threshold: int) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """Pairs within `threshold` by our hashes, and pairs sharing a duplicate group, from curate's manifest."""
    rows = [r for r in read_manifest(manifest) if r.phash]
    names = [Path(r.relpath).name for r in rows]
    pairs = near_pairs(hex_to_uint64(r.phash for r in rows), threshold)
    direct = {frozenset((names[i], names[j])) for i, j in pairs}
    groups: dict[str, list[str]] = {}
    for r, name in zip(rows, names, strict=True):
        groups.setdefault(r.group, []).append(name)
    grouped = {frozenset((a, b)) for g in groups.values() for i, a in enumerate(g) for b in g[i + 1 :]}
    return direct, grouped


def imagededup_pairs(raw: Path, threshold: int, workers: int) -> tuple[set[frozenset[str]], float]:
    from imagededup.methods import PHash

    t = time.perf_counter()
    dups = PHash(verbose=False).find_duplicates(
        image_dir=raw, max_distance_threshold=threshold, recursive=True, num_enc_workers=workers,
        num_dist_workers=workers,
    )  # fmt: skip
    seconds = time.perf_counter() - t
    found = {frozenset((Path(a).name, Path(b).name)) for a, bs in dups.items() for b in bs}
    return found, seconds


def fresh_curate(cfg: CurationConfig) -> tuple[CurationResult, float, str]:
    """curate from scratch (earlier outputs, cache and state removed first, untimed): the result, its wall time and
    the wall time of each of its stages."""
    for d in ("curation", "train", "test"):
        shutil.rmtree(cfg.dataset_dir / d, ignore_errors=True)
    marks = [("start", time.perf_counter())]
    res = curate(cfg, progress=lambda stage, done, total: done == total and marks.append((stage, time.perf_counter())))
    marks.append(("manifest, report", time.perf_counter()))
    stages = ", ".join(f"{s} {t - marks[i][1]:.2f}" for i, (s, t) in enumerate(marks[1:]))
    return res, marks[-1][1] - marks[0][1], stages


def per_image_costs(files: list[Path], staging: Path, repeat: int = 3) -> None:
    """What one image costs in each step of curate's decode stage, on one core: the steps of `analyse_file` run in
    sequence, `repeat` times a file, the quickest pass counted; then `analyse_file` itself and imagededup's own
    per-image work (decode at full size, LANCZOS to 32x32, DCT hash), each the quickest of `repeat`."""
    from imagededup.methods import PHash

    from curation.decode import _metrics, _stage

    settings = DecodeSettings.of(CurationConfig(), staging)
    phasher = PHash(verbose=False)
    total: dict[str, float] = {}
    for p in files:
        passes = []
        for _ in range(repeat):
            t = [time.perf_counter()]
            data = _read_hashed(p)
            t.append(time.perf_counter())
            im = Image.open(io.BytesIO(data))
            size = output_size(im.size, settings.load_size)
            im.draft(None, size)
            im.load()
            t.append(time.perf_counter())
            pixel_hash(im)
            t.append(time.perf_counter())
            out = im.resize(size, Image.Resampling.BICUBIC)
            t.append(time.perf_counter())
            _metrics(out)
            t.append(time.perf_counter())
            _stage(out, hashlib.sha256(p.name.encode()).hexdigest(), settings)
            t.append(time.perf_counter())
            passes.append([b - a for a, b in zip(t, t[1:], strict=False)])
        for step, s in zip(_STEPS, min(passes, key=sum), strict=True):
            total[step] = total.get(step, 0.0) + s
        total["= analyse_file, all of it"] = total.get("= analyse_file, all of it", 0.0) + _best(
            lambda p=p: analyse_file("A", str(p), p.name, settings), repeat
        )
        total["imagededup encode_image"] = total.get("imagededup encode_image", 0.0) + _best(
            lambda p=p: phasher.encode_image(image_file=p), repeat
        )
    n = len(files)
    for step, s in total.items():
        print(f"  per image, one core: {step:<32} {1000 * s / n:5.2f} ms")
    floor = total["decode whole stream (draft)"] + total["resize to 286, bicubic"]
    bound = total["imagededup encode_image"] / floor
    print(f"  decode + resize alone take {1000 * floor / n:.2f} ms: curate's decode stage can be at most {bound:.1f}x "
          "faster than imagededup's per-image work, even if everything else were free")  # fmt: skip


_STEPS = (
    "read + sha256 of the file",
    "decode whole stream (draft)",
    "pixel hash (sha256 of decoded)",
    "resize to 286, bicubic",
    "metrics + phash (64 px)",
    "encode q95 4:4:4 + write",
)


def _best(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return min(runs)


def _read_hashed(path: Path) -> bytes:
    data = path.read_bytes()
    hashlib.sha256(data).hexdigest()
    return data


def homogeneous(root: Path, workers: int, n: int = 150) -> None:
    """False merges where distinct pictures share one composition: procedural streets (sakura.synthetic)."""
    from curation.groups import decide
    from curation.records import Status
    from curation.state import CurationState
    from sakura.synthetic import write_scenes

    for d in ("A", "B"):
        write_scenes(root / "raw" / d, d, n)
    cfg = CurationConfig(root=root, workers=workers)
    curate(cfg)
    with CurationState(root / "curation" / "state.sqlite") as st:
        recs = [r for _, _, r in st.all_cached(cfg.decode_key).values()]
    for th in (4, 6, 8, 10, 12):
        rows = decide(recs, CurationConfig(root=root, threshold=th), set(), {})
        kept = {d: sum(r.status is Status.KEPT and r.domain == d for r in rows) for d in ("A", "B")}
        print(f"homogeneous set ({n} distinct street scenes per domain), threshold {th:>2}: kept A {kept['A']}, "
              f"B {kept['B']} (every drop is a false match)")  # fmt: skip


def metadata_memory(root: Path, cfg: CurationConfig) -> None:
    """Traced peak of deciding (rules, search, groups, split) over half and all records: grows per image by the
    record itself, not by pairs."""
    from curation.groups import decide
    from curation.state import CurationState

    with CurationState(root / "curation" / "state.sqlite") as st:
        recs = [r for _, _, r in st.all_cached(cfg.decode_key).values()]
    for part in (recs[: len(recs) // 2], recs):
        tracemalloc.start()
        decide(part, cfg, set(), {})
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        mib, per = peak / 2**20, peak / len(part)
        print(f"decide over {len(part):>5} records: traced peak {mib:5.1f} MiB ({per:.0f} B per image)")


def bench_search(n: int) -> None:
    rng = np.random.default_rng(0)
    h = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n, dtype=np.uint64)
    for threads in (1, 2):
        t = time.perf_counter()
        pairs = near_pairs(h, 10, threads=threads)
        print(f"search {n:,} random hashes, threshold 10, {threads} thread(s): {time.perf_counter() - t:.1f} s "
              f"({len(pairs)} pairs)")  # fmt: skip
    from imagededup.methods import PHash

    m = min(n, 5000)
    encodings = {f"{i}.jpg": f"{int(x):016x}" for i, x in enumerate(h[:m])}
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "num_enc_workers has no effect": no encoding here
        PHash(verbose=False).find_duplicates(encoding_map=encodings, max_distance_threshold=10)
    theirs = time.perf_counter() - t
    t = time.perf_counter()
    near_pairs(h[:m], 10)
    print(f"search {m:,} hashes: imagededup {theirs:.2f} s, ours {time.perf_counter() - t:.3f} s")
    for m in (n // 4, n // 2, n):
        tracemalloc.start()
        near_pairs(h[:m], 10, threads=2)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"search peak memory at {m:>7,} hashes: {peak / 2**20:6.1f} MiB (hash array {h[:m].nbytes / 2**20:.1f} MiB)"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--search", type=int, default=100_000, help="random hashes for the search-only figure")
    ap.add_argument("--workers", type=int, default=2, help="processes for curate and for imagededup alike")
    ap.add_argument("--rounds", type=int, default=2, help="fresh runs of each side, alternating which goes first")
    ap.add_argument("--sample", type=int, default=100, help="files timed step by step for the per-image costs")
    ap.add_argument("--threshold", type=int, default=CurationConfig().threshold)
    ap.add_argument("--keep", action="store_true", help="keep the generated dataset")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)  # imagededup logs every file
    root = Path(tempfile.mkdtemp(prefix="bench-curation-"))
    try:
        run(root, args)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def run(root: Path, args: argparse.Namespace) -> None:
    t = time.perf_counter()
    planted = generate(root / "raw", args.images, args.workers)
    files = sorted((root / "raw").rglob("*.jpg"))
    print(
        f"generated {len(files)} JPEGs (512-1024 px, {len(planted)} planted pairs) in {time.perf_counter() - t:.0f} s"
    )
    for p in files:
        p.read_bytes()  # both sides start from a warm page cache
    cfg = CurationConfig(root=root, workers=args.workers, threshold=args.threshold)
    ours_s, their_s, rss = [], [], ""
    for r in range(args.rounds):  # alternate which side goes first: the machine's load drifts
        for side in ("curate", "imagededup") if r % 2 == 0 else ("imagededup", "curate"):
            if side == "curate":
                res, seconds, stages = fresh_curate(cfg)
                ours_s.append(seconds)
                c = res.counts
                print(f"round {r + 1}: curate end to end ({args.workers} workers): {ours_s[-1]:.2f} s ({stages}); "
                      f"kept A {c['A']['kept']} B {c['B']['kept']}")  # fmt: skip
                if not rss:
                    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                    rss = f"peak RSS main {self_mb:.0f} MiB, largest worker {child_mb:.0f} MiB"
            else:
                theirs, s = imagededup_pairs(root / "raw", args.threshold, args.workers)
                their_s.append(s)
                print(f"round {r + 1}: imagededup PHash().find_duplicates ({args.workers} encode and distance "
                      f"workers): {s:.2f} s")  # fmt: skip
        print(f"round {r + 1}: curate is {their_s[-1] / ours_s[-1]:.2f}x faster end to end (load average "
              f"{os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"curate {statistics.median(ours_s):.2f} s, imagededup {statistics.median(their_s):.2f} s (medians of "
          f"{args.rounds} rounds): {statistics.median(their_s) / statistics.median(ours_s):.2f}x, and curate also "
          f"validates, resizes, splits and writes the dataset; {rss}")  # fmt: skip
    sample = files[:: max(1, len(files) // args.sample)]
    per_image_costs(sample, root / "per-image-staging")
    metadata_memory(root, cfg)
    direct, grouped = ours_pairs(res.manifest, args.threshold)
    for label, found in (("ours pairs", direct), ("ours groups", grouped), ("imagededup", theirs)):
        recall, false = score(found, planted)
        print(f"threshold {args.threshold:>2} {label:<12} recall {recall:6.1%}  false pairs {false}   by kind: "
              f"{by_kind(found, planted)}")  # fmt: skip
    if args.threshold != 10:
        theirs10, s10 = imagededup_pairs(root / "raw", 10, args.workers)
        r10, f10 = score(theirs10, planted)
        print(f"imagededup at its default threshold 10: {s10:.2f} s, recall {r10:.1%}, false pairs {f10}")
    for th in (4, 6, 8, 10, 12, 14, 16):
        found = ours_pairs(res.manifest, th)[0]
        recall, false = score(found, planted)
        kinds = by_kind(found, planted)
        print(f"sweep threshold {th:>2}: recall {recall:6.1%}  false pairs {false:>4}   by kind: {kinds}")
    homogeneous(root / "streets", args.workers)
    t = time.perf_counter()
    again = curate(cfg)
    rerun = time.perf_counter() - t
    theirs_median = statistics.median(their_s)
    print(f"rerun, nothing new: {rerun:.2f} s ({again.analysed} decoded, {again.cached} cached), "
          f"{theirs_median / rerun:.0f}x faster than imagededup, which has no cache")  # fmt: skip
    bench_search(args.search)


if __name__ == "__main__":
    sys.exit(main())
