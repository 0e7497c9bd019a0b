"""Which S3 client moves a dataset snapshot fastest: boto3 (threads), obstore (Rust, async), s3fs (fsspec, async),
against a real SeaweedFS S3 server on 127.0.0.1. Per client: put and get of many small files (a curated split: N
images of ~30 KB) and of one large file (a checkpoint), best of `--rounds`, and its import time. Prints a table
(`--write-docs`: also to docs/benchmarks/generated/bench_store.md, shown by docs/benchmarks/storage.md).

    .venv/bin/pip install -e '.[s3,bench]'
    .venv/bin/python benchmarks/bench_store.py [--files 200] [--size-kb 30] [--large-mb 64] [--rounds 3] [--write-docs]

A client that is not importable is skipped (s3fs: `pip install --target DIR s3fs` and put DIR on PYTHONPATH, as it
pins botocore through aiobotocore).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_output  # noqa: E402

from tests.support.seaweed import BUCKET, running_seaweed  # noqa: E402

THREADS = 8


def boto3_client(s):
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "s3", endpoint_url=s.endpoint_url, region_name="us-east-1", aws_access_key_id=s.access_key,
        aws_secret_access_key=s.secret_key, config=Config(max_pool_connections=32, s3={"addressing_style": "path"}),
    )  # fmt: skip

    def put_many(items):
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda kv: client.put_object(Bucket=BUCKET, Key=kv[0], Body=kv[1]), items))

    def get_many(keys):
        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(lambda k: client.get_object(Bucket=BUCKET, Key=k)["Body"].read(), keys))

    def put_file(path, key):
        client.upload_file(str(path), BUCKET, key)

    def get_file(key, path):
        client.download_file(BUCKET, key, str(path))

    return put_many, get_many, put_file, get_file


def obstore_client(s):
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        BUCKET, endpoint=s.endpoint_url, access_key_id=s.access_key, secret_access_key=s.secret_key,
        region="us-east-1", client_options={"allow_http": True}, virtual_hosted_style_request=False,
    )  # fmt: skip

    async def _put_many(items):
        sem = asyncio.Semaphore(THREADS)

        async def one(k, v):
            async with sem:
                await obstore.put_async(store, k, v)

        await asyncio.gather(*(one(k, v) for k, v in items))

    async def _get_many(keys):
        sem = asyncio.Semaphore(THREADS)

        async def one(k):
            async with sem:
                return bytes(await (await obstore.get_async(store, k)).bytes_async())

        return await asyncio.gather(*(one(k) for k in keys))

    def put_file(path, key):
        obstore.put(store, key, Path(path))

    def get_file(key, path):
        with open(path, "wb") as f:
            for chunk in obstore.get(store, key):
                f.write(chunk)

    return lambda items: asyncio.run(_put_many(items)), lambda keys: asyncio.run(_get_many(keys)), put_file, get_file


def s3fs_client(s):
    import s3fs

    fs = s3fs.S3FileSystem(key=s.access_key, secret=s.secret_key, client_kwargs={"endpoint_url": s.endpoint_url})

    def put_many(items):
        fs.pipe({f"{BUCKET}/{k}": v for k, v in items})

    def get_many(keys):
        return list(fs.cat([f"{BUCKET}/{k}" for k in keys]).values())

    def put_file(path, key):
        fs.put_file(str(path), f"{BUCKET}/{key}")

    def get_file(key, path):
        fs.get_file(f"{BUCKET}/{key}", str(path))

    return put_many, get_many, put_file, get_file


CLIENTS = {"boto3": boto3_client, "obstore": obstore_client, "s3fs": s3fs_client}


def import_seconds(module: str) -> float | None:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    return float(out.stdout) if out.returncode == 0 else None


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--size-kb", type=int, default=30)
    ap.add_argument("--large-mb", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    docs_output.add_argument(ap)
    args = ap.parse_args()
    small = [os.urandom(args.size_kb << 10) for _ in range(args.files)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, running_seaweed(Path(tmp)) as server:
        large = Path(tmp) / "large.bin"
        large.write_bytes(os.urandom(args.large_mb << 20))
        for name, make in CLIENTS.items():
            try:
                put_many, get_many, put_file, get_file = make(server)
            except ImportError:
                print(f"{name}: not installed, skipped")
                continue
            items = [(f"bench/{name}/{i:05d}", b) for i, b in enumerate(small)]
            keys = [k for k, _ in items]
            put_s = best(lambda: put_many(items), args.rounds)  # noqa: B023
            get_s = best(lambda: get_many(keys), args.rounds)  # noqa: B023
            assert get_many(keys) == small, name
            big_put = best(lambda: put_file(large, f"bench/{name}/large"), args.rounds)  # noqa: B023
            out = Path(tmp) / f"{name}.out"
            big_get = best(lambda: get_file(f"bench/{name}/large", out), args.rounds)  # noqa: B023
            assert out.stat().st_size == large.stat().st_size, name
            rows.append((name, put_s, get_s, big_put, big_get, import_seconds(name)))
    mb = args.files * args.size_kb / 1024
    print(f"{args.files} files x {args.size_kb} KB ({mb:.1f} MB) and one {args.large_mb} MB file, seconds, best of "
          f"{args.rounds}; SeaweedFS on 127.0.0.1")  # fmt: skip
    print("| client | put small | get small | put large | get large | import |")
    print("|---|---|---|---|---|---|")
    for name, put_s, get_s, big_put, big_get, imp in rows:
        print(f"| {name} | {put_s:.2f} | {get_s:.2f} | {big_put:.2f} | {big_get:.2f} | {imp or float('nan'):.2f} |")


if __name__ == "__main__":
    sys.exit(docs_output.run(main, __file__))
