"""curate(): raw files -> analysed (in parallel, cached) -> judged -> deduplicated -> split -> written; and the same
analysis as batches run by a caller's executor (`analyse` with `analyse_batch`: the Prefect flow's tasks)."""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.config import DOMAIN_KEYS, SPLITS, TRAIN, ConfigError
from core.items import ItemFailure, isolate
from curation.config import CurationConfig
from curation.decode import DecodeSettings, analyse_file
from curation.groups import decide, decision_key, history_key
from curation.layout import DatasetLayout, RawFile
from curation.outputs import write_manifest, write_outputs
from curation.policy import Verdicts
from curation.records import RETRIED_REASONS, Analysis, Decision, Reason, Status
from curation.report import build_report, problems, shortfall_warnings
from curation.sources import Provenance, read_excluded
from curation.state import CurationState
from curation.workers import Lost, captured_stderr, process_map

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
_STORE_EVERY = 256


@dataclass(frozen=True)
class CurationResult:
    """What one run did: counts per domain (as in report.json), where its files are, and how much was new."""

    dataset_dir: Path
    counts: dict[str, dict[str, Any]]
    manifest: Path
    report: Path
    sheets: dict[str, list[Path]]
    analysed: int
    cached: int
    seconds: float
    warnings: tuple[str, ...] = field(default_factory=tuple)
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)  # decode failures by reason (report.json)

    def kept(self, domain: str) -> int:
        """Images of `domain` in the dataset (train + test)."""
        return self.counts[domain]["kept"]


@dataclass(frozen=True)
class Batch:
    """Raw files to analyse together (one task of the flow): (domain, absolute path, path under raw/) each, and what
    decoding needs."""

    files: tuple[tuple[str, str, str], ...]
    settings: DecodeSettings
    timeout: float


def _layout(cfg: CurationConfig) -> DatasetLayout:
    layout = DatasetLayout(cfg.data_dir())
    if not any(d.is_dir() for d in layout.raw.domain_dirs()):
        raise ConfigError(f"dataset: no raw images at {layout.raw.root}/A or /B; scrape or import images first")
    return layout


def pending(cfg: CurationConfig) -> list[RawFile]:
    """The raw files whose analysis the cache cannot give: new, changed, or their staged copy gone. (Files whose
    cached analysis failed for a reason that may go away are not among them: `curate` decodes those again itself.)"""
    layout = _layout(cfg)
    files = layout.raw_files()
    with CurationState(layout.state) as state:
        cached = state.all_cached(cfg.decode_key)
    return [f for f in files if _from_cache(f, cached, layout.staged, retry=False) is None]


def batches(cfg: CurationConfig, files: list[RawFile], parallel: int) -> list[Batch]:
    """`files` cut into batches for `parallel` workers: about two batches each, 32 to 512 files a batch."""
    if not files:
        return []
    size = max(32, min(512, math.ceil(len(files) / (2 * max(1, parallel)))))
    settings = DecodeSettings.of(cfg, _layout(cfg).staged)
    return [
        Batch(tuple((f.domain, str(f.path), f.relpath) for f in files[i : i + size]), settings, cfg.decode_timeout)
        for i in range(0, len(files), size)
    ]


def analyse_batch(batch: Batch, workers: int = 1) -> list[Analysis]:
    """The analyses of a batch's files, in its order, each decoded in one of `workers` processes (at least one: a file
    that crashes or hangs its decoder costs only itself). Writes only the staged copies."""
    found = dict(_decode_all(list(enumerate(batch.files)), batch.settings, workers, batch.timeout))
    return [found[i] for i in range(len(batch.files))]


BatchMap = Callable[[list[Batch]], Iterable[list[Analysis]]]  # runs batches somewhere; yields each one's analyses


def analyse(cfg: CurationConfig, map_batches: BatchMap, parallel: int | None = None) -> int:
    """Analyse the raw files the cache cannot answer for (new or changed) as batches for `parallel` workers (default
    `cfg.n_workers`), which `map_batches` runs wherever it runs them (threads, Dask workers: each calls
    `analyse_batch`) and hands back as they finish; each batch is stored as it comes, where `curate` finds it.
    Returns how many files were analysed (`curate`'s `analysed`)."""
    done = 0
    for analyses in map_batches(batches(cfg, pending(cfg), parallel or cfg.n_workers)):
        store(cfg, analyses)
        done += len(analyses)
    return done


