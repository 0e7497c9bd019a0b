"""The `SAKURA_*` environment variables: declared once, read and validated by pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError, describe

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: every default location is under it
PREFIX = "SAKURA_"


class Environment(BaseSettings):
    """Every `SAKURA_*` variable (an empty one counts as unset); read fresh by `environment()`."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="ignore")

    data_root: Path = Field(PROJECT_ROOT / "datasets", description="the data root")
    chromium: str | None = Field(None, description="the Chromium binary (else the first on PATH)")
    chromedriver: str | None = Field(None, description="the chromedriver (else PATH, then webdriver-manager)")
    inception_weights: str | None = Field(None, description="local InceptionV3 weights for FID/KID")
    ddp_backend: Literal["gloo", "nccl"] | None = Field(None, description="gloo: no NCCL even on CUDA")
    task_runner: Literal["threads", "dask"] = Field("threads", description="what the flows fan out on")
    threads: Annotated[int, Field(gt=0)] = Field(4, description="threads of the default task runner")
    dask_address: str | None = Field(None, description="an existing Dask scheduler (else a local cluster)")
    dask_workers: Annotated[int, Field(gt=0)] = Field(2, description="workers of the local Dask cluster")
    prefect_port: Annotated[int, Field(ge=1, le=65535)] = Field(4200, description="port of the local Prefect server")
    prefect_home: Path = Field(PROJECT_ROOT / ".prefect", description="the local Prefect server's home")
    project_dir: Path = Field(PROJECT_ROOT, description="the checkout a Prefect worker runs the flows from (read by "
                              "prefect.yaml's pull step on the worker, not by sakura)")  # fmt: skip


def variable(field: str) -> str:
    """The environment variable of an Environment field: `SAKURA_<FIELD>`."""
    return PREFIX + field.upper()


def environment() -> Environment:
    """The environment as it is now; a bad value is a one-line ConfigError naming the variable."""
    try:
        return Environment()
    except ValidationError as e:
        raise ConfigError(describe(e, name=lambda loc: variable(str(loc[0])))) from None
