"""Peak memory of a real `cowrite serve` while it receives one large upload (run by hand).

    .venv/bin/python -m tests.files.measure_upload_rss [--mib 200]

Starts a server on an embedded SQLite database in a temporary directory with the upload limit
raised, streams a file of the given size to it, and prints the server process's resident memory
before the upload and its high-water mark (VmHWM) after. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.factories import PASSWORD, unique_email
from tests.support.files import MULTIPART, closing, part
from tests.support.server import ServerProcess

PIECE = 1024 * 1024


def _memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def _body(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    head = part("file", b"", filename="big.bin", content_type="application/octet-stream")
    yield head[: -len(b"\r\n")]
    block = bytes(range(256)) * (PIECE // 256)
    for offset in range(0, size, PIECE):
        chunk = block[: min(PIECE, size - offset)]
        digest.update(chunk)
        yield chunk
    yield b"\r\n" + closing()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200, help="size of the upload in MiB")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            "COWRITE_DATA_DIR": str(Path(workdir) / "data"),
            "COWRITE_SECRET_KEY": "measure-upload-rss-secret-key-0123456789abcdef",
            "COWRITE_PASSWORD_HASH_MEMORY_KIB": "64",
            "COWRITE_PASSWORD_HASH_TIME_COST": "1",
            "COWRITE_LOG_LEVEL": "warning",
            "COWRITE_MAX_UPLOAD_BYTES": str(size + PIECE),
            "COWRITE_WORKSPACE_QUOTA_BYTES": str(4 * size),
        }
        server = ServerProcess(env=env, workdir=Path(workdir)).start()
        try:
            assert server.process is not None
            pid = server.process.pid
            with httpx.Client(base_url=server.base_url, timeout=600) as client:
                email = unique_email("rss")
                client.post(
                    "/api/v1/auth/register",
                    json={"email": email, "password": PASSWORD, "full_name": "Rss"},
                ).raise_for_status()
                token = client.post(
                    "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                workspace = client.post(
                    "/api/v1/workspaces", json={"name": "rss"}, headers=headers
                ).json()
                before = _memory_kib(pid)
                digest = hashlib.sha256()
                started = time.perf_counter()
                response = client.post(
                    f"/api/v1/workspaces/{workspace['id']}/files",
                    content=_body(size, digest),
                    headers={**headers, "Content-Type": MULTIPART},
                )
                elapsed = time.perf_counter() - started
                after = _memory_kib(pid)
            response.raise_for_status()
            assert response.json()["sha256"] == digest.hexdigest()
        finally:
            server.stop()
    print(f"upload: {args.mib} MiB in {elapsed:.1f} s ({args.mib / elapsed:.0f} MiB/s), sha256 ok")
    print(f"server RSS before upload: {before['VmRSS'] / 1024:.1f} MiB")
    print(f"server peak RSS before upload (VmHWM): {before['VmHWM'] / 1024:.1f} MiB")
    print(f"server peak RSS after upload (VmHWM): {after['VmHWM'] / 1024:.1f} MiB")
    print(
        f"growth of the peak during the upload: {(after['VmHWM'] - before['VmHWM']) / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    main()
