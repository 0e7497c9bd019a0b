"""`sakura curate`: curate a dataset's raw images into train/test folders, with progress bars."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from curation.config import ANIMATED_POLICIES, CROSS_DOMAIN_POLICIES, OUTPUT_FORMATS, RESAMPLE_FILTERS, CurationConfig
from curation.pipeline import CurationResult, curate
from sakura.config import load_domains
from sakura.paths import default_domains_file

_D = CurationConfig()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `curate` subcommand."""
    p = subparsers.add_parser("curate", help="validate, deduplicate, resize and split raw images into train/test")
    p.add_argument("--domains", default=default_domains_file(), help="domains file naming the dataset (%(default)s)")
    p.add_argument("--dataset", help="dataset name under the data root (default: the name in the domains file)")
    p.add_argument("--root", type=Path, help="dataset folder to use instead of <data root>/<name>")
    p.add_argument("--workers", type=int, default=_D.workers, help="decoding processes (0 = one per CPU, max 8)")
    p.add_argument("--threshold", type=int, default=_D.threshold, help="near-duplicate phash distance (%(default)s)")
    p.add_argument("--min-side", type=int, default=_D.min_side, help="reject a shorter side below (%(default)s)")
    p.add_argument("--max-aspect", type=float, default=_D.max_aspect, help="reject long/short above (%(default)s)")
    p.add_argument("--max-pixels", type=int, default=_D.max_pixels, help="decompression-bomb limit (%(default)s)")
    p.add_argument("--min-std", type=float, default=_D.min_std, help="near-uniform below this grey std (%(default)s)")
    p.add_argument("--keep-grayscale", action="store_true", help="keep grayscale images (rejected by default)")
    p.add_argument("--animated", choices=ANIMATED_POLICIES, default=_D.animated, help="(default: %(default)s)")
    p.add_argument(
        "--cross-domain",
        choices=CROSS_DOMAIN_POLICIES,
        default=_D.cross_domain,
        help="an image in both A and B: drop it from both, or keep it in A or B (default: %(default)s)",
    )
    p.add_argument("--load-size", type=int, default=_D.load_size, help="output shorter side (%(default)s)")
    p.add_argument(
        "--resample",
        choices=RESAMPLE_FILTERS,
        default=_D.resample,
        help="resize filter (default: %(default)s, as CycleGAN's own loader)",
    )
    p.add_argument("--format", dest="output_format", choices=OUTPUT_FORMATS, default=_D.output_format)
    p.add_argument("--quality", type=int, default=_D.jpeg_quality, help="JPEG quality (%(default)s)")
    p.add_argument("--official-layout", action="store_true", help="also write trainA/trainB/testA/testB")
    p.add_argument("--test-fraction", type=float, default=_D.test_fraction, help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=_D.seed, help="split seed (%(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> CurationConfig:
    """The CurationConfig the command line asks for (ConfigError on a bad value)."""
    dataset = args.dataset or (load_domains(args.domains).name if args.root is None else _D.dataset)
    return CurationConfig(
        dataset=dataset, root=args.root, workers=args.workers, threshold=args.threshold, min_side=args.min_side,
        max_aspect=args.max_aspect, max_pixels=args.max_pixels, min_std=args.min_std,
        reject_grayscale=not args.keep_grayscale, animated=args.animated, cross_domain=args.cross_domain,
        load_size=args.load_size, resample=args.resample, output_format=args.output_format, jpeg_quality=args.quality,
        official_layout=args.official_layout, test_fraction=args.test_fraction, seed=args.seed,
    )  # fmt: skip


class _Bars:
    """A progress callback that shows one tqdm bar per stage."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=f"curate: {stage}", unit="img" if stage == "decode" else "it")
        assert self.bar is not None
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def summary(result: CurationResult) -> str:
    """A few lines for the terminal: per domain kept / train / test / rejected / duplicates and where to look."""
    lines = [f"curated {result.dataset_dir} in {result.seconds:.1f} s "
             f"({result.analysed} decoded, {result.cached} from cache)"]  # fmt: skip
    for d, c in result.counts.items():
        rejected = ", ".join(f"{k} {v}" for k, v in c["rejected"].items() if v) or "none"
        dups = ", ".join(f"{k} {v}" for k, v in c["duplicates"].items() if v) or "none"
        lines.append(f"  {d}: {c['raw']} raw -> {c['kept']} kept ({c['train']} train, {c['test']} test); "
                     f"rejected: {rejected}; duplicates: {dups}")  # fmt: skip
    lines.append(f"  manifest: {result.manifest}")
    lines.append(f"  report:   {result.report}  (contact sheets in {result.report.parent / 'sheets'})")
    lines.extend(f"  warning: {w}" for w in result.warnings)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of `sakura curate`."""
    cfg = config_from_args(args)
    bars = None if args.no_progress else _Bars()
    try:
        result = curate(cfg, progress=bars)
    finally:
        if bars is not None:
            bars.close()
    print(summary(result))
    return 0
