"""Workload 10: data in and out. Import of a generated Markdown zip (documents/s), export of the
workspace it made (MB/s), each as its own `cowrite` process with its peak RSS; and the same
200 MB blob uploaded and read back in ranges on local disk and on S3 (moto, so the ratio counts,
not the absolute numbers)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.report import Row
from bench.workloads import Context, Outcome

SIZES = {
    # documents, attachments, bytes per attachment, blob for the storage comparison
    True: (1_000, 20, 512 * 1024, 50 * 1024 * 1024),
    False: (10_000, 100, 2 * 1024 * 1024, 200 * 1024 * 1024),
}
RANGE_BYTES = 1024 * 1024
RANGES = 50
PASSWORD = "bench-password-1234"


def _timed_child(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """Run a child to its end: wall seconds, its own peak RSS in KB, and what it said."""
    started = time.perf_counter()
    child = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{args[1:]} failed: {output[-2000:]}")
    return time.perf_counter() - started, usage.ru_maxrss, output


def _archive(path: Path, documents: int, attachments: int, attachment_bytes: int) -> int:
    """Another tool's Markdown export: notes linking to images in a folder beside them."""
    filler = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 30).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(documents):
            link = f"\n![figure](images/figure-{n % attachments}.bin)\n" if n < attachments else ""
            archive.writestr(
                f"notes/note-{n:05d}.md", b"# Note %d\n\n" % n + filler + link.encode()
            )
        for n in range(attachments):
            archive.writestr(
                f"notes/images/figure-{n}.bin", os.urandom(attachment_bytes), zipfile.ZIP_STORED
            )
    return path.stat().st_size


async def _workspace(env: dict[str, str]) -> str:
    """A user and a workspace, made through the API in this process."""
    import httpx

    from cowrite.app import create_app
    from cowrite.config import Settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = create_app(Settings())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                body = {"email": "bench@example.com", "password": PASSWORD, "full_name": "Bench"}
                await client.post("/api/v1/auth/register", json=body)
                login = await client.post(
                    "/api/v1/auth/login", json={"email": body["email"], "password": PASSWORD}
                )
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                made = await client.post(
                    "/api/v1/workspaces", json={"name": "Bench"}, headers=headers
                )
                workspace_id: str = made.json()["id"]
                return workspace_id
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _import_export(ctx: Context, work: Path) -> tuple[list[Row], dict[str, Any]]:
    documents, attachments, attachment_bytes, _ = SIZES[ctx.quick]
    env = {
        **os.environ,
        "COWRITE_DATA_DIR": str(work / "data"),
        "COWRITE_PASSWORD_HASH_MEMORY_KIB": "64",
        "COWRITE_PASSWORD_HASH_TIME_COST": "1",
        "COWRITE_IMPORT_MAX_ENTRIES": str(documents + attachments + 10),
    }
    env.pop("COWRITE_DATABASE_URL", None)
    cowrite = [sys.executable, "-m", "cowrite"]
    subprocess.run([*cowrite, "db", "upgrade"], env=env, cwd=work, check=True, capture_output=True)
    workspace_id = asyncio.run(_workspace(env))
    source = work / "source.zip"
    source_bytes = _archive(source, documents, attachments, attachment_bytes)
    imported_s, import_rss, _ = _timed_child(
        [*cowrite, "import", "--workspace", workspace_id, str(source)], env, work
    )
    # What starting the command costs before it does any work (imports, mostly): a busy machine
    # makes it large, so it is shown beside the two runs.
    startup_s, startup_rss, _ = _timed_child(
        [sys.executable, "-c", "import cowrite.app, cowrite.transfer.commands"], env, work
    )
    out = work / "export.zip"
    exported_s, export_rss, _ = _timed_child(
        [*cowrite, "export", "--workspace", workspace_id, "--out", str(out)], env, work
    )
    export_bytes = out.stat().st_size
    with zipfile.ZipFile(out) as archive:
        exported_documents = sum(1 for name in archive.namelist() if name.endswith(".md"))
    if exported_documents != documents:
        raise RuntimeError(f"exported {exported_documents} documents of {documents}")
    label = f"{documents:,} docs + {attachments} files of {attachment_bytes // 1024} KB"
    rows = [
        Row(
            "10 data in/out",
            "command start-up alone (in each figure below)",
            {"cowrite-sqlite": f"{startup_s:.1f} s, peak RSS {startup_rss / 1024:.0f} MB"},
        ),
        Row(
            "10 data in/out",
            f"import ({label})",
            {
                "cowrite-sqlite": f"{documents / imported_s:,.0f} docs/s, "
                f"peak RSS {import_rss / 1024:.0f} MB"
            },
        ),
        Row(
            "10 data in/out",
            f"export ({label})",
            {
                "cowrite-sqlite": f"{export_bytes / exported_s / 1e6:,.1f} MB/s, "
                f"{documents / exported_s:,.0f} docs/s, peak RSS {export_rss / 1024:.0f} MB"
            },
            budget="peak RSS <= 200 MB",
            verdict="ok" if export_rss / 1024 <= 200 else "over",
        ),
    ]
    raw = {
        "documents": documents,
        "startup_seconds": startup_s,
        "source_bytes": source_bytes,
        "import_seconds": imported_s,
        "import_peak_rss_kb": import_rss,
        "export_bytes": export_bytes,
        "export_seconds": exported_s,
        "export_peak_rss_kb": export_rss,
    }
    return rows, raw


