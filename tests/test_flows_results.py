"""The result storage block in the bucket (flows.results) against a real SeaweedFS server, and `sakura
results-storage`'s one-line refusals: a local data root, wrong credentials, a missing bucket."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.results import SakuraObjectStore
from tests.support.seaweed import BUCKET

pytestmark = pytest.mark.slow
SAKURA = str(Path(sys.executable).parent / "sakura")


def test_results_round_trip_with_the_machines_own_keys_and_none_in_the_block(s3_server, monkeypatch):
    for name, value in s3_server.env("team").items():
        monkeypatch.setenv(name, value)
    block = SakuraObjectStore(url=f"s3://{BUCKET}/team/prefect-results", endpoint_url=s3_server.endpoint_url)
    assert block.write_path("some-key", b"a result") == "some-key"
    assert block.read_path("some-key") == b"a result"
    assert s3_server.keys("team/") == ["team/prefect-results/some-key"]
    saved = block.model_dump_json()
    assert s3_server.secret_key not in saved and s3_server.access_key not in saved


def _results_storage(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([SAKURA, "results-storage"], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"SAKURA_DATA_ROOT": "/tmp/local-root"}, "SAKURA_DATA_ROOT is a local folder; set it to s3://bucket/prefix"),
        (
            {"SAKURA_S3_SECRET_ACCESS_KEY": "wrong"},
            "s3://sakura/team/prefect-results: the object store at {e} refused the credentials",
        ),
        ({"SAKURA_DATA_ROOT": "s3://nope/team"}, "s3://nope/team/prefect-results: bucket nope does not exist at {e}"),
    ],
)
def test_results_storage_refuses_in_one_line(s3_server, change, line):
    done = _results_storage({**s3_server.env("team"), **change})
    err = done.stderr.strip()
    assert done.returncode == 2 and len(err.splitlines()) == 1, done
    assert err.startswith("sakura results-storage: error: ") and line.format(e=s3_server.endpoint_url) in err, err
    assert s3_server.secret_key not in done.stdout + err
