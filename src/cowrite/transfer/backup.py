"""Backups: one zip holding a consistent database snapshot, the blobs its rows point at, and a
manifest with every entry's SHA-256; restore checks them all before it writes anything.

SQLite is copied with its online backup API (a consistent snapshot while the server writes);
PostgreSQL with `pg_dump` (one snapshot transaction) and restored with `pg_restore`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from cowrite.config import Settings
from cowrite.kit.clock import utcnow
from cowrite.storage import BlobNotFound, BlobStore

FORMAT = "cowrite-backup"
MANIFEST = "manifest.json"
SQLITE_ENTRY = "database/cowrite.db"
PG_ENTRY = "database/cowrite.pgdump"
CHUNK = 1024 * 1024

Step = Callable[[str, int, int], None]  # (phase, done, total)


class BackupError(Exception):
    """Why a backup or restore could not be done, for the operator."""


@dataclass
class BackupReport:
    path: Path
    blobs: int
    missing_blobs: list[str] = field(default_factory=list)
    size: int = 0


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.resolved_database_url).database
    if not database:
        raise BackupError("The SQLite database URL names no file")
    return Path(database)


def _libpq_dsn(settings: Settings) -> str:
    url = make_url(settings.resolved_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise BackupError(
            f"`{tool}` was not found on PATH: install the PostgreSQL client tools "
            f"(the same major version as the server) to back up or restore PostgreSQL"
        )
    return found


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def snapshot_database(settings: Settings, target: Path) -> tuple[str, str]:
    """Write a consistent copy of the database to `target`; returns (kind, archive entry)."""
    if settings.is_sqlite:
        source = sqlite3.connect(_sqlite_path(settings))
        copy = sqlite3.connect(target)
        try:
            # One step: the whole copy reads one snapshot (WAL lets the server keep writing).
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return "sqlite", SQLITE_ENTRY
    dump = _require("pg_dump")
    result = subprocess.run(
        [dump, "--format=custom", "--no-owner", f"--file={target}", _libpq_dsn(settings)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return "postgresql", PG_ENTRY


def _sqlite_keys(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT storage_key FROM files UNION "
            "SELECT result_key FROM jobs WHERE result_key IS NOT NULL"
        ).fetchall()
    finally:
        connection.close()
    return sorted(row[0] for row in rows)


async def _postgres_keys(settings: Settings) -> list[str]:
    connection = await asyncpg.connect(_libpq_dsn(settings))
    try:
        rows = await connection.fetch(
            "SELECT storage_key AS key FROM files UNION "
            "SELECT result_key FROM jobs WHERE result_key IS NOT NULL"
        )
    finally:
        await connection.close()
    return sorted(row["key"] for row in rows)


async def _blob_chunks(store: BlobStore, key: str) -> AsyncIterator[bytes]:
    reader = await store.open(key)
    async for chunk in reader.chunks(0, reader.size):
        yield chunk


async def create_backup(
    settings: Settings, store: BlobStore, out: Path, step: Step | None = None
) -> BackupReport:
    """Snapshot the database, then copy the blobs the snapshot's rows point at."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cowrite-backup-", dir=out.parent))
    try:
        if step:
            step("database", 0, 1)
        snapshot = work / "database"
        kind, entry = await asyncio.to_thread(snapshot_database, settings, snapshot)
        if step:
            step("database", 1, 1)
        keys = (
            await asyncio.to_thread(_sqlite_keys, snapshot)
            if kind == "sqlite"
            else await _postgres_keys(settings)
        )
        partial = work / "backup.zip"
        entries: list[dict[str, Any]] = []
        report = BackupReport(path=out, blobs=0)
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            await asyncio.to_thread(archive.write, snapshot, entry)
            entries.append(
                {
                    "path": entry,
                    "size": snapshot.stat().st_size,
                    "sha256": await asyncio.to_thread(_sha256_file, snapshot),
                }
            )
            for done, key in enumerate(keys, 1):
                digest, size = hashlib.sha256(), 0
                name = f"blobs/{key}"
                try:
                    info = zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6])
                    with archive.open(info, "w", force_zip64=True) as handle:
                        async for chunk in _blob_chunks(store, key):
                            digest.update(chunk)
                            size += len(chunk)
                            await asyncio.to_thread(handle.write, chunk)
                except BlobNotFound:
                    # Deleted after the snapshot was taken (its row is gone from the server).
                    report.missing_blobs.append(key)
                    continue
                entries.append({"path": name, "size": size, "sha256": digest.hexdigest()})
                report.blobs += 1
                if step:
                    step("blobs", done, len(keys))
            manifest = {
                "format": FORMAT,
                "version": 1,
                "created_at": utcnow().isoformat(),
                "database": kind,
                "entries": entries,
                "missing_blobs": report.missing_blobs,
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        os.replace(partial, out)
        report.size = await asyncio.to_thread(os.path.getsize, out)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- restore -------------------------------------------------------------------------------------


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise BackupError(f"Not a cowrite backup: {MANIFEST} is missing or broken") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("Not a cowrite backup")
    return manifest


def verify(archive: zipfile.ZipFile, manifest: dict[str, Any], step: Step | None = None) -> None:
    """Every entry's checksum, before anything is written."""
    entries = manifest["entries"]
    for done, entry in enumerate(entries, 1):
        digest = hashlib.sha256()
        try:
            with archive.open(entry["path"]) as handle:
                while block := handle.read(CHUNK):
                    digest.update(block)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise BackupError(f"{entry['path']}: {exc}") from exc
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{entry['path']}: checksum mismatch; the backup is damaged")
        if step:
            step("verify", done, len(entries))


async def _postgres_is_empty(settings: Settings) -> bool:
    connection = await asyncpg.connect(_libpq_dsn(settings))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    return int(count) == 0


async def _store_is_empty(store: BlobStore) -> bool:
    async for _ in store.list_keys():
        return False
    return True


async def _require_empty(settings: Settings, store: BlobStore, kind: str) -> None:
    expected = "sqlite" if settings.is_sqlite else "postgresql"
    if kind != expected:
        raise BackupError(f"This backup holds a {kind} database; the target is {expected}")
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"The target database {path} exists: restore needs an empty one")
    elif not await _postgres_is_empty(settings):
        raise BackupError("The target PostgreSQL database has tables: restore needs an empty one")
    if not await _store_is_empty(store):
        raise BackupError("The target file storage holds files: restore needs an empty one")


