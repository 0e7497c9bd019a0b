"""Where things live: the project root, the data root and the default domains file."""

from __future__ import annotations

from pathlib import Path

from core.environment import PROJECT_ROOT, environment

__all__ = ["PROJECT_ROOT", "data_root", "dataset_dir", "default_domains_file"]


def data_root() -> Path:
    """The data root: $SAKURA_DATA_ROOT, else `datasets/` in the project."""
    return environment().data_root


def default_domains_file() -> Path:
    """The domains file used when none is given: `<data root>/domains.toml`."""
    return data_root() / "domains.toml"


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of one dataset under the data root (`root`, else `data_root()`)."""
    return Path(root if root is not None else data_root()) / name
