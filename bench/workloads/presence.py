"""Workload 5: presence fan-out on /ws — cursor_move at 10 Hz, delivery latency and server CPU."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.procs import BenchError, PhaseSampler, run_node_load
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import pct, skip_reason, verdict

P99_BUDGET_MS = 50.0
HZ = 10


@dataclass
class Case:
    clients: int
    rooms: int

    @property
    def label(self) -> str:
        room = "1 room" if self.rooms == 1 else f"{self.rooms} rooms"
        return f"{self.clients:,} clients x {HZ} Hz, {room}"


def measure(
    target: Cowrite, case: Case, duration: float, ports: list[int] | None = None
) -> dict[str, Any]:
    """One presence run; `ports` lists the processes to spread clients over (default: one)."""
    rooms = [target.new_room() for _ in range(case.rooms)]
    urls = [f"ws://127.0.0.1:{p}/ws" for p in (ports or [target.port])]
    config = {
        "urls": urls,
        "tokens": [target.api.token],
        "rooms": rooms,
        "clients": case.clients,
        "hz": HZ,
        "duration": duration,
        "grace": 3,
    }
    sampler = PhaseSampler(target.pids)
    report = run_node_load("presence.cjs", config, timeout=duration + 240, on_phase=sampler)
    report["server_cpu_pct"] = sampler.cpu_pct
    return report


def passed(report: dict[str, Any]) -> bool:
    p99 = report["latency_ms"]["p99"]
    return report["join_failures"] == 0 and p99 is not None and p99 <= P99_BUDGET_MS


def cell(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    if lat["p99"] is None:
        return f"nothing delivered ({report['join_failures']} failed joins)"
    fails = f" · {report['join_failures']} failed joins" if report["join_failures"] else ""
    lag = report.get("load_loop_delay_ms") or {}
    # The load generator's own event-loop delay: latency it adds to what it measures.
    load_lag = f" (lag p99 {lag['p99']:,.0f} ms)" if lag.get("p99") is not None else ""
    return (
        f"p99 {lat['p99']:,.0f} · p50 {lat['p50']:,.0f} ms · delivered "
        f"{pct(report['delivered_share'])}{fails} · cpu {report['server_cpu_pct'] or 0:.0f} % / "
        f"load {report['client_cpu_pct']:.0f} %{load_lag}"
    )


def run(ctx: Context) -> Outcome:
    cases = [Case(20, 1)] if ctx.quick else [Case(100, 1), Case(1000, 100)]
    duration = 2.0 if ctx.quick else 10.0
    rows = {c.label: Row("5 presence", c.label, budget="cowrite p99 ≤ 50 ms") for c in cases}
    raw: dict[str, Any] = {}
    # Each case has its own verdict: one case over budget says nothing about the other.
    met: dict[str, dict[str, bool | None]] = {c.label: {} for c in cases}
    for target in [Cowrite(ctx.logs, "sqlite")]:
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "presence")
        if reason:
            for row in rows.values():
                row.values[target.name] = reason
            continue
        raw[target.name] = []
        for case in cases:
            try:
                with target:
                    report = measure(target, case, duration)
            except BenchError as exc:
                rows[case.label].values[target.name] = f"error: {str(exc)[:60]}"
                met[case.label][target.name] = False
                continue
            raw[target.name].append(report)
            rows[case.label].values[target.name] = cell(report)
            met[case.label][target.name] = passed(report)
    for label, row in rows.items():
        row.verdict = verdict(met[label])
    return Outcome(rows=list(rows.values()), raw=raw)