def store(cfg: CurationConfig, analyses: Iterable[Analysis]) -> None:
    """Keep analyses (from `analyse_batch`) in the dataset's state, where `curate` finds them."""
    with CurationState(_layout(cfg).state) as state:
        state.store(list(analyses), cfg.decode_key)


def curate(cfg: CurationConfig, progress: Progress | None = None, analysed: int = 0) -> CurationResult:
    """Curate `cfg.data_dir()`/raw into {train,test}/{A,B}/ plus the manifest, report and contact sheets.

    Only raw files that are new or changed since the last run are decoded (those `store`d meanwhile count as decoded:
    `analysed` says how many); an image never changes split.
    """
    t0 = time.perf_counter()
    ds = cfg.data_dir()
    layout = _layout(cfg)
    staging = layout.staged
    files = layout.raw_files()
    with CurationState(layout.state) as state:
        recs, n_new = _analyse(files, cfg, staging, state, progress)
        n_new = min(len(files), n_new + analysed)
        _remove_staged(staging, state.prune({(f.domain, f.relpath) for f in files}), recs)
        rows = _decided(recs, cfg, read_excluded(layout.excluded), staging, state)
    provenance = Provenance(layout.raw)
    rows = [replace(r, **provenance.lookup(r.domain, r.relpath, r.sha256)) for r in rows]
    rows, _ = write_outputs(ds, staging, rows, cfg, progress)
    manifest = write_manifest(layout.manifest, rows)
    found = problems(rows)
    warnings = (provenance.warning, *_split_warnings(rows, cfg), *shortfall_warnings(rows, found))
    warnings = tuple(w for w in warnings if w)
    for w in warnings:
        log.warning("curate %s: %s", ds, w)
    report, counts, sheets = build_report(layout, rows, cfg, n_new, len(files) - n_new, warnings, progress, found)
    seconds = round(time.perf_counter() - t0, 3)
    return CurationResult(ds, counts, manifest, report, sheets, n_new, len(files) - n_new, seconds, warnings, found)


def _decided(
    recs: list[Analysis], cfg: CurationConfig, excluded: set[str], staging: Path, state: CurationState
) -> list[Decision]:
    """`decide`'s decisions, stored by what they were decided from: read back when nothing of that changed (a rerun
    with nothing new decides nothing), else decided, with the verdicts of the pairs verified and the splits stored."""
    history = state.split_history()
    inputs = decision_key(recs, cfg, excluded)
    rows = state.decisions(inputs, history_key(history, recs))
    if rows is not None:
        return rows
    verdicts = Verdicts(state.verdicts(cfg.verdict_key))
    rows = decide(recs, cfg, excluded, history, staging, verdicts)
    state.store_verdicts(verdicts.new, cfg.verdict_key)
    state.record_splits({(r.domain, r.sha256): r.split for r in rows if r.split})
    state.store_decisions(inputs, history_key(state.split_history(), recs), rows)
    return rows


def _split_warnings(rows: list[Decision], cfg: CurationConfig) -> list[str]:
    """A warning per domain whose kept images all landed in one split (small sets: the split is per group)."""
    out = []
    for d in DOMAIN_KEYS:
        splits = [r.split for r in rows if r.domain == d and r.status is Status.KEPT]
        for empty in SPLITS:
            if splits and empty not in splits and (empty == TRAIN or cfg.test_fraction > 0):
                out.append(f"{d}: no {empty} images among {len(splits)} kept (test_fraction {cfg.test_fraction}); "
                           "add images or change --test-fraction / --seed")  # fmt: skip
    return out


def _remove_staged(staging: Path, gone: list[Analysis], current: list[Analysis]) -> None:
    """Delete the staged copies of raw files that are gone, unless a present file shares them."""
    in_use = {r.staged for r in current}
    for rec in gone:
        if rec.staged and rec.staged not in in_use:
            (staging / rec.staged).unlink(missing_ok=True)
    if (staging / "thumbs").is_dir():  # per-image sheet thumbnails of decode_key v1; sheets now read staged copies
        shutil.rmtree(staging / "thumbs")


