"""Property-based run of the workspace endpoints as a signed-in user: no 5xx, schemas hold."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.factories import PASSWORD, unique_email
from tests.support.server import ServerProcess


def test_workspace_endpoints_hold_their_schema(server: ServerProcess, tmp_path: Path) -> None:
    st = shutil.which("st", path=os.path.dirname(sys.executable)) or shutil.which("st")
    assert st, "schemathesis is a dev dependency"
    email = unique_email("fuzz")
    with httpx.Client(base_url=server.base_url) as client:
        registered = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Fuzz"},
        )
        assert registered.status_code == 201, registered.text
        tokens = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
    result = subprocess.run(
        [
            st,
            "run",
            f"{server.base_url}/openapi.json",
            "--include-path-regex",
            "^/api/v1/workspaces",
            "--header",
            f"Authorization: Bearer {tokens.json()['access_token']}",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--max-examples",
            "25",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            "1",
            "--generation-deterministic",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
