"""Property-based run of the files endpoints with real ids: no 5xx, responses match the schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support.factories import make_user
from tests.support.schemathesis import failure_output, run_schemathesis
from tests.support.server import ServerProcess
from tests.support.workspaces import make_workspace

# The schema does not depend on where blobs are stored: one backend is enough.
pytestmark = pytest.mark.parametrize("storage_backend", ["local"])


async def test_files_endpoints_hold_their_schema(server: ServerProcess, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        owner = await make_user(client)
        workspace = await make_workspace(client, owner)
        stored = await client.post(
            f"/api/v1/workspaces/{workspace['id']}/files",
            files={"file": ("seed.txt", b"seed", "text/plain")},
            headers=owner.headers,
        )
        assert stored.status_code == 201, stored.text
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        f'"path.workspace_id" = "{workspace["id"]}"\n'
        f'"path.file_id" = "{stored.json()["id"]}"\n'
    )
    result = await asyncio.to_thread(
        run_schemathesis,
        server.base_url,
        tmp_path,
        "/files",
        token=owner.access_token,
        config=config,
        checks="not_a_server_error,response_schema_conformance",
        seed=None,
        # Deleting the one file would leave the others nothing but 404s.
        extra=["--exclude-method", "DELETE"],
    )
    assert result.returncode == 0, failure_output(result)
