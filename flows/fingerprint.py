"""Content fingerprints of what a step reads: the cache keys that let unchanged steps be skipped.

Each stage says what it reads (curation: `DatasetLayout.inputs`, training: `model.data.dataset_files`); a
fingerprint hashes exactly those files, so a file the stage reads can never change without the key changing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from curation.layout import DatasetLayout
from model.data import dataset_files


def settings_digest(settings: Any) -> str:
    """A stable digest of JSON-like settings (dict order does not matter)."""
    text = json.dumps(settings, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """A digest of (relative path, size, mtime) of each file: changes when a file is added, removed or rewritten."""
    h = hashlib.sha256()
    for p in sorted(paths):
        st = p.stat()
        h.update(f"{p.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def raw_digest(dataset_dir: Path) -> str:
    """What curation reads: its raw files of both domains and the review's exclusion list."""
    return files_digest(DatasetLayout(dataset_dir).inputs(), dataset_dir)


def split_digest(dataset_dir: Path) -> str:
    """What training reads: the curated train and test images of both domains (either layout)."""
    return files_digest(dataset_files(dataset_dir), dataset_dir)


def file_digest(path: Path) -> str:
    """A digest of one file's bytes (for checkpoints and generator weights)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]
