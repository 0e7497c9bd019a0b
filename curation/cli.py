"""`sakura curate`: curate a dataset's raw images into train/test folders, with progress bars."""

from __future__ import annotations

import argparse

from tqdm import tqdm

from core.config import ConfigError, load_domains
from core.settings import add_arguments, add_domains_argument, from_args
from curation.config import CurationConfig
from curation.pipeline import CurationResult, curate


def configure(p: argparse.ArgumentParser) -> None:
    """The `curate` command's flags: one per CurationConfig setting."""
    add_domains_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_arguments(p.add_argument_group("settings"), CurationConfig)
    p.set_defaults(func=run)


COMMANDS = {"curate": configure}


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
    if result.problems:
        lines.append("  files that could not be decoded, by reason (each file's detail: the manifest's detail column):")
        lines.extend(f"    {line}" for line in problem_lines(result.problems))
    lines.append(f"  manifest: {result.manifest}")
    lines.append(f"  report:   {result.report}  (contact sheets in {result.report.parent / 'sheets'})")
    lines.extend(f"  warning: {w}" for w in result.warnings)
    return "\n".join(lines)


def problem_lines(problems: dict[str, dict]) -> list[str]:
    """One line per reason files could not be decoded: how many, and the most frequent kinds with one file each."""
    width = max(map(len, problems))
    out = []
    for reason, p in problems.items():
        kinds = "; ".join(f"{k['detail']} ({k['count']}, e.g. {k['raw_path']})" for k in p["kinds"])
        line = f"{reason:<{width}} {p['count']:>5}  {kinds}"
        out.append(line if len(line) <= _LINE else line[: _LINE - 3] + "...")
    return out


_LINE = 240


def run(args: argparse.Namespace) -> int:
    """Handler of `sakura curate`."""
    named = getattr(args, "dataset", None) or getattr(args, "dataset_dir", None)
    cfg = from_args(CurationConfig, args, dataset=None if named else load_domains(args.domains).name)
    bars = None if args.no_progress else _Bars()
    try:
        result = curate(cfg, progress=bars)
    except OSError as e:  # the dataset folder itself (not a raw file: those are reported per file)
        why = f"{type(e).__name__}: {e}"
        raise ConfigError(f"dataset {cfg.data_dir()}: {why} (is it writable? is the disk full?)") from e
    finally:
        if bars is not None:
            bars.close()
    print(summary(result))
    return 0
