"""Workload 10: webhook deliveries to a local receiver.

- drain: 10,000 deliveries queued at once (written straight into the outbox), sent to a local
  receiver: deliveries/s until the last one arrives;
- paced: document creates at 100/s, each queuing one event: p99 from the event's commit
  (the body's `created_at`, stamped in the committing transaction) to its arrival;
- enqueue cost: p95 of document create with and without a webhook subscribed to it, in
  alternating blocks (budget: the request is not slower by more than 1 ms at p95).

Each backend runs twice in the same run, side by side: "before" with the delivery path as it
was (every delivery claimed from the outbox by a poll or wake-up, one write per finished
delivery: `COWRITE_WEBHOOKS_SEND_AT_ONCE=false`, `COWRITE_WEBHOOKS_RECORD_INTERVAL_SECONDS=0`),
then as it is now (a delivery handed to the worker at its commit, outcomes written together).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.procs import BenchError
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

DRAIN = {True: 1_000, False: 10_000}
PACED_RATE = 100.0
PACED_SECONDS = {True: 3.0, False: 10.0}
COST_BLOCKS = {True: 4, False: 10}
COST_BLOCK_SIZE = 30
LATENCY_BUDGET_MS = 1000.0
COST_BUDGET_MS = 1.0


class WebhookCowrite(Cowrite):
    """cowrite allowed to call a receiver on this machine, polling its outbox often; `before`
    sends as the delivery path did before deliveries were handed over at commit."""

    def __init__(self, logs: Path, backend: str, *, before: bool = False) -> None:
        super().__init__(logs, backend)
        self.before = before
        if before:
            self.name += " before"

    def environment(self) -> dict[str, str]:
        env = {
            **super().environment(),
            "COWRITE_WEBHOOKS_ALLOW_PRIVATE": "true",
            "COWRITE_WEBHOOKS_POLL_SECONDS": "0.2",
        }
        if self.before:
            env["COWRITE_WEBHOOKS_SEND_AT_ONCE"] = "false"
            env["COWRITE_WEBHOOKS_RECORD_INTERVAL_SECONDS"] = "0"
        return env


class Receiver:
    """A threaded HTTP receiver recording when each delivery arrived and when it was made."""

    def __init__(self) -> None:
        self.arrivals: dict[str, tuple[float, float]] = {}
        self.lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.time()
                made = dt.datetime.fromisoformat(json.loads(body)["created_at"]).timestamp()
                with receiver.lock:
                    receiver.arrivals[self.headers["X-Cowrite-Delivery"]] = (made, arrived)
                    receiver.lock.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: len(self.arrivals) >= count, timeout)

    def reset(self) -> None:
        with self.lock:
            self.arrivals.clear()


def p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def add_webhook(target: Cowrite, url: str, events: list[str]) -> str:
    path = f"/api/v1/workspaces/{target.workspace_id}/webhooks"
    return str(target.api.call("POST", path, {"url": url, "events": events}, expect=201)["id"])


def set_active(target: Cowrite, hook: str, active: bool) -> None:
    target.api.call("PATCH", f"/api/v1/webhooks/{hook}", {"active": active})


def create_document(target: Cowrite, title: str) -> float:
    start = time.perf_counter()
    target.api.create_document(target.workspace_id, title, "webhook bench")
    return (time.perf_counter() - start) * 1000


def enqueue_cost(target: Cowrite, hook: str, blocks: int) -> dict[str, list[float]]:
    """Document creates in alternating blocks: webhook off (nothing queued), webhook on."""
    samples: dict[str, list[float]] = {"off": [], "on": []}
    for block in range(blocks * 2):
        mode = "on" if block % 2 else "off"
        set_active(target, hook, mode == "on")
        for n in range(COST_BLOCK_SIZE):
            samples[mode].append(create_document(target, f"cost {block}.{n}"))
    set_active(target, hook, False)
    return samples


def paced(target: Cowrite, receiver: Receiver, seconds: float) -> dict[str, Any]:
    """Creates at PACED_RATE per second from a small pool; latency of each event's delivery."""
    receiver.reset()
    count = int(PACED_RATE * seconds)
    started = time.monotonic()

    def one(n: int) -> None:
        delay = started + n / PACED_RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        target.api.create_document(target.workspace_id, f"paced {n}", "x")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(count)))
    sent_for = time.monotonic() - started
    if not receiver.wait_for(count, 120):
        raise BenchError(f"paced: {len(receiver.arrivals)} of {count} deliveries arrived")
    latencies = [(arrived - made) * 1000 for made, arrived in receiver.arrivals.values()]
    return {"events": count, "rate": count / sent_for, "latency_ms": latencies}


