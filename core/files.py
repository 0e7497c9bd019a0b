"""Atomic writes: every file is written to a temporary name in the same file system, then renamed over its path."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TEMP_SUFFIX = ".tmp"


def temp_path(path: str | Path, folder: str | Path | None = None) -> Path:
    """The one temp-name rule: `.<name>.<pid>.<8 hex>.tmp` beside `path` (or in `folder`, on the same file system).

    Hidden (readers of a folder skip dot files), unique per writer (pid and random), its writer's pid readable."""
    path = Path(path)
    return Path(folder or path.parent) / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"


def temp_writer_pid(temp: str | Path) -> int | None:
    """The pid of the process that writes a `temp_path` file; None when `temp` is not one."""
    name = Path(temp).name
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return None
    fields = name.removesuffix(TEMP_SUFFIX).rsplit(".", 2)
    return int(fields[1]) if len(fields) == 3 and fields[1].isdigit() else None


@contextmanager
def atomic_path(path: str | Path, folder: str | Path | None = None, fsync: bool = False) -> Iterator[Path]:
    """A temp path for a writer that takes a path (shutil.copyfile, os.link, Pillow's save): when the block ends
    without an exception the file is renamed over `path` (synced first with `fsync`), else removed."""
    path = Path(path)
    tmp = temp_path(path, folder)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", folder: str | Path | None = None, fsync: bool = False,
                **kwargs: Any) -> Iterator[IO]:  # fmt: skip
    """`open(path, mode)` for writers that take a file (torch.save, csv): the file appears whole or not at all."""
    with atomic_path(path, folder) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())


def write_atomic(path: str | Path, data: bytes | memoryview | str, folder: str | Path | None = None,
                 fsync: bool = False) -> Path:  # fmt: skip
    """Write bytes, or text as UTF-8, to `path` atomically (the temp file in `folder` when given); returns `path`."""
    text = {"encoding": "utf-8"} if isinstance(data, str) else {}
    with atomic_open(path, "w" if text else "wb", folder, fsync, **text) as fh:
        fh.write(data)
    return Path(path)


def write_json(path: str | Path, data: Any, **dumps: Any) -> Path:
    """`json.dumps(data, **dumps)` written atomically to `path`; returns `path`."""
    return write_atomic(path, json.dumps(data, **dumps))
