"""Object storage for a data root that is an `s3://bucket/prefix` URL: whole objects in, whole objects out.

The only module that talks to the object store (boto3: benchmarks/bench_store.py measured the clients). Every
object is written by one PUT (or a multipart upload, invisible until complete), so a key holds a whole object or
nothing; a download lands in a hidden temporary file beside its destination and is renamed into place only when
complete. Every failure is one StoreError line that names the URL. Credentials come from the settings or the usual
environment and are never logged, returned or put in a message.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.environment import environment, variable
from core.errors import UserError

__all__ = ["ObjectStore", "StoreError", "split_url"]

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
ATTEMPTS = 3  # per request, with the client's backoff: a blip is retried, a stopped server fails in seconds
MULTIPART_MB = 64  # larger files go in parts (each part retried alone); an unfinished upload is never visible
_DENIED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "403"}
_NO_BUCKET = {"NoSuchBucket"}
_NO_KEY = {"NoSuchKey", "404", "NotFound"}


class StoreError(RuntimeError, UserError):
    """The object store cannot be reached, refuses the credentials, lacks the bucket or the object, or holds an
    object that is not what its manifest says: one line naming the URL."""


class MissingObject(StoreError):
    """No object under this key (a snapshot or run that was never published, or not completely)."""


def split_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> (`bucket`, `some/prefix`); a URL without a bucket is a StoreError."""
    if not url.startswith("s3://"):
        raise StoreError(f"{url}: not an object-store URL; allowed: s3://bucket/prefix")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise StoreError(f"{url}: no bucket; allowed: s3://bucket/prefix")
    return bucket, prefix.strip("/")


@dataclass(frozen=True)
class ObjectStore:
    """One bucket and prefix on one S3-compatible endpoint; keys are relative to the prefix."""

    url: str  # s3://bucket/prefix
    endpoint_url: str | None = None
    region: str = "us-east-1"
    client: Any = None  # a boto3 S3 client (thread-safe: one is shared by the transfer threads)

    @classmethod
    def from_environment(cls, url: str) -> ObjectStore:
        """The store at `url` with the endpoint and credentials of the SAKURA_S3_* settings (else boto3's chain)."""
        env = environment()
        key = env.s3_access_key_id.get_secret_value() if env.s3_access_key_id else None
        secret = env.s3_secret_access_key.get_secret_value() if env.s3_secret_access_key else None
        return cls.connect(url, env.s3_endpoint_url, env.s3_region, key, secret)

    @classmethod
    def connect(
        cls,
        url: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> ObjectStore:
        """A store whose client talks to `endpoint_url` with these credentials; nothing is sent yet."""
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise StoreError(f"{url}: an s3:// data root needs boto3: pip install -e '.[s3]'") from None

        split_url(url)
        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": ATTEMPTS, "mode": "standard"},
            s3={"addressing_style": "path"},  # S3-compatible servers on an IP:port have no bucket subdomains
            max_pool_connections=32,
        )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )
        return cls(url.rstrip("/"), endpoint_url, region, client)

    def __repr__(self) -> str:  # never the client (it holds the credentials)
        return f"ObjectStore({self.url!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def bucket(self) -> str:
        return split_url(self.url)[0]

    def key(self, name: str) -> str:
        """The full object key of `name` (relative to the prefix)."""
        prefix = split_url(self.url)[1]
        return f"{prefix}/{name}" if prefix else name

    def url_of(self, name: str) -> str:
        return f"{self.url}/{name}"

    def check(self) -> None:
        """One request that proves the endpoint answers, the credentials are accepted and the bucket exists."""
        with self._errors(self.url, bucket=True):
            self.client.head_bucket(Bucket=self.bucket)

    def exists(self, name: str) -> bool:
        """Whether an object is under `name` (a whole one: S3 never shows a partial object)."""
        try:
            with self._errors(self.url_of(name)):
                self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except MissingObject:
            return False
        return True

    def put_bytes(self, name: str, data: bytes) -> None:
        """One PUT: the object appears whole or not at all."""
        with self._errors(self.url_of(name)):
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data)

    def get_bytes(self, name: str) -> bytes:
        with self._errors(self.url_of(name)):
            return self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()

    def put_file(self, path: Path, name: str) -> None:
        """Upload a file: one PUT, or parts above MULTIPART_MB (an unfinished multipart upload is aborted, and never
        shown)."""
        from boto3.s3.transfer import TransferConfig

        with self._errors(self.url_of(name)):
            if path.stat().st_size < MULTIPART_MB << 20:
                with open(path, "rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=body)
                return
            cfg = TransferConfig(multipart_threshold=MULTIPART_MB << 20, multipart_chunksize=MULTIPART_MB << 20)
            self.client.upload_file(str(path), self.bucket, self.key(name), Config=cfg)

    @contextlib.contextmanager
    def download(self, name: str, dest: Path) -> Iterator[Path]:
        """Download `name` into a hidden temporary file beside `dest`, yield it (to verify), then rename it to `dest`;
        on any failure the temporary file is removed and `dest` is left as it was."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        try:
            with self._errors(self.url_of(name)):
                self.client.download_file(self.bucket, self.key(name), tmp)
            yield Path(tmp)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def delete(self, name: str) -> None:
        with self._errors(self.url_of(name)):
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    @contextlib.contextmanager
    def _errors(self, url: str, bucket: bool = False) -> Iterator[None]:
        """The client's exceptions as one StoreError line naming `url` (never the credentials)."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        try:
            yield
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in _DENIED:
                raise StoreError(
                    f"{url}: the object store{at} refused the credentials ({code}); check "
                    f"{variable('s3_access_key_id')} and {variable('s3_secret_access_key')}"
                ) from None
            if code in _NO_BUCKET or (bucket and code in _NO_KEY):
                raise StoreError(f"{url}: bucket {self.bucket} does not exist{at}") from None
            if code in _NO_KEY:
                raise MissingObject(f"{url}: no such object{at}") from None
            raise StoreError(f"{url}: the object store{at} answered {code}: {_first_line(e)}") from None
        except (BotoCoreError, Boto3Error) as e:  # unreachable, cut off, timed out; boto3's transfer errors
            inner = e.__cause__ or e.__context__
            if isinstance(inner, ClientError):
                with self._errors(url, bucket):
                    raise inner from None
            raise StoreError(f"{url}: the object store{at} failed: {type(e).__name__}: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__
