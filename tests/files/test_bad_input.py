"""Hostile uploads: each gets a clean 4xx or is stored safely; nothing lands outside storage."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.support.files import (
    BOUNDARY,
    MULTIPART,
    BlobSpace,
    Team,
    closing,
    file_rows,
    multipart_body,
    part,
    stored_blobs,
    upload,
    upload_raw,
)

# (raw filename on the wire, the name stored and offered back)
HOSTILE_NAMES = [
    (b"../../../etc/passwd", "passwd"),
    (b"..\\..\\windows\\system32\\evil.dll", "evil.dll"),
    (b"..", "file"),
    (b"/", "file"),
    (b"report\x00.pdf.exe", "report.pdf.exe"),
    (b"in\x01voice\x1b[31m.txt", "invoice[31m.txt"),
    (b"tab\tand\x7fdel.txt", "tabanddel.txt"),
    ("invoice\u202egnp.exe".encode(), "invoicegnp.exe"),  # right-to-left override
    ("..\uff0f..\uff0fsecret.txt".encode(), "secret.txt"),  # full-width solidus
    ("a\u2215b\u2044c.txt".encode(), "a_b_c.txt"),  # division and fraction slash
    ("\uff41\uff44\uff4d\uff49\uff4e.txt".encode(), "admin.txt"),  # full-width letters
    (b'quo"te<>|?*.txt', "quo_te_____.txt"),
    (b"   .hidden  ", "hidden"),
    (b"", "file"),
]


def _files_outside(root: Path, data_dir: Path) -> list[Path]:
    """Files anywhere in the test's directory tree but the data dir."""
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_relative_to(data_dir) and "db-" not in str(path)
    ]


# Names against the local disk: the bucket has no paths to escape from.
@pytest.mark.parametrize("storage_backend", ["local"])
@pytest.mark.parametrize(("raw", "expected"), HOSTILE_NAMES)
async def test_hostile_filenames_are_stored_safely(
    client: httpx.AsyncClient, team: Team, data_dir: Path, tmp_path: Path, raw: bytes, expected: str
) -> None:
    response = await upload(client, team.editor, team.workspace_id, b"payload", filename=raw)
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == expected
    blobs = stored_blobs(data_dir)
    assert len(blobs) == 1
    assert blobs[0].resolve().is_relative_to((data_dir / "files").resolve())
    assert _files_outside(tmp_path, data_dir) == []
    download = await client.get(
        f"/api/v1/files/{response.json()['id']}/content", headers=team.editor.headers
    )
    disposition = download.headers["content-disposition"]
    assert disposition.isascii()
    assert "/" not in disposition.split("filename*=")[0]
    assert download.content == b"payload"


async def test_line_break_in_a_filename_breaks_the_part_headers(
    client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    response = await upload(
        client, team.editor, team.workspace_id, filename=b"a\r\nX-Injected: 1\r\n.txt"
    )
    assert response.status_code == 400
    assert stored_blobs(blobs) == []


async def test_thousand_character_name_is_shortened_keeping_its_extension(
    client: httpx.AsyncClient, team: Team
) -> None:
    response = await upload(client, team.editor, team.workspace_id, filename="n" * 1000 + ".pdf")
    assert response.status_code == 201
    name = response.json()["filename"]
    assert len(name) == 255
    assert name.endswith(".pdf")
    wide = await upload(client, team.editor, team.workspace_id, filename="语" * 1000)
    assert wide.status_code == 201
    assert wide.json()["filename"] == "语" * 255


async def test_no_boundary_is_400(client: httpx.AsyncClient, team: Team) -> None:
    body = multipart_body(b"data")
    response = await upload_raw(client, team.editor, team.workspace_id, body, "multipart/form-data")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_multipart"


async def test_wrong_boundary_is_400(client: httpx.AsyncClient, team: Team) -> None:
    body = multipart_body(b"data")
    response = await upload_raw(
        client, team.editor, team.workspace_id, body, "multipart/form-data; boundary=other"
    )
    assert response.status_code == 400


async def test_overlong_boundary_is_400(client: httpx.AsyncClient, team: Team) -> None:
    response = await upload_raw(
        client, team.editor, team.workspace_id, b"", f"multipart/form-data; boundary={'b' * 500}"
    )
    assert response.status_code == 400


async def test_not_multipart_is_415(client: httpx.AsyncClient, team: Team) -> None:
    for content_type in ("application/json", "text/plain", ""):
        response = await upload_raw(client, team.editor, team.workspace_id, b"{}", content_type)
        assert response.status_code == 415, content_type
        assert response.json()["code"] == "unsupported_media_type"


async def test_huge_part_headers_are_400(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    long_header = b"X-Padding: " + b"p" * 100_000 + b"\r\n"
    body = part("file", b"data", filename="a.txt", extra_headers=long_header) + closing()
    response = await upload_raw(client, team.editor, team.workspace_id, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_multipart"
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(50))
    body = part("file", b"data", filename="a.txt", extra_headers=many) + closing()
    assert (await upload_raw(client, team.editor, team.workspace_id, body)).status_code == 400
    huge_name = part("file", b"data", filename="n" * 100_000) + closing()
    assert (await upload_raw(client, team.editor, team.workspace_id, huge_name)).status_code == 400
    assert stored_blobs(blobs) == []
    assert await file_rows(app) == 0


async def test_body_cut_before_closing_boundary_is_400_and_leaves_nothing(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    body = multipart_body(b"x" * 50_000)
    for cut in (10, len(body) // 2, len(body) - 5):
        response = await upload_raw(client, team.editor, team.workspace_id, body[:cut])
        assert response.status_code == 400, cut
        assert response.json()["code"] == "invalid_multipart"
    assert stored_blobs(blobs) == []
    assert await file_rows(app) == 0


async def test_garbage_bodies_are_4xx(client: httpx.AsyncClient, team: Team) -> None:
    bodies = [
        b"",
        b"not multipart at all",
        b"--" + BOUNDARY.encode() + b"\r\n\r\n\r\n" + closing(),  # part without headers
        b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: attachment\r\n\r\nx\r\n" + closing(),
        b"--" + BOUNDARY.encode() + b"\r\nno colon here\r\n\r\nx\r\n" + closing(),
        b"\xff\xfe" * 1000,
    ]
    for body in bodies:
        response = await upload_raw(client, team.editor, team.workspace_id, body, MULTIPART)
        assert 400 <= response.status_code < 500, (body[:40], response.text)


async def test_too_many_parts_are_refused(client: httpx.AsyncClient, team: Team) -> None:
    body = b"".join(part(f"f{i}", b"x") for i in range(40)) + closing()
    response = await upload_raw(client, team.editor, team.workspace_id, body)
    assert response.status_code == 400