async def _entry_chunks(archive: zipfile.ZipFile, name: str) -> AsyncIterator[bytes]:
    with archive.open(name) as handle:
        while block := await asyncio.to_thread(handle.read, CHUNK):
            yield block


def _restore_database(settings: Settings, archive: zipfile.ZipFile, kind: str) -> None:
    if kind == "sqlite":
        path = _sqlite_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".restoring")
        with archive.open(SQLITE_ENTRY) as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
            target.flush()
            os.fsync(target.fileno())
        os.replace(partial, path)
        return
    restore = _require("pg_restore")
    with tempfile.NamedTemporaryFile(suffix=".pgdump") as dump:
        with archive.open(PG_ENTRY) as source:
            shutil.copyfileobj(source, dump, CHUNK)
        dump.flush()
        result = subprocess.run(
            [
                restore,
                "--no-owner",
                "--exit-on-error",
                f"--dbname={_libpq_dsn(settings)}",
                dump.name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


async def restore_backup(
    settings: Settings, store: BlobStore, source: Path, step: Step | None = None
) -> int:
    """Verify the archive, check that the target is empty, then write the database and blobs;
    returns how many blobs were restored."""
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{source}: not a readable backup ({exc})") from exc
    with archive:
        manifest = read_manifest(archive)
        await asyncio.to_thread(verify, archive, manifest, step)
        kind = str(manifest["database"])
        await _require_empty(settings, store, kind)
        await asyncio.to_thread(_restore_database, settings, archive, kind)
        blobs = [entry for entry in manifest["entries"] if entry["path"].startswith("blobs/")]
        for done, entry in enumerate(blobs, 1):
            key = entry["path"].removeprefix("blobs/")
            await store.put_as(key, _entry_chunks(archive, entry["path"]))
            if step:
                step("blobs", done, len(blobs))
    return len(blobs)