def _from_cache(f: RawFile, cached: dict, staging: Path, retry: bool = True) -> Analysis | None:
    """The cached analysis of `f` if it still holds: same size and time, its staged copy there, and (with `retry`)
    not a failure that may go away."""
    hit = cached.get((f.domain, f.relpath))
    if hit is None or hit[:2] != (f.size, f.mtime_ns) or (retry and hit[2].reason in RETRIED_REASONS):
        return None
    if hit[2].staged and not (staging / hit[2].staged).is_file():
        return None
    return hit[2]


def _analyse(
    files: list[RawFile], cfg: CurationConfig, staging: Path, state: CurationState, progress: Progress | None
) -> tuple[list[Analysis], int]:
    """Analyses of every raw file, in `files` order: cached when unchanged, else decoded now."""
    cached = state.all_cached(cfg.decode_key)
    recs = [_from_cache(f, cached, staging) for f in files]
    todo = [(i, (f.domain, str(f.path), f.relpath)) for i, f in enumerate(files) if recs[i] is None]
    settings = DecodeSettings.of(cfg, staging)
    batch: list[Analysis] = []
    for n, (i, rec) in enumerate(_decode_all(todo, settings, cfg.n_workers, cfg.decode_timeout), start=1):
        recs[i] = rec
        batch.append(rec)
        if len(batch) >= _STORE_EVERY:
            state.store(batch, cfg.decode_key)
            batch = []
        if progress is not None:
            progress("decode", n, len(todo))
    state.store(batch, cfg.decode_key)
    return [r for r in recs if r is not None], len(todo)


def _decode_one(args: tuple[int, str, str, str, DecodeSettings]) -> tuple[int, Analysis]:
    """One file's analysis, in a worker process: whatever it raises becomes its reason (decode_error when nothing
    more precise is known); what C libraries print meanwhile is kept in the detail of a failure, not shown."""
    i, domain, path, relpath, settings = args
    with captured_stderr() as printed:
        rec = isolate(analyse_file, domain, path, relpath, settings)
    if isinstance(rec, ItemFailure):
        rec = _unanalysed(domain, path, relpath, Reason.DECODE_ERROR, f"unexpected {rec}")
    if not rec.ok and (text := printed()):
        rec = replace(rec, detail=f"{rec.detail} (printed: {text})"[:300])
    return i, rec


def _lost(args: tuple[int, str, str, str, DecodeSettings], lost: Lost) -> tuple[int, Analysis]:
    """The analysis of a file whose worker process died or hung on it."""
    i, domain, path, relpath, _ = args
    return i, _unanalysed(domain, path, relpath, Reason.DECODE_TIMEOUT if lost.timed_out else Reason.DECODER_CRASHED,
                          lost.why)  # fmt: skip


def _unanalysed(domain: str, path: str, relpath: str, reason: Reason, detail: str) -> Analysis:
    """A failed analysis with the file's id and size (read again here; decoding is what failed, not reading)."""
    rec = Analysis(domain=domain, relpath=relpath, ok=False, reason=reason, detail=detail[:300])
    try:
        st = Path(path).stat()
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    except OSError:
        return rec
    return replace(rec, sha256=h.hexdigest(), bytes=st.st_size, mtime_ns=st.st_mtime_ns)


def _decode_all(
    todo: list[tuple[int, tuple[str, str, str]]], settings: DecodeSettings, workers: int, timeout: float
) -> Iterator[tuple[int, Analysis]]:
    """(index, analysis) for every (index, (domain, path, relpath)) to decode, as they finish, in `workers` processes
    (at least one: a file that crashes or hangs its decoder costs only itself). The one per-file loop of curation."""
    args = [(i, domain, path, relpath, settings) for i, (domain, path, relpath) in todo]
    yield from process_map(_decode_one, args, workers, timeout=timeout, on_lost=_lost, ordered=False)
