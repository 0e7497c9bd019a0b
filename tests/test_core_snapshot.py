"""Snapshots in a real S3-compatible server (SeaweedFS on 127.0.0.1): publish parts first and the manifest last, pull
verified by hash, and the faults: the server stopped during a publish or a pull, wrong credentials, a missing
bucket, a part or a manifest that does not match its hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from core.snapshot import file_sha256, latest_snapshot, publish_run, publish_snapshot, pull_run, pull_snapshot
from core.store import ObjectStore, StoreError
from tests.support.seaweed import BUCKET, stopping_store

pytestmark = pytest.mark.slow
PREFIX = "team"
URL = f"s3://{BUCKET}/{PREFIX}"


def _store(server, url: str = URL, secret: str | None = None, cls: type[ObjectStore] = ObjectStore) -> ObjectStore:
    store = ObjectStore.connect(url, server.endpoint_url, "us-east-1", server.access_key, secret or server.secret_key)
    return cls(store.url, store.endpoint_url, store.region, store.client)


def _dataset(root: Path, n: int = 12, size: int = 3000) -> list[Path]:
    """n files in train/{A,B} and test/{A,B} with distinct bytes."""
    files = []
    for i in range(n):
        p = root / ("train" if i % 3 else "test") / "AB"[i % 2] / f"{i:03d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(hashlib.sha256(str(i).encode()).digest() * (size // 32))
        files.append(p)
    return files


def _one_line(e: pytest.ExceptionInfo, server) -> str:
    text = str(e.value)
    assert "\n" not in text and server.secret_key not in text and server.access_key not in text, text
    return text


def test_a_snapshot_moves_once_and_is_named_by_its_content(s3_server, tmp_path):
    store, src = _store(s3_server), tmp_path / "src"
    files = _dataset(src)
    first = publish_snapshot(store, "ds", src, files)
    assert (first.moved, first.kept) == (len(files), 0)
    again = publish_snapshot(store, "ds", src, files)
    assert (again.name, again.moved, again.kept) == (first.name, 0, len(files))  # same content, same id, no upload
    assert latest_snapshot(store, "ds") == first.name
    keys = s3_server.keys(f"{PREFIX}/ds/")
    assert f"{PREFIX}/ds/snapshots/{first.name}.json" in keys
    assert sum(k.startswith(f"{PREFIX}/ds/blobs/") for k in keys) == len(files)

    dest = tmp_path / "dest"
    pulled = pull_snapshot(store, "ds", first.name, dest)
    assert (pulled.moved, pulled.kept) == (len(files), 0)
    assert {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == {
        p.relative_to(src): p.read_bytes() for p in files
    }
    assert pull_snapshot(store, "ds", first.name, dest).moved == 0  # verified in place: nothing moves twice
    test_only = pull_snapshot(store, "ds", first.name, tmp_path / "t", lambda rel: rel.startswith("test"))
    assert test_only.moved == sum(1 for p in files if p.parts[-3] == "test")

    (src / "train" / "A" / "new.jpg").write_bytes(b"new image")
    second = publish_snapshot(store, "ds", src, [*files, src / "train" / "A" / "new.jpg"])
    assert second.name != first.name and (second.moved, second.kept) == (1, len(files))  # parts are shared

    def images() -> list[Path]:
        return sorted(dest.rglob("*.jpg"))

    assert pull_snapshot(store, "ds", second.name, dest, defines=images).moved == 1
    back = pull_snapshot(store, "ds", first.name, dest, defines=images)  # the older snapshot: new.jpg is not in it
    assert (back.moved, back.kept, back.removed) == (0, len(files), 1) and not (dest / "train/A/new.jpg").exists()


def test_a_run_folder_is_pushed_and_only_the_generators_pulled(s3_server, tmp_path):
    store, run = _store(s3_server), tmp_path / "runs" / "r1"
    for rel, data in {"generators/G_A2B.pt": b"a" * 100, "generators/G_B2A.pt": b"b" * 100,
                      "checkpoints/last.pt": b"c" * 500, "metrics.json": b"{}"}.items():  # fmt: skip
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_bytes(data)
    assert publish_run(store, "ds", run).moved == 4
    dest = tmp_path / "other" / "r1"
    pulled = pull_run(store, "ds", "r1", dest, lambda rel: rel.startswith("generators/"))
    assert pulled.moved == 2 and sorted(p.name for p in dest.rglob("*.pt")) == ["G_A2B.pt", "G_B2A.pt"]


def test_a_publish_cut_off_by_a_stopped_server_leaves_no_snapshot_and_resumes(s3_server, tmp_path):
    src = tmp_path / "src"
    files = _dataset(src, n=40, size=20_000)
    store = _store(s3_server, cls=stopping_store(s3_server, after=5))
    with pytest.raises(StoreError) as e:
        publish_snapshot(store, "ds", src, files)
    assert _one_line(e, s3_server).startswith(f"{URL}/ds/blobs/"), e.value  # names the object's URL

    s3_server.start()
    keys = s3_server.keys(f"{PREFIX}/ds/")
    blobs = [k for k in keys if "/blobs/" in k]
    assert not any("/snapshots/" in k for k in keys), keys  # no manifest: the snapshot does not exist
    assert 5 <= len(blobs) < len(files)
    client = s3_server.client()
    for key in blobs:  # every part under its final key is whole: its bytes hash to its name
        body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == key.rsplit("/", 1)[1]

    rerun = publish_snapshot(_store(s3_server), "ds", src, files)
    assert (rerun.moved, rerun.kept) == (len(files) - len(blobs), len(blobs))  # finished parts are not sent again
    assert pull_snapshot(_store(s3_server), "ds", rerun.name, tmp_path / "dest").moved == len(files)


def test_a_pull_cut_off_by_a_stopped_server_leaves_no_partial_file_and_resumes(s3_server, tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    files = _dataset(src, n=40, size=20_000)
    sid = publish_snapshot(_store(s3_server), "ds", src, files).name
    with pytest.raises(StoreError) as e:
        pull_snapshot(_store(s3_server, cls=stopping_store(s3_server, after=6)), "ds", sid, dest)
    assert _one_line(e, s3_server).startswith(f"{URL}/ds/blobs/"), e.value

    present = [p for p in dest.rglob("*") if p.is_file()]
    assert not [p for p in present if p.name.endswith(".part")], present  # no temporary file left behind
    by_rel = {p.relative_to(src).as_posix(): file_sha256(p) for p in files}
    assert all(file_sha256(p) == by_rel[p.relative_to(dest).as_posix()] for p in present)  # only whole files
    assert 0 < len(present) < len(files)

    s3_server.start()
    rerun = pull_snapshot(_store(s3_server), "ds", sid, dest)
    assert (rerun.moved, rerun.kept) == (len(files) - len(present), len(present))


def test_wrong_credentials_and_a_missing_bucket_are_one_line_each(s3_server):
    with pytest.raises(StoreError) as e:
        _store(s3_server, secret="not-the-secret").check()
    assert "refused the credentials" in _one_line(e, s3_server) and URL in str(e.value)
    with pytest.raises(StoreError) as e:
        _store(s3_server, url="s3://no-such-bucket/x").check()
    assert _one_line(e, s3_server) == f"s3://no-such-bucket/x: bucket no-such-bucket does not exist at " \
        f"{s3_server.endpoint_url}"  # fmt: skip
    assert s3_server.secret_key not in repr(_store(s3_server))


def test_a_part_or_a_manifest_that_does_not_match_its_hash_is_refused(s3_server, tmp_path):
    store, src = _store(s3_server), tmp_path / "src"
    files = _dataset(src, n=4)
    sid = publish_snapshot(store, "ds", src, files).name
    client = s3_server.client()
    blob = f"{PREFIX}/ds/blobs/{file_sha256(files[0])}"
    client.put_object(Bucket=BUCKET, Key=blob, Body=b"tampered")
    dest = tmp_path / "dest"
    with pytest.raises(StoreError) as e:
        pull_snapshot(store, "ds", sid, dest)
    assert "does not match" in _one_line(e, s3_server) and "refused" in str(e.value)
    assert not (dest / files[0].relative_to(src)).exists()  # the bad bytes never reach the final path

    manifest = f"{PREFIX}/ds/snapshots/{sid}.json"
    data = json.loads(client.get_object(Bucket=BUCKET, Key=manifest)["Body"].read())
    data["files"].popitem()
    client.put_object(Bucket=BUCKET, Key=manifest, Body=json.dumps(data).encode())
    with pytest.raises(StoreError, match=f"does not hash to snapshot id {sid}; refused"):
        pull_snapshot(store, "ds", sid, tmp_path / "dest2")
