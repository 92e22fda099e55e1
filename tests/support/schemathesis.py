"""Run the schemathesis CLI against a real server's OpenAPI spec (property-based API tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

SCHEMA_CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def run_schemathesis(
    base_url: str,
    tmp_path: Path,
    include_path_regex: str,
    *,
    token: str | None = None,
    config: Path | None = None,
    checks: str = SCHEMA_CHECKS,
    phases: str = "examples,coverage,fuzzing",
    seed: int | None = 1,
    extra: Sequence[str] = (),
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`st run` over the matching operations; the caller asserts on the exit code."""
    st = shutil.which("st", path=os.path.dirname(sys.executable)) or shutil.which("st")
    assert st, "schemathesis is a dev dependency"
    command = [
        st,
        *(["--config-file", str(config)] if config else []),
        "run",
        f"{base_url}/openapi.json",
        "--include-path-regex",
        include_path_regex,
        *extra,
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    command += ["--checks", checks, "--max-examples", "25", "--phases", phases]
    if seed is not None:
        command += ["--seed", str(seed)]
    command += ["--generation-deterministic", "--report-dir", str(tmp_path / "report")]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def failure_output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout[-6000:] + result.stderr[-2000:]