async def _pieces(total: int, piece: int = 1024 * 1024) -> AsyncIterator[bytes]:
    block = os.urandom(piece)
    for _ in range(total // piece):
        yield block


async def _store_times(store: Any, size: int) -> tuple[float, float]:
    started = time.perf_counter()
    blob = await store.put(_pieces(size))
    uploaded = time.perf_counter() - started
    started = time.perf_counter()
    step = (size - RANGE_BYTES) // RANGES
    for n in range(RANGES):
        reader = await store.open(blob.key)
        async for _ in reader.chunks(n * step, RANGE_BYTES):
            pass
    ranged = time.perf_counter() - started
    await store.delete(blob.key)
    return uploaded, ranged


def _storage(ctx: Context, work: Path) -> tuple[list[Row], dict[str, Any]]:
    from cowrite.storage.local import LocalBlobStore
    from cowrite.storage.s3 import S3BlobStore
    from tests.support.s3 import start_s3

    size = SIZES[ctx.quick][3]
    local = asyncio.run(_store_times(LocalBlobStore(work / "blobs"), size))
    servers = start_s3()
    server = next(servers)
    try:
        s3 = asyncio.run(_store_times(S3BlobStore.from_url(server.storage_url()), size))
    finally:
        servers.close()
    mb = size / 1e6
    rows = [
        Row(
            "10 data in/out",
            f"{mb:.0f} MB upload: local / S3 (moto)",
            {
                "cowrite": f"{mb / local[0]:,.0f} / {mb / s3[0]:,.0f} MB/s "
                f"(S3 takes {s3[0] / local[0]:.1f}x as long)"
            },
        ),
        Row(
            "10 data in/out",
            f"{RANGES} ranged reads of 1 MB: local / S3 (moto)",
            {
                "cowrite": f"{local[1] * 1000 / RANGES:.1f} / {s3[1] * 1000 / RANGES:.1f} ms "
                f"each (S3 takes {s3[1] / local[1]:.1f}x as long)"
            },
        ),
    ]
    return rows, {"blob_bytes": size, "local_seconds": local, "s3_seconds": s3}


def run(ctx: Context) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="cowrite-bench-transfer-") as name:
        work = Path(name)
        rows, raw = _import_export(ctx, work)
        storage_rows, storage_raw = _storage(ctx, work)
    return Outcome(rows=rows + storage_rows, raw={**raw, "storage": storage_raw})
