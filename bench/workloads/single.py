"""Workload 3: a single author's trace pushed through one client as fast as the server takes it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.procs import BENCH_DIR, SERVER_CORE, BenchError, PhaseSampler, pinned, run_node_load
from bench.report import BASELINE, Row
from bench.servers import Cowrite, Target
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason

TRACE = "automerge-paper"
CEILING = "pycrdt in-process"
QUICK_TXNS = 5_000


def pycrdt_ceiling(trace: Path, limit: int) -> dict[str, Any]:
    """Apply the same edits in-process with pycrdt (cowrite's own copy when it has one)."""
    python = sys.executable
    if importlib.util.find_spec("pycrdt") is None:
        python = str(BENCH_DIR / ".peers" / "pycrdt" / "bin" / "python")
    argv = [python, str(BENCH_DIR / "peers" / "pycrdt_apply.py"), str(trace), str(limit)]
    done = subprocess.run(
        pinned(SERVER_CORE, argv), capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"pycrdt_apply failed: {done.stderr[-300:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def wait_rest_content(target: Cowrite, room: str, length: int, timeout: float = 60) -> bool:
    """Whether the REST content reaches the trace's final length (it is persisted) in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(target.api.document_content(room)) == length:
            return True
        time.sleep(0.2)
    return False


def measure(target: Target, trace: Path, limit: int) -> dict[str, Any]:
    with target:
        room = target.new_room()
        config = {
            "base": target.yjs_base,
            "room": room,
            "params": target.params,
            "file": str(trace),
            "limit": limit,
            "timeout": 300,
        }
        sampler = PhaseSampler(target.pids)
        report = run_node_load("single.cjs", config, timeout=420, on_phase=sampler)
        report["server_cpu_pct"] = sampler.cpu_pct
        if isinstance(target, Cowrite):
            report["rest_matches"] = wait_rest_content(target, room, report["expected_length"])
    return report


def cell(report: dict[str, Any]) -> str:
    checks = []
    if not report["server_matches"]:
        checks.append("server text differs")
    if report.get("rest_matches") is False:
        checks.append("REST content differs")
    closes = report.get("closes") or {}
    if closes:
        codes = ", ".join(f"{n} x {code}" for code, n in sorted(closes.items()))
        checks.append(f"server closed the client ({codes}), it reconnected")
    suffix = f" · {', '.join(checks)}" if checks else ""
    return (
        f"{report['edits_per_s']:,.0f} edits/s ({report['seconds']:.1f} s) · cpu "
        f"{report['server_cpu_pct'] or 0:.0f} % / load {report['client_cpu_pct']:.0f} %{suffix}"
    )


def run(ctx: Context) -> Outcome:
    limit = QUICK_TXNS if ctx.quick else 0
    case = f"{TRACE}, first {limit:,} edits" if limit else f"{TRACE}, 259,778 edits"
    row = Row("3 single-author trace", case, budget="— (ceiling: pycrdt in-process)")
    raw: dict[str, Any] = {}
    trace = ctx.trace(TRACE)
    if trace is None:
        row.values["all"] = "n/a (trace not found)"
        return Outcome(rows=[row])
    try:
        ceiling = pycrdt_ceiling(trace, limit)
        raw[CEILING] = ceiling
        rate = f"{ceiling['edits_per_s']:,.0f} edits/s ({ceiling['seconds']:.1f} s)"
        row.values[BASELINE] = f"{CEILING}: {rate}"
    except (BenchError, subprocess.TimeoutExpired) as exc:
        row.values[BASELINE] = f"{CEILING}: error: {str(exc)[:60]}"
    for target in ctx.yjs_targets(pycrdt=not ctx.quick):
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "yjs")
        if reason:
            row.values[target.name] = reason
            continue
        try:
            report = measure(target, trace, limit)
        except BenchError as exc:
            row.values[target.name] = f"error: {str(exc)[:60]}"
            continue
        raw[target.name] = report
        row.values[target.name] = cell(report)
    return Outcome(rows=[row], raw=raw)
