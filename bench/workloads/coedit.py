"""Workload 1: co-editing capacity — W Yjs writers, R edits/s each, L light listeners."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.procs import BenchError, PhaseSampler, run_node_load
from bench.report import Row, fmt_count
from bench.servers import Cowrite, Target
from bench.workloads import Context, Outcome
from bench.workloads.common import pct, skip_reason, verdict

P99_LIMIT_MS = 100.0
BUDGET = 300_000
WRITERS = 10
FULL_STEPS = [(5, 100), (20, 100), (20, 200), (40, 200), (40, 400), (80, 400), (80, 800)]
QUICK_STEPS = [(10, 50)]


@dataclass
class Step:
    rate: int
    listeners: int

    @property
    def label(self) -> str:
        nominal = WRITERS * self.rate * self.listeners
        return f"{WRITERS}x{self.rate}x{self.listeners} ({nominal / 1000:g} k/s)"


def run_step(
    target: Target,
    step: Step,
    duration: float,
    extra: dict[str, Any] | None = None,
    *,
    rich: bool = False,
) -> dict[str, Any]:
    """One load run against a freshly started server (`rich`: a rich document, each writer
    typing into its own paragraph of the fragment, as y-prosemirror lays it out)."""
    with target:
        room = target.new_room("rich" if rich else "markdown")
        config: dict[str, Any] = {
            "base": target.yjs_base,
            "room": room,
            "params": target.params,
            "writers": WRITERS,
            "rate": step.rate,
            "listeners": step.listeners,
            "duration": duration,
            "grace": 5,
            "firstAlone": target.first_alone,
            "rich": rich,
            **(extra or {}),
        }
        sampler = PhaseSampler(target.pids)
        report = run_node_load("coedit.cjs", config, timeout=duration + 180, on_phase=sampler)
        report["server_cpu_pct"] = sampler.cpu_pct
        report["server_rss_bytes"] = sampler.rss_bytes
    return report


def passed(report: dict[str, Any]) -> bool:
    p99 = report["latency_ms"]["p99"]
    return (
        report["delivered"] == report["expected"] > 0
        and report["listener_failures"] == 0
        and report["writer_failures"] == 0
        and p99 is not None
        and p99 <= P99_LIMIT_MS
    )


def deliveries_per_s(report: dict[str, Any]) -> float:
    connected = report["listeners"] - report["listener_failures"]
    rate = report["achieved_rate"]
    if rate >= 0.95 * report["rate"]:
        rate = report["rate"]  # on schedule: the last tick's timer lag is not a shortfall
    return float(report["writers"] * rate * connected)


def cell(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    p99 = "—" if lat["p99"] is None else f"{lat['p99']:,.0f}"
    p50 = "—" if lat["p50"] is None else f"{lat['p50']:,.0f}"
    failed = report["listener_failures"] + report["writer_failures"]
    joins = f" · {failed} failed joins" if failed else ""
    return (
        f"p99 {p99} · p50 {p50} ms · loss {pct(report['loss'])}{joins} · "
        f"cpu {report['server_cpu_pct'] or 0:.0f} % / load {report['client_cpu_pct']:.0f} %"
    )


def run(ctx: Context) -> Outcome:
    steps = [Step(r, n) for r, n in (QUICK_STEPS if ctx.quick else FULL_STEPS)]
    duration = 2.0 if ctx.quick else 8.0
    rows = {s.label: Row("1 co-editing", s.label) for s in steps}
    capacity = Row(
        "1 co-editing",
        "capacity: deliveries/s with p99 ≤ 100 ms, no loss",
        budget=f"cowrite ≥ {fmt_count(BUDGET)}",
    )
    raw: dict[str, Any] = {}
    met: dict[str, bool | None] = {}
    for target in ctx.yjs_targets():
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "yjs")
        if reason:
            for row in [*rows.values(), capacity]:
                row.values[target.name] = reason
            continue
        # A shared machine is noisy: a ladder stops after two failing steps in a row.
        best, failures_in_row, failed_any = 0.0, 0, False
        raw[target.name] = []
        for step in steps:
            if failures_in_row >= 2:
                rows[step.label].values[target.name] = "skipped (saturated below)"
                continue
            try:
                report = run_step(target, step, duration)
            except BenchError as exc:
                rows[step.label].values[target.name] = f"error: {str(exc)[:60]}"
                failures_in_row, failed_any = failures_in_row + 1, True
                continue
            raw[target.name].append(report)
            rows[step.label].values[target.name] = cell(report)
            if passed(report):
                best = max(best, deliveries_per_s(report))
                failures_in_row = 0
            else:
                failures_in_row, failed_any = failures_in_row + 1, True
        top = "" if failed_any else "≥ "
        capacity.values[target.name] = f"{top}{fmt_count(best)}" if best else "below the first step"
        if isinstance(target, Cowrite):
            met[target.name] = best >= BUDGET
    capacity.verdict = verdict(met)
    return Outcome(rows=[*rows.values(), capacity], raw=raw)
