"""Property tests for curation on input nobody wrote by hand: valid images in odd modes and formats, mutated in
every way (cut anywhere, bytes flipped, huge declared sizes, wrong extensions, garbage around them), get a reason a
person would agree with and never raise; curate writes one manifest row per raw file, whatever the folder holds."""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import EpsImagePlugin, Image

from curation import CurationConfig, curate
from curation.decode import DecodeSettings
from curation.pipeline import _decode_one
from curation.records import DECODE_REASONS, Analysis, Reason, Status
from tests.support import curation_hostile as ch

LOAD_SIZE = 286
_SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
# Formats whose signature is distinctive enough that a cut file is always told truncated (TGA and PCX have none to
# speak of; EPS and PDF are not decoded here at all)
_CUT_IS_TRUNCATED = sorted(set(ch.VALID) - {"tga", "pcx", "eps", "pdf"})
_NOT_DECODED_HERE = {"pdf": Reason.UNSUPPORTED_FORMAT}
if not EpsImagePlugin.has_ghostscript():
    _NOT_DECODED_HERE["eps"] = Reason.DECODER_UNAVAILABLE


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def _make(kind: str, rng: random.Random) -> tuple[bytes, str]:
    """A valid file of `kind` (some writers refuse some sizes: then another draw)."""
    for _ in range(20):
        try:
            return ch.VALID[kind](rng)
        except (ValueError, OSError):
            continue
    pytest.skip(f"{kind}: no size this writer accepts was drawn")


def _analyse(work: Path, data: bytes, ext: str) -> Analysis:
    """What a decode worker makes of these bytes (stderr of C libraries kept in the detail, not shown)."""
    path = work / "raw" / (f"file.{ext}" if ext else "file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    settings_ = DecodeSettings.of(CurationConfig(load_size=LOAD_SIZE), work / "staged")
    _, rec = _decode_one((0, "A", str(path), "A/file", settings_))
    return rec


def _check(rec: Analysis, work: Path) -> None:
    """Every analysis: decoded and staged at the load size, or failed with a decode reason and a detail."""
    if rec.ok:
        assert rec.width > 0 and rec.height > 0 and len(rec.phash) == 16
        with Image.open(work / "staged" / rec.staged) as out:
            out.load()
            assert out.mode == "RGB" and min(out.size) == LOAD_SIZE
    else:
        assert rec.reason in DECODE_REASONS or rec.reason is Reason.ASPECT_RATIO, rec
        assert rec.reason is not Reason.DECODE_ERROR, rec.detail  # unexpected: a case curation.diagnose misses
        assert rec.detail


@settings(max_examples=250, **_SETTINGS)
@given(
    kind=st.sampled_from(sorted(ch.VALID)),
    mutation=st.sampled_from(sorted(ch.MUTATIONS)),
    rng=st.randoms(use_true_random=False),
    ext=st.sampled_from([None, *ch.WRONG_EXTENSIONS]),
)
def test_any_mutation_of_any_image_gets_a_reason_and_never_raises(work, kind, mutation, rng, ext):
    data, right = _make(kind, rng)
    data = ch.MUTATIONS[mutation](data, rng)
    rec = _analyse(work, data, right if ext is None else ext)
    _check(rec, work)
    if not data:
        assert rec.reason is Reason.EMPTY


@settings(max_examples=120, **_SETTINGS)
@given(kind=st.sampled_from(sorted(ch.VALID)), rng=st.randoms(use_true_random=False))
def test_a_valid_image_in_any_mode_and_format_is_decoded(work, kind, rng):
    data, ext = _make(kind, rng)
    rec = _analyse(work, data, ext)
    _check(rec, work)
    if kind in _NOT_DECODED_HERE:
        assert rec.reason is _NOT_DECODED_HERE[kind], rec.detail
    elif not rec.ok:
        with Image.open(work / "raw" / f"file.{ext}") as im:
            w, h = im.size
        assert rec.reason is Reason.ASPECT_RATIO and max(w, h) / min(w, h) > 50, rec.detail  # a long strip


@settings(max_examples=150, **_SETTINGS)
@given(kind=st.sampled_from(_CUT_IS_TRUNCATED), rng=st.randoms(use_true_random=False), keep=st.floats(0, 1))
def test_a_cut_file_is_truncated_not_corrupt(work, kind, rng, keep):
    data, ext = _make(kind, rng)
    cut = data[: max(8, min(len(data) - 1, int(len(data) * keep)))]  # 1-7 bytes ('P') may not say what they were
    rec = _analyse(work, cut, ext)
    _check(rec, work)
    # decoded (or a strip, rejected by aspect): the cut fell after what the first frame needs (a GIF's later frames,
    # an MPO's second picture)
    decoded = rec.ok or rec.reason is Reason.ASPECT_RATIO
    assert decoded or rec.reason is Reason.TRUNCATED, rec.detail


@settings(max_examples=10, **_SETTINGS)
@given(files=st.lists(st.tuples(st.integers(0, 2**32 - 1), st.sampled_from("AB")), min_size=1, max_size=10))
def test_curate_gives_every_raw_file_one_row_and_a_reason(work, files):
    root = work / "dataset"
    shutil.rmtree(root, ignore_errors=True)
    paths = []
    for n, (seed, domain) in enumerate(files):
        data, ext, _ = ch.hostile_file(random.Random(seed))
        paths.append(ch.write_raw(root / "raw", domain, n, data, ext))
    result = curate(CurationConfig(dataset_dir=root, workers=2, min_side=32))
    with result.manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["raw_path"] for r in rows) == sorted(p.relative_to(root).as_posix() for p in paths)
    assert sum(c["raw"] for c in result.counts.values()) == len(paths)
    for r in rows:
        assert (r["status"] == Status.KEPT) == (r["reason"] == ""), r
        assert r["status"] != Status.KEPT or (root / r["output"]).is_file()
        assert r["reason"] != Reason.DECODE_ERROR, r


def test_image_files_found_on_this_machine_are_all_classified(tmp_path):
    """Icons, sample data and test images that ship inside the installed packages (matplotlib, scipy, ...)."""
    found = ch.found_on_machine()
    if not found:
        pytest.skip("no image files among the installed packages")
    ch.hostile_corpus(tmp_path / "raw", 0, seed=0, found=found)
    n = sum(1 for p in (tmp_path / "raw").rglob("*") if p.is_file())
    result = curate(CurationConfig(dataset_dir=tmp_path, workers=2))
    with result.manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n == len(found) + len(ch.CRAFTED)
    assert not [r for r in rows if r["reason"] == Reason.DECODE_ERROR]


def test_the_hostile_corpus_is_the_same_from_the_same_seed(tmp_path):
    def build(where: Path) -> dict[str, bytes]:
        ch.hostile_corpus(where / "raw", 60, seed=5)
        return {p.relative_to(where).as_posix(): p.read_bytes() for p in (where / "raw").rglob("*") if p.is_file()}

    assert build(tmp_path / "one") == build(tmp_path / "two")
