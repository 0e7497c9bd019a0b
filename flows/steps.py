"""Helpers shared by the flows: building stage configs from flow parameters, and cache settings."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from prefect.cache_policies import INPUTS, TASK_SOURCE

from sakura.config import ConfigError, load_domains
from sakura.paths import default_domains_file

Step = Literal["scrape", "curate", "train", "translate"]
STEPS: tuple[str, ...] = ("scrape", "curate", "train", "translate")
# A step's result is reused when the same code gets the same inputs; inputs carry content fingerprints.
CONTENT_CACHE = INPUTS + TASK_SOURCE


def dataset_name(dataset: str | None, domains_file: str | None) -> str:
    """The dataset to work on: the parameter, else the name in the domains file."""
    return dataset or load_domains(domains_file or default_domains_file()).name


def build_config(cls: type, options: dict[str, Any] | None, **fixed: Any) -> Any:
    """cls(**options, **fixed) with unknown option names reported as a ConfigError listing the allowed ones."""
    allowed = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options or {}) - allowed)
    if unknown:
        raise ConfigError(f"{cls.__name__} options: got {unknown}; allowed: {sorted(allowed)}")
    return cls(**{**(options or {}), **{k: v for k, v in fixed.items() if v is not None}})


def check_steps(force: list[str] | None) -> set[str]:
    """The steps to run again even when cached."""
    bad = sorted(set(force or []) - set(STEPS))
    if bad:
        raise ConfigError(f"force: got {bad}; allowed: {list(STEPS)}")
    return set(force or [])
