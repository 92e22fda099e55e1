"""Downloading: a safe attachment, validators, byte ranges."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx

from tests.support.files import BlobSpace, Team, stored_blobs, upload

DATA = bytes(range(256)) * 40  # 10,240 bytes


async def _uploaded(client: httpx.AsyncClient, team: Team, **options: Any) -> dict[str, Any]:
    response = await upload(
        client, team.editor, team.workspace_id, options.pop("data", DATA), **options
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _get(
    client: httpx.AsyncClient, team: Team, file_id: str, **headers: str
) -> httpx.Response:
    return await client.get(
        f"/api/v1/files/{file_id}/content", headers={**team.viewer.headers, **headers}
    )


async def test_download_headers(client: httpx.AsyncClient, team: Team) -> None:
    stored = await _uploaded(client, team, filename="chart.png", content_type="image/png")
    response = await _get(client, team, stored["id"])
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"chart.png\"; filename*=UTF-8''chart.png"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "private" in response.headers["cache-control"]
    assert response.headers["etag"] == f'"{hashlib.sha256(DATA).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"


async def test_html_is_never_served_inline(client: httpx.AsyncClient, team: Team) -> None:
    page = b"<html><script>alert(document.cookie)</script></html>"
    stored = await _uploaded(client, team, data=page, filename="x.html", content_type="text/html")
    response = await _get(client, team, stored["id"])
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert "charset" not in response.headers["content-type"]  # nothing added to what was stored


async def test_a_lying_content_type_is_stored_as_declared_and_never_sniffed(
    client: httpx.AsyncClient, team: Team
) -> None:
    page = b"<!DOCTYPE html><script>alert(1)</script>"
    stored = await _uploaded(client, team, data=page, filename="cat.png", content_type="image/png")
    assert stored["content_type"] == "image/png"
    response = await _get(client, team, stored["id"])
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_invalid_declared_types_become_octet_stream(
    client: httpx.AsyncClient, team: Team
) -> None:
    for declared in ("text/html\x0bevil", "not a type", "text/", "../../x", "a/b/c"):
        stored = await _uploaded(client, team, content_type=declared)
        assert stored["content_type"] == "application/octet-stream", declared
    stored = await _uploaded(client, team, content_type=None)
    assert stored["content_type"] == "application/octet-stream"
    stored = await _uploaded(client, team, content_type="Text/Plain; charset=UTF-8")
    assert stored["content_type"] == "text/plain"


async def test_unicode_name_gets_ascii_fallback_and_utf8_form(
    client: httpx.AsyncClient, team: Team
) -> None:
    stored = await _uploaded(client, team, filename="Übersicht 2024 — résumé.pdf")
    response = await _get(client, team, stored["id"])
    disposition = response.headers["content-disposition"]
    assert disposition == (
        'attachment; filename="Ubersicht 2024 _ resume.pdf"; '
        "filename*=UTF-8''%C3%9Cbersicht%202024%20%E2%80%94%20r%C3%A9sum%C3%A9.pdf"
    )


async def test_if_none_match_answers_304(client: httpx.AsyncClient, team: Team) -> None:
    stored = await _uploaded(client, team)
    etag = f'"{stored["sha256"]}"'
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await _get(client, team, stored["id"], **{"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
    changed = await _get(client, team, stored["id"], **{"If-None-Match": '"other"'})
    assert changed.status_code == 200


async def test_single_ranges(client: httpx.AsyncClient, team: Team) -> None:
    stored = await _uploaded(client, team)
    size = len(DATA)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-10": (size - 10, size - 1),
        "bytes=10000-99999": (10000, size - 1),
        "bytes=-99999": (0, size - 1),
    }
    for header, (first, last) in cases.items():
        response = await _get(client, team, stored["id"], Range=header)
        assert response.status_code == 206, header
        assert response.content == DATA[first : last + 1]
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.headers["content-length"] == str(last - first + 1)


async def test_unsatisfiable_range_is_416(client: httpx.AsyncClient, team: Team) -> None:
    stored = await _uploaded(client, team)
    for header in (f"bytes={len(DATA)}-", "bytes=999999-1000000", "bytes=-0"):
        response = await _get(client, team, stored["id"], Range=header)
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{len(DATA)}"
        assert response.json()["code"] == "range_not_satisfiable"
    empty = await _uploaded(client, team, data=b"")
    response = await _get(client, team, empty["id"], Range="bytes=0-")
    assert response.status_code == 416


async def test_ranges_we_do_not_serve_fall_back_to_the_whole_file(
    client: httpx.AsyncClient, team: Team
) -> None:
    stored = await _uploaded(client, team)
    for header in ("bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=x-y", "bytes=-"):
        response = await _get(client, team, stored["id"], Range=header)
        assert response.status_code == 200, header
        assert response.content == DATA
    stale = await _get(client, team, stored["id"], Range="bytes=0-1", **{"If-Range": '"old"'})
    assert stale.status_code == 200
    fresh = await _get(
        client, team, stored["id"], Range="bytes=0-1", **{"If-Range": f'"{stored["sha256"]}"'}
    )
    assert fresh.status_code == 206
    assert fresh.content == DATA[:2]


async def test_a_row_whose_blob_vanished_is_a_clean_404(
    client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    stored = await _uploaded(client, team)
    assert len(stored_blobs(blobs)) == 1
    blobs.remove_all()
    response = await _get(client, team, stored["id"])
    assert response.status_code == 404
    assert response.json()["code"] == "file_content_missing"
    metadata = await client.get(f"/api/v1/files/{stored['id']}", headers=team.viewer.headers)
    assert metadata.status_code == 200


async def test_unknown_file_is_404(client: httpx.AsyncClient, team: Team) -> None:
    response = await _get(client, team, str(uuid.uuid4()))
    assert response.status_code == 404
