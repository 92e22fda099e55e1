"""Hostile or broken imports fail the job with a clear error and leave nothing behind."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.support.files import file_rows, stored_blobs
from tests.support.transfer import claim_size, import_file, make_zip, zip_with_symlink
from tests.support.workspaces import Team
from tests.transfer.conftest import MAX_ENTRIES, MAX_IMPORT_UPLOAD, MAX_TOTAL

PICTURE = b"\x89PNG" + bytes(range(256)) * 8


async def _document_titles(client: httpx.AsyncClient, team: Team) -> list[str]:
    response = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/documents", headers=team.owner.headers
    )
    return sorted(item["title"] for item in response.json()["items"])


async def _assert_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    team: Team,
    data_dir: Path,
    archive: bytes,
    message: str,
) -> None:
    job = await import_file(client, team.editor, team.workspace_id, "upload.zip", archive)
    assert job["status"] == "failed"
    assert message in job["error"]
    assert await _document_titles(client, team) == []
    assert await file_rows(app) == 0
    assert stored_blobs(data_dir) == []  # the attachments written and the upload: all gone


def _good(extra: dict[str, bytes]) -> dict[str, bytes]:
    """A valid document with an attachment, which is written before the bad entry is met."""
    return {"a.md": b"![p](pic.png)\n", "pic.png": PICTURE, **extra}


HOSTILE = {
    "traversal": (make_zip(_good({"../../escape.md": b"x"})), "points outside the archive"),
    "absolute": (make_zip(_good({"/etc/cron.d/evil.md": b"x"})), "has an absolute path"),
    "windows absolute": (make_zip(_good({"C:/evil.md": b"x"})), "has an absolute path"),
    "too many entries": (
        make_zip({f"n{i}.md": b"x" for i in range(MAX_ENTRIES + 1)}),
        f"at most {MAX_ENTRIES} are allowed",
    ),
    "too large in total": (
        make_zip(
            _good({f"big{i}.bin": bytes(range(256)) * 4096 for i in range(5)}),
            zipfile.ZIP_STORED,
        ),
        f"unpacks to more than {MAX_TOTAL:,} bytes",
    ),
    "zip bomb": (make_zip(_good({"bomb.md": b"\0" * (3 * 1024 * 1024)})), "a zip bomb?"),
    "claims 2 GB": (
        claim_size(make_zip(_good({"huge.md": b"small"})), "huge.md", 2**31),
        "claims 2,147,483,648 bytes",
    ),
    "corrupt": (b"PK\x03\x04 this is not really a zip archive", "not a readable zip archive"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_hostile_archive_fails_cleanly(
    app: FastAPI, client: httpx.AsyncClient, team: Team, data_dir: Path, kind: str
) -> None:
    archive, message = HOSTILE[kind]
    await _assert_refused(app, client, team, data_dir, archive, message)


async def test_damaged_entry_rolls_back_what_was_written(
    app: FastAPI, client: httpx.AsyncClient, team: Team, data_dir: Path
) -> None:
    """The first attachment is stored before the second turns out damaged: it must go again."""
    broken = b"BROKEN-ATTACHMENT" * 64
    files = {"a.md": b"![p](pic.png) ![q](bad.png)\n", "pic.png": PICTURE, "bad.png": broken}
    archive = bytearray(make_zip(files, zipfile.ZIP_STORED))
    start = archive.index(broken)
    archive[start + 100 : start + 104] = b"XXXX"  # its CRC no longer matches
    await _assert_refused(app, client, team, data_dir, bytes(archive), "is damaged")


async def test_symlinks_are_ignored(client: httpx.AsyncClient, team: Team) -> None:
    archive = zip_with_symlink("passwd.md", "/etc/passwd", {"real.md": b"real text\n"})
    job = await import_file(client, team.editor, team.workspace_id, "links.zip", archive)
    assert job["status"] == "done", job
    assert await _document_titles(client, team) == ["real"]


async def test_a_viewer_may_not_import(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/imports",
        files={"file": ("a.md", b"x", "text/markdown")},
        headers=team.viewer.headers,
    )
    assert response.status_code == 403


async def test_an_upload_over_the_import_limit_is_413_and_stores_nothing(
    client: httpx.AsyncClient, team: Team, data_dir: Path
) -> None:
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/imports",
        files={"file": ("big.zip", b"\0" * (MAX_IMPORT_UPLOAD + 1), "application/zip")},
        headers=team.editor.headers,
    )
    assert response.status_code == 413
    assert stored_blobs(data_dir) == []
