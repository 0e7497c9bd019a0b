"""Tests for curation.outputs: the output folders hold exactly the kept images; the manifest CSV."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from curation.config import CurationConfig
from curation.outputs import MANIFEST_COLUMNS, write_manifest, write_outputs
from curation.records import Decision, Status


def _row(sha: str, domain: str, split: str, status: Status = Status.KEPT) -> Decision:
    return Decision(domain=domain, sha256=sha, relpath=f"{domain}/{sha}.jpg", status=status, split=split,
                    staged=f"{sha[:2]}/{sha}.jpg", group=f"g{sha[:16]}")  # fmt: skip


def _stage(staging: Path, sha: str) -> None:
    p = staging / sha[:2] / f"{sha}.jpg"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(sha.encode())


def test_writes_links_removes_stale_keeps_foreign(tmp_path):
    staging = tmp_path / "staged"
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    for s in (a, b, c):
        _stage(staging, s)
    cfg = CurationConfig(dataset_dir=tmp_path)
    rows = [_row(a, "A", "train"), _row(b, "B", "test"), _row(c, "A", "", status=Status.DUPLICATE)]
    placed, written = write_outputs(tmp_path, staging, rows, cfg)
    assert written == 2 and rows[0].output == ""  # the decisions given are left as they are
    assert placed[0].output == f"train/A/{a[:16]}.jpg" and placed[2] == rows[2]
    assert placed[1] == replace(rows[1], output=f"test/B/{b[:16]}.jpg")
    assert (tmp_path / placed[1].output).read_bytes() == b.encode()
    foreign = tmp_path / "train/A/my-notes.txt"
    foreign.write_text("mine")
    rows = [_row(b, "B", "test")]
    assert write_outputs(tmp_path, staging, rows, cfg)[1] == 0  # already there
    assert not (tmp_path / f"train/A/{a[:16]}.jpg").exists() and foreign.exists()


def test_official_layout_written_and_cleaned(tmp_path):
    staging = tmp_path / "staged"
    a = "d" * 64
    _stage(staging, a)
    write_outputs(tmp_path, staging, [_row(a, "B", "test")], CurationConfig(dataset_dir=tmp_path, official_layout=True))
    assert (tmp_path / f"testB/{a[:16]}.jpg").is_file() and (tmp_path / f"test/B/{a[:16]}.jpg").is_file()
    write_outputs(tmp_path, staging, [_row(a, "B", "test")], CurationConfig(dataset_dir=tmp_path))
    assert not (tmp_path / f"testB/{a[:16]}.jpg").exists()


def test_restaged_file_replaces_output(tmp_path):
    staging = tmp_path / "staged"
    a = "e" * 64
    _stage(staging, a)
    rows = [_row(a, "A", "train")]
    cfg = CurationConfig(dataset_dir=tmp_path)
    write_outputs(tmp_path, staging, rows, cfg)
    p = staging / a[:2] / f"{a}.jpg"
    tmp = p.with_suffix(".new")
    tmp.write_bytes(b"new pixels")
    tmp.replace(p)  # as a re-decode does: a new file, so the old hard link is stale
    (placed,), written = write_outputs(tmp_path, staging, rows, cfg)
    assert written == 1
    assert (tmp_path / placed.output).read_bytes() == b"new pixels"


def test_manifest_columns(tmp_path):
    row = replace(_row("f" * 64, "A", "train"), url="http://127.0.0.1/x", width=10, height=20, phash="00ff", bytes=5)
    path = write_manifest(tmp_path / "manifest.csv", [row])
    header, line = path.read_text(encoding="utf-8").splitlines()
    got = dict(zip(header.split(","), line.split(","), strict=True))
    assert tuple(got) == MANIFEST_COLUMNS
    assert got["id"] == "f" * 64 and got["raw_path"] == f"raw/A/{'f' * 64}.jpg" and got["url"] == "http://127.0.0.1/x"
    assert got["status"] == Status.KEPT and got["reason"] == got["detail"] == ""
    assert got["split"] == "train" and got["group"] == "g" + "f" * 16 and got["width"] == "10"
