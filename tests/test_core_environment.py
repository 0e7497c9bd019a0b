"""Tests for core.environment: every SAKURA_* variable read in one place; a bad value is one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError
from core.environment import environment
from core.paths import PROJECT_ROOT, data_root


def test_defaults_and_empty_values(monkeypatch):
    monkeypatch.setenv("SAKURA_THREADS", "")  # empty: unset
    monkeypatch.delenv("SAKURA_DATA_ROOT", raising=False)
    env = environment()
    assert (env.threads, env.prefect_port, env.task_runner) == (4, 4200, "threads")
    assert data_root() == PROJECT_ROOT / "datasets"


def test_values_are_read_when_asked(monkeypatch, tmp_path):
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path))
    monkeypatch.setenv("SAKURA_PREFECT_PORT", "4321")
    assert data_root() == tmp_path and environment().prefect_port == 4321
    assert isinstance(environment().prefect_home, Path)


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("SAKURA_THREADS", "many", "a valid integer"),
        ("SAKURA_DASK_WORKERS", "0", "greater than 0"),
        ("SAKURA_PREFECT_PORT", "70000", "less than or equal to 65535"),
        ("SAKURA_TASK_RUNNER", "ray", "'threads' or 'dask'"),
        ("SAKURA_DDP_BACKEND", "mpi", "'gloo' or 'nccl'"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch, name, value, allowed):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as e:
        environment()
    assert str(e.value).startswith(f"{name}: got {value!r}; allowed: ") and allowed in str(e.value)
    assert "\n" not in str(e.value)


def test_an_object_store_data_root_works_in_a_local_copy_and_keeps_its_keys_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("SAKURA_DATA_ROOT", "s3://bucket/team/")
    monkeypatch.setenv("SAKURA_LOCAL_ROOT", str(tmp_path))
    monkeypatch.setenv("SAKURA_S3_SECRET_ACCESS_KEY", "do-not-print-me")
    from core.paths import remote_root

    assert (data_root(), remote_root()) == (tmp_path, "s3://bucket/team")
    env = environment()
    assert env.s3_secret_access_key.get_secret_value() == "do-not-print-me"
    assert "do-not-print-me" not in repr(env) and "do-not-print-me" not in str(env.model_dump())
    monkeypatch.setenv("SAKURA_DATA_ROOT", str(tmp_path / "local"))
    assert (data_root(), remote_root()) == (tmp_path / "local", None)
