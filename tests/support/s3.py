"""An S3-compatible server for tests: moto's, in this process, on a free loopback port, and a
view of what a test's blob store holds on either backend (local disk or the bucket)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

BUCKET = "cowrite-test"
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass
class S3Server:
    endpoint: str
    client: Any  # a boto3 S3 client, for looking at the bucket from outside

    def storage_url(self, prefix: str | None = None) -> str:
        prefix = prefix or f"run-{secrets.token_hex(6)}"
        return f"s3://{BUCKET}/{prefix}?endpoint_url={self.endpoint}&region={REGION}"


def start_s3() -> Iterator[S3Server]:
    """Start moto's server; yields it, stops it afterwards."""
    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.update(CREDENTIALS)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_bucket(Bucket=BUCKET)
        yield S3Server(endpoint, client)
    finally:
        server.stop()


class StoredBlob(Protocol):
    """A blob as a test sees it: a file on disk or an object in the bucket."""

    @property
    def name(self) -> str: ...

    def read_bytes(self) -> bytes: ...

    def unlink(self) -> None: ...


@dataclass
class BucketObject:
    name: str
    _client: Any
    _key: str

    def read_bytes(self) -> bytes:
        data: bytes = self._client.get_object(Bucket=BUCKET, Key=self._key)["Body"].read()
        return data

    def unlink(self) -> None:
        self._client.delete_object(Bucket=BUCKET, Key=self._key)


def bucket_blobs(server: S3Server, storage_url: str) -> list[StoredBlob]:
    """Every object under the store's prefix, and every unfinished multipart upload (as an
    object that cannot be read): what a test means by "nothing left behind"."""
    prefix = storage_url.split(BUCKET + "/", 1)[1].split("?", 1)[0] + "/"
    found: list[StoredBlob] = []
    listed = server.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    for item in listed.get("Contents", []):
        found.append(BucketObject(item["Key"].rsplit("/", 1)[-1], server.client, item["Key"]))
    uploads = server.client.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    for upload in uploads.get("Uploads", []):
        found.append(BucketObject("unfinished:" + upload["Key"], server.client, upload["Key"]))
    return sorted(found, key=lambda blob: blob.name)


def disk_blobs(data_dir: Path) -> list[StoredBlob]:
    root = data_dir / "files"
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file())  # type: ignore[return-value]
