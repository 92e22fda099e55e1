"""Workload 10: a rolling restart behind nginx — how long clients go without a server.

Two cowrite processes on PostgreSQL and Redis behind the nginx of docs/deploy/ (TLS); writers
type and readers watch one document with the official Yjs client (tests/interop/rolling.mjs);
each process gets SIGTERM and is started again, one after the other. Reported: the reconnect
gap (from a client losing its server to being synced again, every reconnect of every client),
how long each process took from SIGTERM to exit (drain), and whether every edit reached every
reader.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.procs import BenchError
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason

REDIS_DB = 12
EDITS_BETWEEN_RESTARTS = 60
ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "tests" / "interop"


class ProxiedCowrite(Cowrite):
    """cowrite that believes X-Forwarded-* from the test nginx only (it connects from
    127.0.0.2), with the shutdown bound the docs recommend."""

    def environment(self) -> dict[str, str]:
        return {
            **super().environment(),
            "COWRITE_TRUSTED_PROXIES": "127.0.0.2/32",
            "COWRITE_SHUTDOWN_TIMEOUT": "20",
        }


def unavailable() -> str | None:
    from tests.support.nginx import nginx_binary

    if nginx_binary() is None:
        return "n/a (nginx not installed)"
    if not (INTEROP / "node_modules" / "y-websocket").is_dir():
        return "n/a (tests/interop not installed: make setup)"
    return None


class Typists:
    def __init__(self, config: dict[str, Any], ca: Path) -> None:
        env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(ca)}
        self.proc = subprocess.Popen(
            ["node", str(INTEROP / "rolling.mjs"), json.dumps(config)],
            cwd=INTEROP,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.typed = 0
        self.until("ready")

    def line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        raw = self.proc.stdout.readline()
        if not raw:
            raise BenchError("the Yjs clients stopped early")
        message: dict[str, Any] = json.loads(raw)
        self.typed = message.get("typed", self.typed)
        return message

    def until(self, key: str) -> dict[str, Any]:
        while key not in (message := self.line()):
            pass
        return message

    def typed_at_least(self, count: int) -> None:
        while self.typed < count:
            self.line()

    def finish(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        result = self.until("complete")
        self.proc.wait(30)
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def measure(target: ProxiedCowrite, readers: int) -> dict[str, Any]:
    from tests.support.nginx import Nginx, make_certificate

    workdir = Path(tempfile.mkdtemp(prefix="cowrite-bench-rolling-"))
    certificate = make_certificate(workdir / "tls")
    with target:
        ports = [target.port, target.start_second()]
        nginx = Nginx(workdir / "nginx", certificate, ports).start()
        typists = None
        try:
            config = {
                "url": nginx.ws_url,
                "doc": target.new_room(),
                "writers": [target.api.token] * 2,
                "readers": [target.api.token] * readers,
                "quitters": [],
                "interval_ms": 20,
                "quitter_edits": 0,
            }
            typists = Typists(config, certificate.cert)
            drains, starts = [], []
            servers = [target.server, *target.extra]
            for index, port in enumerate(ports):
                typists.typed_at_least(typists.typed + EDITS_BETWEEN_RESTARTS)
                server = servers[index]
                assert server is not None
                began = time.monotonic()
                server.stop()  # SIGTERM, then waits for the exit
                drains.append(time.monotonic() - began)
                began = time.monotonic()
                replacement = target.launch(port)
                starts.append(time.monotonic() - began)
                if index == 0:
                    target.server = replacement
                else:
                    target.extra[index - 1] = replacement
            typists.typed_at_least(typists.typed + EDITS_BETWEEN_RESTARTS)
            result = typists.finish()
            failed = [line for line in nginx.statuses() if line[:1] == "5"]
        finally:
            if typists is not None:
                typists.kill()
            nginx.stop()
    gaps = sorted(result["gaps_ms"])
    return {
        "gaps_ms": gaps,
        "gap_p50_ms": statistics.median(gaps) if gaps else None,
        "gap_p99_ms": gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] if gaps else None,
        "drain_s": [round(d, 2) for d in drains],
        "restart_s": [round(s, 2) for s in starts],
        "complete": result["complete"],
        "typed": result["typed"],
        "close_codes": result["close_codes"],
        "proxy_5xx": failed,
    }


def cell(report: dict[str, Any]) -> str:
    if report["gap_p50_ms"] is None:
        return "no reconnect measured"
    drains = ", ".join(f"{d:.1f}" for d in report["drain_s"])
    arrived = "every edit arrived" if report["complete"] else "EDITS MISSING"
    return (
        f"gap {report['gap_p50_ms']:,.0f} / {report['gap_p99_ms']:,.0f} ms"
        f" ({len(report['gaps_ms'])} reconnects); drain {drains} s; {arrived}"
    )


def run(ctx: Context) -> Outcome:
    readers = 4 if ctx.quick else 40
    row = Row(
        "10 rolling restart",
        f"2 processes behind nginx, 2 writers + {readers} readers:"
        " reconnect gap p50 / p99, SIGTERM-to-exit",
        budget="— (measured)",
    )
    raw: dict[str, Any] = {}
    target = ProxiedCowrite(ctx.logs, "postgres", redis_db=REDIS_DB)
    reason = unavailable() or skip_reason(target, "yjs")
    if reason:
        row.values[target.name] = reason
        return Outcome(rows=[row], raw=raw)
    try:
        report = measure(target, readers)
        raw[target.name] = report
        row.values[target.name] = cell(report)
    except (BenchError, OSError, subprocess.TimeoutExpired) as exc:
        row.values[target.name] = f"failed: {str(exc)[:80]}"
    return Outcome(rows=[row], raw=raw)
