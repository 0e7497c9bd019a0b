"""Where things live: the project root, the data root and the default domains file."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The data root: $SAKURA_DATA_ROOT, else `datasets/` in the project."""
    from core.environment import environment  # it imports PROJECT_ROOT from here

    return environment().data_root


def default_domains_file() -> Path:
    """The domains file used when none is given: `<data root>/domains.toml`."""
    return data_root() / "domains.toml"


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of one dataset under the data root (`root`, else `data_root()`)."""
    return Path(root if root is not None else data_root()) / name
