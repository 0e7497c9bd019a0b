"""Content-addressed snapshots of a folder's files in object storage: parts first, the manifest last.

Under a space (a dataset's name) in the store:

    <space>/blobs/<sha256>            every file's bytes, named by their hash (immutable; shared by snapshots)
    <space>/snapshots/<id>.json       a dataset snapshot's manifest: relative path -> sha256 and size; <id> is the
                                      manifest's own hash, so an id names one content exactly
    <space>/snapshots/latest          the id of the newest published snapshot
    <space>/runs/<run>.json           a training run's manifest (checkpoints, generators, metrics, translations)

A snapshot exists only when its manifest does: the manifest is written after every part it names. Publishing skips
parts already in the store and pulling skips local files whose hash already matches, so what moved once never moves
again, and a rerun after a failure picks up where the failure stopped. Every pulled file is verified against its
hash before it is renamed into place; a mismatch is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from core.store import ObjectStore, StoreError

__all__ = ["Transfer", "file_sha256", "manifest_of", "publish_run", "publish_snapshot", "pull_run", "pull_snapshot"]

FORMAT = 1
THREADS = 8  # parallel transfers: many small images are latency-bound
LATEST = "latest"


@dataclass(frozen=True)
class Transfer:
    """What one publish or pull did: the manifest's name (a snapshot's id), files moved, files already there, and
    local files a pull removed because the snapshot does not hold them."""

    name: str
    moved: int
    kept: int
    removed: int = 0


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_of(root: Path, files: Iterable[Path]) -> dict[str, Any]:
    """The manifest of `files` (under `root`): relative path -> sha256 and size, sorted."""
    entries = {p.relative_to(root).as_posix(): p for p in files}
    return {
        "format": FORMAT,
        "files": {rel: {"sha256": file_sha256(p), "size": p.stat().st_size} for rel, p in sorted(entries.items())},
    }


def _encode(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def snapshot_id(data: bytes) -> str:
    """A snapshot's id: the hash of its manifest's bytes (the same files give the same id)."""
    return hashlib.sha256(data).hexdigest()[:20]


def _blob(space: str, sha: str) -> str:
    return f"{space}/blobs/{sha}"


def _publish(store: ObjectStore, space: str, root: Path, manifest: dict[str, Any], name: str) -> Transfer:
    """Upload every part `manifest` names that the store lacks, then the manifest under `name`."""

    def part(item: tuple[str, dict]) -> bool:
        rel, entry = item
        blob = _blob(space, entry["sha256"])
        if store.exists(blob):
            return False
        store.put_file(root / rel, blob)
        return True

    moved = _each(part, manifest["files"].items())
    store.put_bytes(name, _encode(manifest))  # last: from now on the snapshot exists
    return Transfer(name, moved, len(manifest["files"]) - moved)


def publish_snapshot(store: ObjectStore, space: str, root: Path, files: Iterable[Path]) -> Transfer:
    """Publish `files` (under `root`) as an immutable snapshot of `space`; Transfer.name is its id. The `latest`
    pointer names it afterwards."""
    manifest = manifest_of(root, files)
    sid = snapshot_id(_encode(manifest))
    name = f"{space}/snapshots/{sid}.json"
    done = (
        Transfer(name, 0, len(manifest["files"]))
        if store.exists(name)
        else _publish(store, space, root, manifest, name)
    )
    store.put_bytes(f"{space}/snapshots/{LATEST}", sid.encode())
    return Transfer(sid, done.moved, done.kept)


def latest_snapshot(store: ObjectStore, space: str) -> str:
    """The id of the newest snapshot of `space` (MissingObject when none was published)."""
    return store.get_bytes(f"{space}/snapshots/{LATEST}").decode().strip()


def pull_snapshot(
    store: ObjectStore,
    space: str,
    sid: str,
    dest: Path,
    only: Callable[[str], bool] | None = None,
    defines: Callable[[], Iterable[Path]] | None = None,
) -> Transfer:
    """Make `dest` hold the snapshot `sid`'s files (those `only` accepts), verified by hash; its manifest must hash
    to `sid`. `defines` lists the local files the snapshot stands for (e.g. the split's images): those it does not
    hold (left by an older snapshot) are removed afterwards, so `dest` then holds exactly the snapshot."""
    name = f"{space}/snapshots/{sid}.json"
    data = store.get_bytes(name)
    if snapshot_id(data) != sid:
        raise StoreError(f"{store.url_of(name)}: manifest does not hash to snapshot id {sid}; refused")
    manifest = json.loads(data)
    moved, kept = _pull(store, space, manifest, dest, name, only)
    stale = [] if defines is None else [p for p in defines() if _rel(p, dest) not in manifest["files"]]
    stale = [p for p in stale if only is None or only(_rel(p, dest))]
    for p in stale:
        p.unlink()
    return Transfer(sid, moved, kept, len(stale))


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def publish_run(store: ObjectStore, space: str, run_dir: Path) -> Transfer:
    """Publish every file of a run folder; its manifest `<space>/runs/<run>.json` is replaced last."""
    files = [p for p in run_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return _publish(store, space, run_dir, manifest_of(run_dir, files), f"{space}/runs/{run_dir.name}.json")


def pull_run(
    store: ObjectStore, space: str, run: str, dest: Path, only: Callable[[str], bool] | None = None
) -> Transfer:
    """Make `dest` (the run's local folder) hold the run's published files (those `only` accepts), verified."""
    name = f"{space}/runs/{run}.json"
    moved, kept = _pull(store, space, json.loads(store.get_bytes(name)), dest, name, only)
    return Transfer(run, moved, kept)


def _pull(
    store: ObjectStore,
    space: str,
    manifest: dict[str, Any],
    dest: Path,
    name: str,
    only: Callable[[str], bool] | None = None,
) -> tuple[int, int]:
    if manifest.get("format") != FORMAT:
        raise StoreError(f"{store.url_of(name)}: manifest format {manifest.get('format')!r}; allowed: {FORMAT}")
    items = [(rel, e) for rel, e in manifest["files"].items() if only is None or only(rel)]
    for rel, _ in items:
        p = PurePosixPath(rel)
        if p.is_absolute() or ".." in p.parts:
            raise StoreError(f"{store.url_of(name)}: path {rel!r} leaves the folder; refused")

    def part(item: tuple[str, dict]) -> bool:
        rel, entry = item
        local = dest / rel
        if local.is_file() and local.stat().st_size == entry["size"] and file_sha256(local) == entry["sha256"]:
            return False
        blob = _blob(space, entry["sha256"])
        with store.download(blob, local) as tmp:
            got = file_sha256(tmp)
            if got != entry["sha256"]:
                raise StoreError(
                    f"{store.url_of(blob)}: sha256 {got[:16]}... does not match {rel} in {name} "
                    f"({entry['sha256'][:16]}...); refused"
                )
        return True

    moved = _each(part, items)
    return moved, len(items) - moved


def _each(fn: Callable[[Any], bool], items: Iterable[Any]) -> int:
    """Run `fn` on every item on THREADS threads; the number of items for which it did something. On the first error
    nothing new starts; it is raised once the transfers in flight have ended (finished parts stay finished)."""
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(fn, item) for item in items]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            raise failed.exception()
        return sum(f.result() for f in futures)
