"""Workload 16: call signalling — the relay latency of `rtc_signal` with 100 concurrent calls of
4 people, on one process and on two processes sharing Redis.

Each call is a document with four `/ws` connections in its call (four users, one connection per
call each). Every pair negotiates as browsers do: an offer (a 2.5 KB SDP), the answer, then 20
ICE candidates each way, one every 25 ms; offers start spread over two seconds, so all calls
negotiate at once (`bench/load/calls.cjs`, one Node process on the load core). A signal carries
its send time; its latency is the time until the addressed connection reads it. On two
processes the members of each call alternate between them, so two pairs of six stay on one
process and four cross. The generator's own event-loop delay is reported beside it (it is part
of every latency).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.api import CowriteApi
from bench.procs import (
    LOAD_DIR,
    NODE_MODULES,
    BenchError,
    PhaseSampler,
    Server,
    free_port,
    run_node_load,
)
from bench.report import BASELINE, Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

SIZE, CANDIDATES, TRICKLE_MS, SPREAD_MS, SDP_BYTES = 4, 20, 25, 2000, 2500
RELAY_BUDGET_MS, CROSS_BUDGET_MS = 20.0, 5.0
REDIS_DB = 12


def measure(target: Cowrite, ports: list[int], calls: int) -> dict[str, Any]:
    owner = target.api
    tokens = [owner.token]
    for n in range(SIZE - 1):
        member = CowriteApi(target.http_base)
        tokens.append(member.sign_up(f"caller{n}"))
        owner.add_member(target.workspace_id, member.email, "viewer")
    documents = [target.new_room() for _ in range(calls)]
    return _load(ports, [t or "" for t in tokens], documents, target.pids)


def measure_floor(logs: Path, calls: int) -> dict[str, Any]:
    """The same load through a bare relay (`bench/load/relay.cjs`): what the machine allows."""
    port = free_port()
    relay = Server(
        ["node", str(LOAD_DIR / "relay.cjs"), str(port)],
        env={"NODE_PATH": str(NODE_MODULES)},
        log=logs / "relay.log",
    )
    relay.start()
    try:
        relay.wait_http(f"http://127.0.0.1:{port}/", timeout=30)
        documents = [str(uuid.uuid4()) for _ in range(calls)]
        return _load([port], ["-"], documents, relay.pids)
    finally:
        relay.stop()


def _load(
    ports: list[int], tokens: list[str], documents: list[str], pids: Callable[[], list[int]]
) -> dict[str, Any]:
    config = {
        "urls": [f"ws://127.0.0.1:{port}/ws" for port in ports],
        "tokens": tokens,
        "documents": documents,
        "size": SIZE,
        "candidates": CANDIDATES,
        "trickleMs": TRICKLE_MS,
        "spreadMs": SPREAD_MS,
        "sdpBytes": SDP_BYTES,
        "grace": 10,
    }
    sampler = PhaseSampler(pids)
    report = run_node_load("calls.cjs", config, timeout=300, on_phase=sampler)
    report["server_cpu_pct"] = sampler.cpu_pct
    return report


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _tail(report: dict[str, Any]) -> str:
    lag = report.get("load_loop_delay_ms") or {}
    errors = f" · {report['errors']} errors" if report["errors"] else ""
    return (
        f"{report['delivered']:,} of {report['expected']:,} signals{errors}"
        f" · server CPU {report.get('server_cpu_pct') or 0:.0f} %"
        f" · generator loop p99 {_ms(lag.get('p99'))}"
    )


def run(ctx: Context) -> Outcome:
    calls = 20 if ctx.quick else 100
    one_row = Row(
        "16 calls",
        f"signal relay, {calls} calls of {SIZE} negotiating at once (offer, answer,"
        f" {CANDIDATES} candidates each way per pair): one process",
        budget=f"p99 ≤ {RELAY_BUDGET_MS:.0f} ms",
    )
    two_row = Row(
        "16 calls",
        "the same on two processes + Redis (4 of each call's 6 pairs across)",
        budget=f"crossing adds ≤ {CROSS_BUDGET_MS:.0f} ms to p99",
    )
    single = Cowrite(ctx.logs, "postgres")
    double = Cowrite(ctx.logs, "postgres", redis_db=REDIS_DB)
    col = single.name
    if not ctx.wanted(single):
        return Outcome(rows=[])
    reason = skip_reason(single, "presence")
    if reason:
        one_row.values[col] = reason
        return Outcome(rows=[one_row, two_row])
    try:
        floor = measure_floor(ctx.logs, calls)
        with single:
            one = measure(single, [single.port], calls)
        with double:
            two = measure(double, [double.port, double.start_second()], calls)
    except (BenchError, OSError) as exc:
        one_row.values[col] = f"error: {exc}"[:70]
        return Outcome(rows=[one_row, two_row])
    lat = one["latency_ms"]
    one_row.values[col] = f"p50 {_ms(lat['p50'])} · p99 {_ms(lat['p99'])} · {_tail(one)}"
    bare = floor["latency_ms"]
    one_row.values[BASELINE] = "bare relay: " + f"p50 {_ms(bare['p50'])} · p99 {_ms(bare['p99'])}"
    same, cross = two["same_process_latency_ms"]["p99"], two["cross_process_latency_ms"]["p99"]
    added = None if same is None or cross is None else cross - same
    two_row.values[col] = (
        f"p99 same process {_ms(same)} / across {_ms(cross)}"
        f" (adds {'—' if added is None else f'{added:+.1f} ms'}) · {_tail(two)}"
    )
    complete = all(r["delivered"] == r["expected"] and not r["errors"] for r in (one, two))
    p99 = lat["p99"]
    one_row.verdict = verdict({col: complete and p99 is not None and p99 <= RELAY_BUDGET_MS})
    crossing_ok = None if added is None else complete and added <= CROSS_BUDGET_MS
    two_row.verdict = verdict({col: crossing_ok})
    return Outcome(rows=[one_row, two_row], raw={"one": one, "two": two, "floor": floor})
