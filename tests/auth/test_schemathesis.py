"""Property-based run of the auth and user endpoints: no 5xx, every response matches its schema."""

from __future__ import annotations

from pathlib import Path

from tests.support.schemathesis import failure_output, run_schemathesis
from tests.support.server import ServerProcess


def test_auth_endpoints_hold_their_schema(server: ServerProcess, tmp_path: Path) -> None:
    result = run_schemathesis(server.base_url, tmp_path, "^/api/v1/(auth|users)/")
    assert result.returncode == 0, failure_output(result)
