"""Where things live: the project root, the data root and the default domains file."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from core.environment import PROJECT_ROOT, environment

__all__ = ["PROJECT_ROOT", "command", "data_root", "dataset_dir", "default_domains_file", "is_url", "remote_root"]
URL_SCHEMES = ("s3://",)  # a data root that names object storage instead of a folder


def command(name: str) -> str | None:
    """The command `name` installed beside this Python (the project's venv), else the one on PATH, else None."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def is_url(root: str | Path) -> bool:
    """Whether a data root names object storage (`s3://bucket/prefix`) rather than a local folder."""
    return str(root).startswith(URL_SCHEMES)


def remote_root() -> str | None:
    """The shared data root when $SAKURA_DATA_ROOT is an object-store URL, else None (a local data root)."""
    root = environment().data_root
    return root.rstrip("/") if is_url(root) else None


def data_root() -> Path:
    """The local data root the stages read and write: $SAKURA_DATA_ROOT, else `datasets/` in the project; when
    $SAKURA_DATA_ROOT is an object-store URL, this machine's working copy ($SAKURA_LOCAL_ROOT)."""
    env = environment()
    return env.local_root if is_url(env.data_root) else Path(env.data_root)


def default_domains_file() -> Path:
    """The domains file used when none is given: `<data root>/domains.toml`."""
    return data_root() / "domains.toml"


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of one dataset under the data root (`root`, else `data_root()`)."""
    return Path(root if root is not None else data_root()) / name
