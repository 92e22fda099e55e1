"""Property-based run of the document, version and search endpoints, signed in: whatever the
input, no 5xx and every response matches its schema."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.schemathesis import failure_output, run_schemathesis
from tests.support.server import ServerProcess

PASSWORD = "correct horse battery staple"


def _signed_in_owner_with_a_document(base_url: str) -> tuple[str, str, str]:
    """(Authorization header value, workspace id, document id) of a fresh owner."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        body = {"email": "fuzz@example.com", "password": PASSWORD, "full_name": "Fuzz"}
        assert client.post("/api/v1/auth/register", json=body).status_code == 201
        tokens = client.post(
            "/api/v1/auth/login", json={"email": body["email"], "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        workspace = client.post("/api/v1/workspaces", json={"name": "Fuzz"}, headers=headers)
        url = f"/api/v1/workspaces/{workspace.json()['id']}/documents"
        document = {"title": "Target", "content": "some words to find", "tags": ["t"]}
        created = client.post(url, json=document, headers=headers)
        assert created.status_code == 201
        return headers["Authorization"], workspace.json()["id"], created.json()["id"]


def test_document_endpoints_hold_their_schema(server: ServerProcess, tmp_path: Path) -> None:
    authorization, workspace_id, document_id = _signed_in_owner_with_a_document(server.base_url)
    # Aim the generated requests at objects that exist, so they get past the 404s.
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'[parameters]\n"path.workspace_id" = "{workspace_id}"\n'
        f'"path.document_id" = "{document_id}"\n'
    )
    result = run_schemathesis(
        server.base_url,
        tmp_path,
        "^/api/v1/(search|documents/|workspaces/[^/]+/(documents|tags))",
        token=authorization.removeprefix("Bearer "),
        config=config,
        timeout=600,
    )
    assert result.returncode == 0, failure_output(result)
