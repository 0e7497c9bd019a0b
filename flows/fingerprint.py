"""Content fingerprints of folders and settings: the cache keys that let unchanged steps be skipped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif", ".heic"}


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


def folder_digest(root: Path, subdirs: Iterable[str], extra_files: Iterable[str] = ()) -> str:
    """The digest of the image files under root/<subdir> (recursively) and of the named extra files."""
    root = Path(root)
    files = [
        p
        for sub in subdirs
        if (root / sub).is_dir()
        for p in (root / sub).rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    ]
    files += [root / name for name in extra_files if (root / name).is_file()]
    return files_digest(files, root)


def raw_digest(dataset_dir: Path) -> str:
    """What curation reads: the raw images of both domains and the review's exclusion list."""
    return folder_digest(dataset_dir, ["raw/A", "raw/B"], ["curation/excluded.txt"])


def split_digest(dataset_dir: Path) -> str:
    """What training reads: the curated train and test images of both domains (either layout)."""
    subs = ["train/A", "train/B", "test/A", "test/B", "trainA", "trainB", "testA", "testB"]
    return folder_digest(dataset_dir, subs)


def file_digest(path: Path) -> str:
    """A digest of one file's bytes (for checkpoints and generator weights)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]
