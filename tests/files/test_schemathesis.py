"""Property-based run of the files endpoints with real ids: no 5xx, responses match the schema."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.factories import make_user
from tests.support.server import ServerProcess
from tests.support.workspaces import make_workspace


async def test_files_endpoints_hold_their_schema(server: ServerProcess, tmp_path: Path) -> None:
    st = shutil.which("st", path=os.path.dirname(sys.executable)) or shutil.which("st")
    assert st, "schemathesis is a dev dependency"
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
        subprocess.run,
        [
            st,
            "--config-file",
            str(config),
            "run",
            f"{server.base_url}/openapi.json",
            "--include-path-regex",
            "/files",
            "--exclude-method",
            "DELETE",  # deleting the one file would leave the others nothing but 404s
            "-H",
            f"Authorization: Bearer {owner.access_token}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            "25",
            "--phases",
            "examples,coverage,fuzzing",
            "--generation-deterministic",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
