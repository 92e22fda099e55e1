"""Property-based run of the workspace endpoints as a signed-in user: no 5xx, schemas hold."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.factories import PASSWORD, unique_email
from tests.support.schemathesis import failure_output, run_schemathesis
from tests.support.server import ServerProcess


def test_workspace_endpoints_hold_their_schema(server: ServerProcess, tmp_path: Path) -> None:
    email = unique_email("fuzz")
    with httpx.Client(base_url=server.base_url) as client:
        registered = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Fuzz"},
        )
        assert registered.status_code == 201, registered.text
        tokens = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
    result = run_schemathesis(
        server.base_url,
        tmp_path,
        "^/api/v1/workspaces",
        token=tokens.json()["access_token"],
        phases="examples,coverage,fuzzing,stateful",
        timeout=600,
    )
    assert result.returncode == 0, failure_output(result)
