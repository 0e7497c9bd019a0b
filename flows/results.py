"""Prefect's results in the data root's object store: a result storage block that holds no secret.

`sakura results-storage` saves the block `sakura-object-store/results` (the store's URL and endpoint, read from the
SAKURA_* settings); every machine that sets PREFECT_DEFAULT_RESULT_STORAGE_BLOCK to it writes and reads flow and
task results there, with its own credentials (SAKURA_S3_ACCESS_KEY_ID / SAKURA_S3_SECRET_ACCESS_KEY, else the usual
AWS variables): they are read on each machine when a result is read or written, never stored in the block.
"""

from __future__ import annotations

import argparse
import asyncio

from prefect.filesystems import WritableFileSystem

from core.environment import environment
from core.errors import UserError
from core.paths import remote_root
from core.store import ObjectStore

BLOCK_NAME = "results"
RESULTS = "prefect-results"  # under the data root


class SakuraObjectStore(WritableFileSystem):
    """Prefect results as objects under `url` (s3://bucket/prefix) on an S3-compatible `endpoint_url`."""

    _block_type_name = "Sakura Object Store"
    _block_type_slug = "sakura-object-store"

    url: str
    endpoint_url: str | None = None

    def _store(self) -> ObjectStore:
        env = environment()
        key = env.s3_access_key_id.get_secret_value() if env.s3_access_key_id else None
        secret = env.s3_secret_access_key.get_secret_value() if env.s3_secret_access_key else None
        return ObjectStore.connect(self.url, self.endpoint_url or env.s3_endpoint_url, env.s3_region, key, secret)

    def read_path(self, path: str, _sync: bool | None = None) -> bytes:
        return self._store().get_bytes(path)

    def write_path(self, path: str, content: bytes, _sync: bool | None = None) -> str:
        self._store().put_bytes(path, content)
        return path

    async def aread_path(self, path: str) -> bytes:
        return await asyncio.to_thread(self.read_path, path)

    async def awrite_path(self, path: str, content: bytes) -> str:
        return await asyncio.to_thread(self.write_path, path, content)


def block_slug() -> str:
    """What PREFECT_DEFAULT_RESULT_STORAGE_BLOCK names: `sakura-object-store/results`."""
    return f"{SakuraObjectStore._block_type_slug}/{BLOCK_NAME}"


def save_results_block() -> SakuraObjectStore:
    """Save (or replace) the block for `<data root>/prefect-results`; the data root must be an s3:// URL."""
    url = remote_root()
    if url is None:
        raise UserError(
            "results-storage: SAKURA_DATA_ROOT is a local folder; set it to s3://bucket/prefix first "
            "(a local data root keeps Prefect's results in PREFECT_LOCAL_STORAGE_PATH)"
        )
    block = SakuraObjectStore(url=f"{url}/{RESULTS}", endpoint_url=environment().s3_endpoint_url)
    block._store().check()
    block.save(BLOCK_NAME, overwrite=True)
    return block


def _cmd_results_storage(args: argparse.Namespace) -> int:
    block = save_results_block()
    print(f"saved the result storage block {block_slug()}: {block.url}")
    print(f"on every machine: export PREFECT_DEFAULT_RESULT_STORAGE_BLOCK={block_slug()}")
    return 0


def add_command(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(func=_cmd_results_storage)


COMMANDS = {"results-storage": add_command}
