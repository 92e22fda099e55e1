"""Workload 7: authenticated document GET and create beside bare "hello" apps in the same run.

The ceiling is a bare FastAPI route answering `{"ok": true}` under the same uvicorn on the same
core; a bare ASGI app shows what uvicorn alone costs. Each cell also gives the server's CPU time
per request, which a machine shared with other work distorts less than the rate does.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

from bench.procs import BENCH_DIR, BenchError, Server, free_port
from bench.report import BASELINE, Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict
from bench.wrk import WrkResult, lua_request, run_wrk

CONNECTIONS = 32
CEILING = "FastAPI hello"
ASGI_HELLO = "ASGI hello"
SHARE_BUDGET = 0.33
P99_BUDGET_MS = 30.0
# Creates per second on SQLite and on PostgreSQL, with no errors.
CREATE_BUDGET = {"cowrite-sqlite": 500.0, "cowrite-pg": 400.0}
PARAGRAPH = (
    "Collaborative editing lets several people change the same document at once; each edit "
    "travels to the server, which merges it and passes it on to everyone else in the room. "
)


def cell(result: WrkResult, ceiling: WrkResult | None = None) -> str:
    errors = f" · {result.errors:,} errors" if result.errors else ""
    cpu = ""
    if result.server_cpu_pct is not None and result.requests_per_s > 0:
        per_request = result.server_cpu_pct * 10 / result.requests_per_s
        cpu = f" · cpu {result.server_cpu_pct:.0f} % ({per_request:.2f} ms/request)"
    share = ""
    if ceiling is not None:
        share = f" ({result.requests_per_s / ceiling.requests_per_s:.0%} of the ceiling)"
    rate = f"{result.requests_per_s:,.0f} req/s{share}"
    return f"{rate} · p99 {result.p99_ms:,.1f} ms{errors}{cpu}"


def hello_ceiling(
    ctx: Context, seconds: float, module: str = "bench.peers.fastapi_hello"
) -> WrkResult:
    if importlib.util.find_spec("uvicorn") is None:
        raise BenchError("uvicorn is not installed beside the harness")
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        f"{module}:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = Server(argv, cwd=BENCH_DIR.parent, log=ctx.logs / f"{module.rsplit('.', 1)[-1]}.log")
    server.start()
    try:
        server.wait_http(f"http://127.0.0.1:{port}/")
        return run_wrk(
            f"http://127.0.0.1:{port}/",
            connections=CONNECTIONS,
            seconds=seconds,
            server_pids=server.pids(),
        )
    finally:
        server.stop()


def measure_cowrite(target: Cowrite, seconds: float) -> dict[str, WrkResult]:
    with target:
        doc = target.api.create_document(target.workspace_id, "rest bench", PARAGRAPH * 12)
        auth = {"Authorization": f"Bearer {target.api.token}"}
        get = run_wrk(
            f"{target.http_base}/api/v1/documents/{doc}",
            connections=CONNECTIONS,
            seconds=seconds,
            script=lua_request("GET", "", auth),
            server_pids=target.pids(),
        )
        body = json.dumps({"title": "created by wrk", "content": PARAGRAPH})
        create = run_wrk(
            f"{target.http_base}/api/v1/workspaces/{target.workspace_id}/documents",
            connections=CONNECTIONS,
            seconds=seconds,
            script=lua_request("POST", body, {**auth, "Content-Type": "application/json"}),
            server_pids=target.pids(),
        )
    return {"get": get, "create": create}


def run(ctx: Context) -> Outcome:
    seconds = 2.0 if ctx.quick else 10.0
    conc = f"{CONNECTIONS} connections"
    get_row = Row(
        "7 REST",
        f"document GET, {conc}",
        budget=f"≥ {SHARE_BUDGET:.0%} of {CEILING}, p99 ≤ {P99_BUDGET_MS:g} ms",
    )
    create_row = Row(
        "7 REST",
        f"document create, {conc}",
        budget="≥ 500 req/s SQLite, ≥ 400 PostgreSQL, no errors",
    )
    raw: dict[str, Any] = {}
    ceiling: WrkResult | None = None
    ceilings: list[str] = []
    for name, module in (
        (CEILING, "bench.peers.fastapi_hello"),
        (ASGI_HELLO, "bench.peers.hello_app"),
    ):
        try:
            result = hello_ceiling(ctx, seconds, module)
        except BenchError as exc:
            ceilings.append(f"{name}: error: {str(exc)[:60]}")
            continue
        ceilings.append(f"{name}: {cell(result)}")
        raw[name] = result.__dict__
        if name == CEILING:
            ceiling = result
    get_row.values[BASELINE] = " · ".join(ceilings)
    met: dict[str, bool | None] = {}
    create_met: dict[str, bool | None] = {}
    for target in ctx.cowrites():
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "rest")
        if reason:
            get_row.values[target.name] = create_row.values[target.name] = reason
            continue
        try:
            results = measure_cowrite(target, seconds)
        except BenchError as exc:
            get_row.values[target.name] = create_row.values[target.name] = f"error: {exc}"[:70]
            continue
        raw[target.name] = {k: v.__dict__ for k, v in results.items()}
        get, create = results["get"], results["create"]
        get_row.values[target.name] = cell(get, ceiling)
        create_row.values[target.name] = cell(create)
        if ceiling:
            met[target.name] = (
                get.errors == 0
                and get.requests_per_s >= SHARE_BUDGET * ceiling.requests_per_s
                and get.p99_ms <= P99_BUDGET_MS
            )
        budget = CREATE_BUDGET.get(target.name)
        if budget is not None:
            create_met[target.name] = create.errors == 0 and create.requests_per_s >= budget
    get_row.verdict = verdict(met)
    create_row.verdict = verdict(create_met)
    return Outcome(rows=[get_row, create_row], raw=raw)
