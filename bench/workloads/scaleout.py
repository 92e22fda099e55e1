"""Workload 9: co-editing and presence on two cowrite processes + Redis beside one process."""

from __future__ import annotations

from typing import Any

from bench.procs import BenchError, PhaseSampler, run_node_load
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.coedit import WRITERS, Step, deliveries_per_s, passed
from bench.workloads.common import skip_reason, verdict
from bench.workloads.presence import Case
from bench.workloads.presence import measure as presence_measure

REDIS_DB = 11
CROSS_BUDGET_MS = 5.0
FULL_STEPS = [Step(20, 200), Step(40, 400), Step(80, 800)]
QUICK_STEPS = [Step(10, 50)]


def coedit_run(target: Cowrite, step: Step, duration: float, two: bool) -> dict[str, Any]:
    with target:
        ports = [target.port, target.start_second()] if two else [target.port]
        bases = [f"ws://127.0.0.1:{p}/ws/yjs" for p in ports]
        config = {
            "base": bases[0],
            "writerBases": bases,
            "listenerBases": bases,
            "room": target.new_room(),
            "params": target.params,
            "writers": WRITERS,
            "rate": step.rate,
            "listeners": step.listeners,
            "duration": duration,
            "grace": 5,
            "firstAlone": True,
        }
        sampler = PhaseSampler(target.pids)
        report = run_node_load("coedit.cjs", config, timeout=duration + 180, on_phase=sampler)
        report["server_cpu_pct"] = sampler.cpu_pct
    return report


def presence_run(target: Cowrite, case: Case, duration: float, two: bool) -> dict[str, Any]:
    with target:
        ports = [target.port, target.start_second()] if two else [target.port]
        return presence_measure(target, case, duration, ports)


def ladder(target: Cowrite, steps: list[Step], duration: float, two: bool) -> list[dict[str, Any]]:
    reports = []
    for step in steps:
        report = coedit_run(target, step, duration, two)
        reports.append(report)
        if not passed(report):
            break
    return reports


def capacity(reports: list[dict[str, Any]]) -> float:
    return max((deliveries_per_s(r) for r in reports if passed(r)), default=0.0)


def p99(summary: dict[str, Any]) -> str:
    return "—" if summary["p99"] is None else f"{summary['p99']:,.1f} ms"


def crossing(one: dict[str, Any], two: dict[str, Any]) -> tuple[str, float | None]:
    """The cell comparing one process with two, and what crossing processes adds to p99
    (across-process minus same-process deliveries of the same two-process run)."""
    cross, same = two["cross_process_latency_ms"]["p99"], two["same_process_latency_ms"]["p99"]
    added = None if cross is None or same is None else cross - same
    adds = "" if added is None else f" (adds {added:+,.1f} ms)"
    same_text, cross_text = (
        p99(two["same_process_latency_ms"]),
        p99(two["cross_process_latency_ms"]),
    )
    if not two["cross_process_latency_ms"]["count"]:
        cross_text = "nothing delivered"
    detail = f"same {same_text} / across {cross_text}"
    return both(p99(one["latency_ms"]), detail + adds), added


def both(single: str, double: str) -> str:
    return f"1 process: {single} · 2 processes + Redis: {double}"


def run(ctx: Context) -> Outcome:
    quick = ctx.quick
    duration = 2.0 if quick else 8.0
    steps = QUICK_STEPS if quick else FULL_STEPS
    case = Case(20, 2) if quick else Case(200, 10)
    single = Cowrite(ctx.logs, "postgres")
    double = Cowrite(ctx.logs, "postgres", redis_db=REDIS_DB)
    col = single.name
    cap_row = Row(
        "9 scale-out",
        f"co-editing capacity (ladder of {len(steps)} step{'s' if len(steps) > 1 else ''})",
    )
    co_row = Row(
        "9 scale-out",
        f"co-editing p99 at {steps[0].label}",
        budget="crossing processes adds ≤ 5 ms to p99",
    )
    pr_row = Row(
        "9 scale-out", f"presence {case.label}: p99", budget="crossing processes adds ≤ 5 ms to p99"
    )
    rows = [cap_row, co_row, pr_row]
    raw: dict[str, Any] = {}
    if not ctx.wanted(single):
        return Outcome(rows=[])
    reason = skip_reason(single, "yjs")
    if reason:
        for row in rows:
            row.values[col] = reason
        return Outcome(rows=rows)
    try:
        singles = ladder(single, steps, duration, two=False)
        doubles = ladder(double, steps, duration, two=True)
    except BenchError as exc:
        cap_row.values[col] = f"error: {str(exc)[:60]}"
        return Outcome(rows=rows)
    raw["coedit"] = {"one": singles, "two": doubles}
    c1, c2 = capacity(singles), capacity(doubles)
    ratio = f" (x{c2 / c1:.2f})" if c1 else ""
    cap_row.values[col] = both(f"{c1:,.0f}/s", f"{c2:,.0f}/s{ratio}")
    co_row.values[col], added = crossing(singles[0], doubles[0])
    co_row.verdict = verdict({col: None if added is None else added <= CROSS_BUDGET_MS})
    reason = "skipped in quick mode" if quick else skip_reason(single, "presence")
    if reason:
        pr_row.values[col] = reason
        return Outcome(rows=rows, raw=raw)
    try:
        p1 = presence_run(single, case, duration, two=False)
        p2 = presence_run(double, case, duration, two=True)
    except BenchError as exc:
        pr_row.values[col] = f"error: {str(exc)[:60]}"
        return Outcome(rows=rows, raw=raw)
    raw["presence"] = {"one": p1, "two": p2}
    pr_row.values[col], added = crossing(p1, p2)
    pr_row.verdict = verdict({col: None if added is None else added <= CROSS_BUDGET_MS})
    return Outcome(rows=rows, raw=raw)
