"""Workload 16: fan-out — one document with 800 listeners (a ladder of edit rates), and 8
documents with 100 listeners each, against Hocuspocus side by side.

Writers are the servers' own clients (y-websocket's provider for cowrite, Hocuspocus' provider
for Hocuspocus); listeners are raw sockets speaking each server's framing. Each row gives the
latency percentiles from typing to arrival, loss, duplicate deliveries, and both processes' CPU
(the server's and the load generator's), in percent of one core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.procs import BenchError, PhaseSampler, cpu_seconds, run_node_load
from bench.report import Row, fmt_count
from bench.servers import Cowrite, Hocuspocus, Target
from bench.workloads import Context, Outcome
from bench.workloads.common import pct, skip_reason, verdict

P99_LIMIT_MS = 100.0
CPU_AT = 320_000  # deliveries/s where the CPU of the two servers is compared


@dataclass(frozen=True)
class Step:
    docs: int
    writers: int  # per document
    rate: int  # edits/s per writer
    listeners: int  # per document

    @property
    def deliveries(self) -> int:
        return self.docs * self.writers * self.rate * self.listeners

    @property
    def label(self) -> str:
        shape = f"{self.writers}x{self.rate}x{self.listeners}"
        if self.docs > 1:
            shape = f"{self.docs} docs x {shape}"
        return f"{shape} ({fmt_count(self.deliveries)}/s)"


ONE_DOC = [
    Step(1, 10, 20, 800),
    Step(1, 10, 40, 800),
    Step(1, 10, 80, 800),
    Step(1, 10, 160, 800),
    Step(1, 20, 160, 800),
]
MANY_DOCS = [Step(8, 2, 100, 100), Step(8, 2, 200, 100)]
QUICK = [Step(1, 10, 40, 800), Step(8, 2, 100, 100)]


class _CpuSampler(PhaseSampler):
    """Also the server's CPU seconds over the measured window (the per-delivery cost: unlike
    a percentage, it does not depend on how much of the core the machine left the server)."""

    start_seconds: float | None = None
    seconds: float | None = None

    def __call__(self, name: str) -> None:
        super().__call__(name)
        if name == "start":
            self.start_seconds = cpu_seconds(self.pids())
        elif name == "end" and self.start_seconds is not None:
            self.seconds = cpu_seconds(self.pids()) - self.start_seconds


def run_step(target: Target, step: Step, duration: float) -> dict[str, Any]:
    """One load run against a freshly started server."""
    with target:
        docs = [target.new_room() for _ in range(step.docs)]
        config: dict[str, Any] = {
            "base": target.yjs_base,
            "docs": docs,
            "params": target.params,
            "framing": "hocuspocus" if isinstance(target, Hocuspocus) else "y-websocket",
            "token": getattr(target, "token", ""),
            "writersPerDoc": step.writers,
            "rate": step.rate,
            "listenersPerDoc": step.listeners,
            "duration": duration,
            "grace": 5,
        }
        sampler = _CpuSampler(target.pids)
        report = run_node_load("fanout.cjs", config, timeout=duration + 240, on_phase=sampler)
        report["server_cpu_pct"] = sampler.cpu_pct
        report["server_rss_bytes"] = sampler.rss_bytes
        delivered = report["delivered"]
        if sampler.seconds is not None and delivered:
            report["server_cpu_us_per_delivery"] = round(1e6 * sampler.seconds / delivered, 3)
    return report


def passed(report: dict[str, Any]) -> bool:
    p99 = report["latency_ms"]["p99"]
    return (
        report["delivered"] == report["expected"] > 0
        and report["duplicates"] == 0
        and report["listener_failures"] == 0
        and report["writer_failures"] == 0
        and report["achieved_rate"] >= 0.95 * report["rate"]
        and p99 is not None
        and p99 <= P99_LIMIT_MS
    )


def _ms(value: object) -> str:
    return "—" if value is None else f"{float(str(value)):,.0f}"


def cell(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    failed = report["listener_failures"] + report["writer_failures"]
    joins = f" · {failed} failed joins" if failed else ""
    dups = report["duplicates"]
    return (
        f"p50/p99/p99.9/max {_ms(lat['p50'])}/{_ms(lat['p99'])}/{_ms(lat.get('p999'))}/"
        f"{_ms(lat['max'])} ms · loss {pct(report['loss'])} · dup {dups}{joins} · "
        f"cpu {report['server_cpu_pct'] or 0:.0f} % / load {report['client_cpu_pct']:.0f} % · "
        f"{report.get('server_cpu_us_per_delivery', 0):.2f} µs per delivery"
    )


def targets(ctx: Context) -> list[Target]:
    return [Hocuspocus(ctx.logs), *ctx.cowrites()]


def run(ctx: Context) -> Outcome:
    ladders = [QUICK] if ctx.quick else [ONE_DOC, MANY_DOCS]
    duration = 3.0 if ctx.quick else 8.0
    steps = [step for ladder in ladders for step in ladder]
    rows = {s.label: Row("16 fan-out", s.label) for s in steps}
    capacity = Row(
        "16 fan-out",
        "capacity at 800 listeners on one document: deliveries/s, p99 ≤ 100 ms, no loss or dups",
        budget="cowrite ≥ Hocuspocus",
    )
    cpu_row = Row(
        "16 fan-out",
        f"server CPU per delivery at {fmt_count(CPU_AT)} deliveries/s, 800 listeners",
        budget="cowrite < Hocuspocus",
    )
    raw: dict[str, Any] = {}
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for target in targets(ctx):
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "yjs")
        if reason:
            for row in [*rows.values(), capacity, cpu_row]:
                row.values[target.name] = reason
            continue
        raw[target.name] = []
        for ladder in ladders:
            # A shared machine is noisy: a ladder stops after two failing steps in a row.
            failures_in_row = 0
            for step in ladder:
                if failures_in_row >= 2:
                    rows[step.label].values[target.name] = "skipped (saturated below)"
                    continue
                try:
                    report = run_step(target, step, duration)
                except BenchError as exc:
                    rows[step.label].values[target.name] = f"error: {str(exc)[:60]}"
                    failures_in_row += 1
                    continue
                report["step"] = step.label
                raw[target.name].append(report)
                rows[step.label].values[target.name] = cell(report)
                ok = passed(report)
                failures_in_row = 0 if ok else failures_in_row + 1
                if step.docs == 1 and ok:
                    best[target.name] = max(best.get(target.name, 0.0), step.deliveries)
                if step.docs == 1 and step.deliveries == CPU_AT:
                    cpu[target.name] = float(report.get("server_cpu_us_per_delivery") or 0)
        found = best.get(target.name)
        capacity.values[target.name] = fmt_count(found) if found else "below the first step"
        cpu_row.values[target.name] = (
            f"{cpu[target.name]:.2f} µs per delivery" if target.name in cpu else "—"
        )
    peer_best = best.get("hocuspocus", 0.0)
    peer_cpu = cpu.get("hocuspocus")
    held: dict[str, bool | None] = {}
    lighter: dict[str, bool | None] = {}
    for target in targets(ctx):
        if isinstance(target, Cowrite) and target.name in raw:
            held[target.name] = best.get(target.name, 0.0) >= peer_best > 0
            mine = cpu.get(target.name)
            lighter[target.name] = None if mine is None or peer_cpu is None else mine < peer_cpu
    capacity.verdict = verdict(held)
    cpu_row.verdict = verdict(lighter)
    return Outcome(rows=[*rows.values(), capacity, cpu_row], raw=raw)