def _rows(hook: str, count: int, sqlite_ids: bool) -> list[tuple[Any, ...]]:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(count):
        delivery = uuid.uuid4()
        body = json.dumps(
            {
                "id": str(delivery),
                "event": "document.created",
                "created_at": now.isoformat().replace("+00:00", "Z"),
                "workspace_id": "bench",
                "data": {"n": n},
            }
        )
        when: Any = now.replace(tzinfo=None).isoformat(sep=" ") if sqlite_ids else now
        ident: Any = delivery.hex if sqlite_ids else delivery
        hook_id: Any = uuid.UUID(hook).hex if sqlite_ids else uuid.UUID(hook)
        rows.append((ident, hook_id, "document.created", body, "pending", 0, when, when))
    return rows


INSERT = (
    "INSERT INTO webhook_deliveries (id, webhook_id, event, body, status, attempt, "
    "next_attempt_at, created_at) VALUES ({})"
)


def queue_directly(target: Cowrite, hook: str, count: int) -> None:
    if target.backend == "sqlite":
        assert target.data_dir is not None
        with sqlite3.connect(Path(target.data_dir) / "cowrite.db", timeout=60) as db:
            db.executemany(INSERT.format(",".join("?" * 8)), _rows(hook, count, True))
        return

    async def insert() -> None:
        import asyncpg  # cowrite's own dependency, present beside the harness

        dsn = f"postgresql://postgres@127.0.0.1:5432/{target.database}"
        conn: Any = await asyncpg.connect(dsn)
        try:
            marks = ",".join(f"${n}" for n in range(1, 9))
            await conn.executemany(INSERT.format(marks), _rows(hook, count, False))
        finally:
            await conn.close()

    asyncio.run(insert())


def drain(target: Cowrite, receiver: Receiver, hook: str, count: int) -> dict[str, Any]:
    receiver.reset()
    queue_directly(target, hook, count)
    started = time.monotonic()
    if not receiver.wait_for(count, 600):
        raise BenchError(f"drain: {len(receiver.arrivals)} of {count} deliveries arrived")
    seconds = time.monotonic() - started
    return {"events": count, "seconds": seconds, "per_s": count / seconds}


def measure(ctx: Context, target: Cowrite) -> dict[str, Any]:
    with Receiver() as receiver, target:
        hook = add_webhook(target, receiver.url, ["document.created"])
        cost = enqueue_cost(target, hook, COST_BLOCKS[ctx.quick])
        set_active(target, hook, True)
        paced_result = paced(target, receiver, PACED_SECONDS[ctx.quick])
        drained = drain(target, receiver, hook, DRAIN[ctx.quick])
    return {"cost_ms": cost, "paced": paced_result, "drain": drained}


def run(ctx: Context) -> Outcome:
    rows = {
        "drain": Row("10 webhooks", f"{DRAIN[ctx.quick]:,} queued deliveries: deliveries/s"),
        "paced": Row(
            "10 webhooks",
            f"commit to delivery at {PACED_RATE:.0f} events/s: p50 / p99",
            budget=f"p99 ≤ {LATENCY_BUDGET_MS:.0f} ms",
        ),
        "cost": Row(
            "10 webhooks",
            "document create p95: no webhook / subscribed webhook (difference)",
            budget=f"≤ {COST_BUDGET_MS:.0f} ms more",
        ),
    }
    raw: dict[str, Any] = {}
    latency_met: dict[str, bool | None] = {}
    cost_met: dict[str, bool | None] = {}
    targets = [
        WebhookCowrite(ctx.logs, plain.backend, before=before)
        for plain in ctx.cowrites(both=True)
        for before in (True, False)
    ]
    for target in targets:
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "rest")
        if reason:
            for row in rows.values():
                row.values[target.name] = reason
            continue
        try:
            result = measure(ctx, target)
        except (BenchError, OSError) as exc:  # OSError: a request that timed out
            for row in rows.values():
                row.values[target.name] = f"error: {exc}"[:70]
            continue
        raw[target.name] = result
        drained, pace, cost = result["drain"], result["paced"], result["cost_ms"]
        rows["drain"].values[target.name] = (
            f"{drained['per_s']:,.0f}/s ({drained['events']:,} in {drained['seconds']:.1f} s)"
        )
        lat = pace["latency_ms"]
        rows["paced"].values[target.name] = (
            f"{p(lat, 50):,.0f} / {p(lat, 99):,.0f} ms ({pace['rate']:.0f} events/s reached)"
        )
        off, on = p(cost["off"], 95), p(cost["on"], 95)
        rows["cost"].values[target.name] = f"{off:.1f} / {on:.1f} ms ({on - off:+.1f} ms)"
        if not target.before:  # the verdict is about cowrite as it is
            latency_met[target.name] = p(lat, 99) <= LATENCY_BUDGET_MS
            cost_met[target.name] = on - off <= COST_BUDGET_MS
    rows["paced"].verdict = verdict(latency_met)
    rows["cost"].verdict = verdict(cost_met)
    return Outcome(rows=list(rows.values()), raw=raw)
