"""`cowrite doctor`: every check, one line each, and an exit code a script can test."""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from cowrite import __version__
from cowrite.config import Settings
from cowrite.ops.checks import Finding, run_checks, settings_error

LABELS = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}


def render(findings: list[Finding]) -> str:
    width = max((len(finding.name) for finding in findings), default=0)
    lines = [f"cowrite {__version__}: checking the configuration and its services"]
    lines += [
        f"  {LABELS[finding.status]:<4}  {finding.name:<{width}}  {finding.message}"
        for finding in findings
    ]
    failures = sum(finding.status == "fail" for finding in findings)
    warnings = sum(finding.status == "warn" for finding in findings)
    if failures:
        lines.append(f"{failures} problem{'s' if failures > 1 else ''} to fix.")
    elif warnings:
        lines.append(f"Ready, with {warnings} warning{'s' if warnings > 1 else ''}.")
    else:
        lines.append("All good.")
    return "\n".join(lines)


def doctor() -> int:
    """Print the findings; exit status 1 when any check failed."""
    try:
        settings = Settings()
    except ValidationError as exc:
        findings = [Finding("settings", "fail", settings_error(exc))]
    else:
        findings = [Finding("settings", "ok", "read from the environment and .env")]
        findings += asyncio.run(run_checks(settings))
    print(render(findings))
    sys.stdout.flush()
    return 1 if any(finding.status == "fail" for finding in findings) else 0
