"""The `SAKURA_*` environment variables: declared once, read and validated by pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError, describe

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: every default location is under it
PREFIX = "SAKURA_"


class Environment(BaseSettings):
    """Every `SAKURA_*` variable (an empty one counts as unset); read fresh by `environment()`."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="ignore")

    data_root: str = Field(
        str(PROJECT_ROOT / "datasets"),
        description="the data root: a local folder, or `s3://bucket/prefix` (object storage shared by machines that "
        "share no folder; each keeps its working copy in SAKURA_LOCAL_ROOT)",
    )
    local_root: Path = Field(
        PROJECT_ROOT / "datasets",
        description="this machine's working copy of the data when SAKURA_DATA_ROOT is an `s3://` URL",
    )
    s3_endpoint_url: str | None = Field(
        None, description="the S3-compatible server (e.g. http://store-host:8333); none: AWS S3"
    )
    s3_region: str = Field("us-east-1", description="the object store's region (S3-compatible servers take any)")
    s3_access_key_id: SecretStr | None = Field(
        None, description="object-store access key (never logged; none: AWS_ACCESS_KEY_ID, then boto3's usual chain)"
    )
    s3_secret_access_key: SecretStr | None = Field(
        None, description="object-store secret key (never logged; none: AWS_SECRET_ACCESS_KEY, then boto3's chain)"
    )
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
