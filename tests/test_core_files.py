"""Tests for core.files: a file appears whole under its name or not at all; one temp-name rule."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from core.files import atomic_open, atomic_path, temp_path, temp_writer_pid, write_atomic, write_json


@pytest.mark.parametrize("data", [b"\x00bytes\xff", "text, ünïcode 桜"], ids=["bytes", "text"])
@pytest.mark.parametrize("fsync", [False, True])
def test_write_atomic_replaces_and_leaves_no_temp(tmp_path, data, fsync):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    assert write_atomic(path, data, fsync=fsync) == path
    assert (path.read_text(encoding="utf-8") if isinstance(data, str) else path.read_bytes()) == data
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_write_json_passes_dumps_options(tmp_path):
    path = write_json(tmp_path / "r.json", {"b": 1, "a": "桜"}, indent=2, sort_keys=True, ensure_ascii=False)
    assert path.read_text(encoding="utf-8") == json.dumps({"a": "桜", "b": 1}, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("form", ["path", "open"])
def test_a_failed_writer_keeps_the_old_file_and_removes_its_temp(tmp_path, form):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"complete")
    with pytest.raises(RuntimeError):
        if form == "path":
            with atomic_path(path) as tmp:
                tmp.write_bytes(b"half")
                raise RuntimeError("writer died")
        else:
            with atomic_open(path, "wb") as fh:
                fh.write(b"half")
                raise RuntimeError("writer died")
    assert path.read_bytes() == b"complete"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_path_form_takes_writers_that_want_a_path(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"abc")
    with atomic_path(tmp_path / "dest", fsync=True) as tmp:
        assert not (tmp_path / "dest").exists()
        shutil.copyfile(src, tmp)
    assert (tmp_path / "dest").read_bytes() == b"abc"


def test_temp_in_another_folder_and_its_writer(tmp_path):
    (tmp_path / "part").mkdir()
    tmp = temp_path(tmp_path / "A" / "x.jpg", tmp_path / "part")
    assert tmp.parent == tmp_path / "part" and tmp.name.startswith(".x.jpg.") and tmp.name.endswith(".tmp")
    assert temp_writer_pid(tmp) == os.getpid()
    assert temp_path(tmp_path / "x.jpg") != temp_path(tmp_path / "x.jpg")  # two writers never share a temp file
    write_atomic(tmp_path / "x.jpg", b"1", folder=tmp_path / "part")
    assert list((tmp_path / "part").iterdir()) == []


@pytest.mark.parametrize("name", ["x.jpg", ".x.jpg.tmp", ".x.jpg.12ab.0123abcd.tmp", "abc.123.0123abcd.part"])
def test_names_not_made_by_temp_path_have_no_writer(name):
    assert temp_writer_pid(name) is None
