"""Helpers shared by the workloads: availability checks, verdicts, cell formatting."""

from __future__ import annotations

from collections.abc import Mapping

from bench.procs import BenchError
from bench.servers import MISSING, Cowrite, Target


def skip_reason(target: Target, feature: str) -> str | None:
    """Why `target` cannot run a workload needing `feature` (None when it can)."""
    reason = target.unavailable()
    if reason:
        return reason
    if isinstance(target, Cowrite):
        known = target.known_features()
        if known is not None:
            return None if feature in known else MISSING
        try:
            with target:
                if feature not in target.features():
                    return MISSING
        except (BenchError, OSError) as exc:
            return f"n/a (did not start: {str(exc)[:80]})"
    return None


def verdict(results: Mapping[str, bool | None]) -> str:
    """'met' / 'not met' per cowrite column; columns without a measurement are left out."""
    parts = [
        f"{name.removeprefix('cowrite-')}: {'met' if ok else 'not met'}"
        for name, ok in results.items()
        if ok is not None
    ]
    return ", ".join(parts) if parts else "n/a"


def pct(value: object) -> str:
    return "—" if value is None else f"{100 * float(str(value)):.2f} %".replace(".00 %", " %")
