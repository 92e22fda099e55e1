"""Property-based run of the auth and user endpoints: no 5xx, every response matches its schema."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.server import ServerProcess


def test_auth_endpoints_hold_their_schema(server: ServerProcess, tmp_path: Path) -> None:
    st = shutil.which("st", path=os.path.dirname(sys.executable)) or shutil.which("st")
    assert st, "schemathesis is a dev dependency"
    result = subprocess.run(
        [
            st,
            "run",
            f"{server.base_url}/openapi.json",
            "--include-path-regex",
            "^/api/v1/(auth|users)/",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--max-examples",
            "25",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "1",
            "--generation-deterministic",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
