"""Workload 16: anonymous share-link reads beside the authenticated document GET they stand in
for, same document, same server, alternating in one run (GET, share, GET, share)."""

from __future__ import annotations

from typing import Any

from bench.api import ApiError
from bench.procs import BenchError
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict
from bench.workloads.rest import CONNECTIONS, PARAGRAPH, cell
from bench.wrk import WrkResult, lua_request, run_wrk

BUDGET = 0.80  # share reads at least this share of the document GET rate
ROUNDS = 2


def _mean(results: list[WrkResult]) -> WrkResult:
    count = len(results)
    cpu = [r.server_cpu_pct for r in results if r.server_cpu_pct is not None]
    return WrkResult(
        requests_per_s=sum(r.requests_per_s for r in results) / count,
        p50_ms=sum(r.p50_ms for r in results) / count,
        p99_ms=max(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
        server_cpu_pct=sum(cpu) / len(cpu) if cpu else None,
    )


def measure(target: Cowrite, seconds: float) -> dict[str, WrkResult]:
    with target:
        doc = target.api.create_document(target.workspace_id, "share bench", PARAGRAPH * 12)
        try:
            link = target.api.call("POST", f"/api/v1/documents/{doc}/shares", {}, expect=201)
        except ApiError as exc:
            raise BenchError(f"share links not served: {exc}") from exc
        auth = {"Authorization": f"Bearer {target.api.token}"}
        runs: dict[str, list[WrkResult]] = {"get": [], "share": []}
        for _ in range(ROUNDS):
            runs["get"].append(
                run_wrk(
                    f"{target.http_base}/api/v1/documents/{doc}",
                    connections=CONNECTIONS,
                    seconds=seconds,
                    script=lua_request("GET", "", auth),
                    server_pids=target.pids(),
                )
            )
            runs["share"].append(
                run_wrk(
                    f"{target.http_base}/api/v1/shared/{link['token']}",
                    connections=CONNECTIONS,
                    seconds=seconds,
                    server_pids=target.pids(),
                )
            )
    return {name: _mean(results) for name, results in runs.items()}


def run(ctx: Context) -> Outcome:
    seconds = 2.0 if ctx.quick else 8.0
    conc = f"{CONNECTIONS} connections"
    get_row = Row("16 shares", f"document GET (signed in), {conc}")
    share_row = Row(
        "16 shares",
        f"share-link read (anonymous), {conc}",
        budget=f"≥ {BUDGET:.0%} of document GET",
    )
    raw: dict[str, Any] = {}
    met: dict[str, bool | None] = {}
    for target in ctx.cowrites(both=True):
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "rest")
        if reason:
            get_row.values[target.name] = share_row.values[target.name] = reason
            continue
        try:
            results = measure(target, seconds)
        except BenchError as exc:
            get_row.values[target.name] = share_row.values[target.name] = f"error: {exc}"[:70]
            continue
        get, share = results["get"], results["share"]
        raw[target.name] = {name: result.__dict__ for name, result in results.items()}
        ratio = share.requests_per_s / get.requests_per_s if get.requests_per_s else 0.0
        get_row.values[target.name] = cell(get)
        share_row.values[target.name] = f"{cell(share)} ({ratio:.0%} of GET)"
        met[target.name] = share.errors == 0 and ratio >= BUDGET
    share_row.verdict = verdict(met)
    return Outcome(rows=[get_row, share_row], raw=raw)
