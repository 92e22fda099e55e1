"""Workload 10: notifications — the polled unread count over a big table, live pushes to the 50
followers of a document when it is edited, and the mail outbox draining into a local SMTP sink.

The database is seeded directly (cowrite's own tables): 100,000 notifications, of which the
measured user owns 10,000 (1,000 unread); the rest belong to nine other users. The pushes: 50
users follow a document, each with a `/ws` connection joined to nothing; the bench user edits it
over REST; the time from sending the PATCH to each socket's `notification` frame is one sample
(a fresh document per round: edits fold into one notification per 10 minutes). The mails: 10,000
rows put into the outbox at once, sent by the server's mailer to an aiosmtpd sink in this process.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import orjson
import websockets

from bench.procs import BenchError, free_port
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

TOTAL = 100_000
OWN, OWN_UNREAD, OTHERS = 10_000, 1_000, 9
FOLLOWERS = 50
MAILS = 10_000
COUNT_BUDGET_MS, PUSH_BUDGET_MS, DRAIN_BUDGET = 5.0, 200.0, 200.0


class MailSink:
    """aiosmtpd in a thread: counts what arrives and when."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.count = 0
        self.first: float | None = None
        self.last: float | None = None
        self.done = threading.Event()
        self.expect = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
        now = time.monotonic()
        self.first = self.first or now
        self.last = now
        self.count += 1
        if self.expect and self.count >= self.expect:
            self.done.set()
        return "250 OK"

    def start(self) -> int:
        self.controller.start()
        return self.port

    def stop(self) -> None:
        self.controller.stop()


class MailingCowrite(Cowrite):
    def __init__(self, logs: Any, backend: str, smtp_port: int) -> None:
        super().__init__(logs, backend)
        self.smtp_port = smtp_port

    def environment(self) -> dict[str, str]:
        return {
            **super().environment(),
            "COWRITE_SMTP_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "COWRITE_MAIL_POLL_INTERVAL_SECONDS": "0.5",
            "COWRITE_MAIL_BATCH_SIZE": "500",
        }

    @property
    def database_url(self) -> str:
        if self.backend == "postgres":
            return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}"
        return f"sqlite+aiosqlite:///{self.data_dir}/cowrite.db"


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _seed_notifications(target: MailingCowrite, me: str, others: list[str]) -> None:
    from cowrite.db import create_engine
    from cowrite.kit.clock import utcnow
    from cowrite.models import Notification

    engine = create_engine(target.database_url)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    owners = [me] * OWN + [others[i % len(others)] for i in range(TOTAL - OWN)]
    for i, owner in enumerate(owners):
        made = now - timedelta(seconds=TOTAL - i)
        unread = owner != me or i < OWN_UNREAD
        rows.append(
            {
                "id": uuid.uuid4(),
                "user_id": uuid.UUID(owner),
                "kind": "document_updated",
                "workspace_id": uuid.UUID(target.workspace_id),
                "title": "Seeded",
                "excerpt": "seeded for the benchmark",
                "created_at": made,
                "updated_at": made,
                "read_at": None if unread else made,
            }
        )
    try:
        async with engine.begin() as connection:
            for start in range(0, len(rows), 5_000):
                await connection.execute(
                    Notification.__table__.insert(), rows[start : start + 5_000]
                )
    finally:
        await engine.dispose()


async def _queue_mails(target: MailingCowrite, count: int) -> None:
    from cowrite.db import create_engine
    from cowrite.kit.clock import utcnow
    from cowrite.models import OutgoingMail

    engine = create_engine(target.database_url)
    now = utcnow()
    message = "Subject: bench\r\nFrom: cowrite@localhost\r\nTo: sink@bench.example\r\n\r\nhi\r\n"
    rows = [
        {
            "recipient": "sink@bench.example",
            "message": message,
            "next_attempt_at": now,
            "attempts": 0,
            "created_at": now,
        }
        for _ in range(count)
    ]
    try:
        async with engine.begin() as connection:
            await connection.execute(OutgoingMail.__table__.insert(), rows)
    finally:
        await engine.dispose()


async def _user_id(client: httpx.AsyncClient, token: str) -> str:
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    return str(me.json()["id"])


async def measure_count(target: MailingCowrite, requests: int) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=target.http_base, timeout=30) as client:
        me = await _user_id(client, target.api.token or "")
        others = []
        for n in range(OTHERS):
            other = type(target.api)(target.http_base)
            other.sign_up(f"other{n}")
            others.append(await _user_id(client, other.token or ""))
        await _seed_notifications(target, me, others)
        headers = {"Authorization": f"Bearer {target.api.token}"}
        samples: list[float] = []
        baseline: list[float] = []  # GET /users/me in turn with it: the authenticated floor
        for _ in range(requests + 20):
            started = time.perf_counter()
            response = await client.get("/api/v1/notifications/unread-count", headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            if response.json()["count"] < OWN_UNREAD:
                raise BenchError(f"unread count {response.text}")
            started = time.perf_counter()
            await client.get("/api/v1/users/me", headers=headers)
            baseline.append((time.perf_counter() - started) * 1000)
        samples, baseline = samples[20:], baseline[20:]  # warm-up
    return {
        "p50": statistics.median(samples),
        "p95": quantile(samples, 0.95),
        "me_p50": statistics.median(baseline),
        "me_p95": quantile(baseline, 0.95),
    }


async def measure_pushes(target: MailingCowrite, rounds: int) -> dict[str, Any]:
    owner = target.api
    headers = {"Authorization": f"Bearer {owner.token}"}
    async with httpx.AsyncClient(base_url=target.http_base, timeout=30) as client:
        followers = []
        for n in range(FOLLOWERS):
            api = type(owner)(target.http_base)
            api.sign_up(f"follower{n}")
            owner.add_member(target.workspace_id, api.email, "viewer")
            followers.append(api)
        sockets = [
            await websockets.connect(
                f"ws://127.0.0.1:{target.port}/ws?token={api.token}", compression=None
            )
            for api in followers
        ]
        for socket in sockets:
            await socket.recv()  # connected
        latencies: list[float] = []
        patch_ms: list[float] = []
        for n in range(rounds):
            document = owner.create_document(target.workspace_id, f"followed {n}", "start")
            for api in followers:
                await client.put(
                    f"/api/v1/documents/{document}/subscription",
                    headers={"Authorization": f"Bearer {api.token}"},
                )

            async def first_notification(socket: Any, since: float) -> float:
                while True:
                    frame = orjson.loads(await socket.recv())
                    events = frame["events"] if frame.get("type") == "batch" else [frame]
                    if any(e.get("type") == "notification" for e in events):
                        return (time.perf_counter() - since) * 1000

            started = time.perf_counter()
            waits = [asyncio.create_task(first_notification(s, started)) for s in sockets]
            edited = await client.patch(
                f"/api/v1/documents/{document}", json={"content": f"edit {n}"}, headers=headers
            )
            patch_ms.append((time.perf_counter() - started) * 1000)
            if edited.status_code != 200:
                raise BenchError(f"edit failed: {edited.text[:80]}")
            latencies += await asyncio.wait_for(asyncio.gather(*waits), 30)
        for socket in sockets:
            await socket.close()
    return {
        "p50": statistics.median(latencies),
        "p99": quantile(latencies, 0.99),
        "patch_p50": statistics.median(patch_ms),
        "samples": len(latencies),
    }


def measure_drain(target: MailingCowrite, sink: MailSink, count: int) -> dict[str, float]:
    sink.count, sink.first, sink.last, sink.expect = 0, None, None, count
    sink.done.clear()
    started = time.monotonic()
    asyncio.run(_queue_mails(target, count))
    if not sink.done.wait(600):
        raise BenchError(f"only {sink.count} of {count} mails arrived")
    assert sink.first is not None and sink.last is not None
    return {
        "rate": count / max(sink.last - sink.first, 1e-9),
        "total_s": sink.last - started,
    }


def run(ctx: Context) -> Outcome:
    rounds = 1 if ctx.quick else 5
    count_row = Row(
        "10 notifications",
        f"unread count, {TOTAL:,} rows ({OWN_UNREAD:,} unread of the caller's {OWN:,})",
        budget=f"p95 ≤ {COUNT_BUDGET_MS:.0f} ms",
    )
    push_row = Row(
        "10 notifications",
        f"edit of a document {FOLLOWERS} people follow: PATCH to each live push",
        budget=f"p99 ≤ {PUSH_BUDGET_MS:.0f} ms",
    )
    drain_row = Row(
        "10 notifications",
        f"{MAILS:,} queued mails into a local SMTP sink",
        budget=f"≥ {DRAIN_BUDGET:.0f} mails/s",
    )
    raw: dict[str, Any] = {}
    met: dict[str, dict[str, bool | None]] = {"count": {}, "push": {}, "drain": {}}
    sink = MailSink()
    port = sink.start()
    try:
        for plain in ctx.cowrites():
            target = MailingCowrite(ctx.logs, plain.backend, port)
            if not ctx.wanted(target):
                continue
            reason = skip_reason(target, "presence")
            if reason:
                count_row.values[target.name] = reason
                continue
            try:
                with target:
                    count = asyncio.run(measure_count(target, 200 if ctx.quick else 1000))
                    pushes = asyncio.run(measure_pushes(target, rounds))
                    drain = measure_drain(target, sink, MAILS)
            except (BenchError, OSError) as exc:
                count_row.values[target.name] = f"error: {exc}"[:70]
                continue
            raw[target.name] = {"count": count, "pushes": pushes, "drain": drain}
            count_row.values[target.name] = (
                f"p50 {count['p50']:.1f} · p95 {count['p95']:.1f} ms"
                f" (GET /users/me: {count['me_p50']:.1f} · {count['me_p95']:.1f})"
            )
            push_row.values[target.name] = (
                f"p50 {pushes['p50']:.0f} · p99 {pushes['p99']:.0f} ms over {pushes['samples']}"
                f" · PATCH p50 {pushes['patch_p50']:.0f} ms"
            )
            drain_row.values[target.name] = (
                f"{drain['rate']:,.0f} mails/s · all in {drain['total_s']:.1f} s"
            )
            met["count"][target.name] = count["p95"] <= COUNT_BUDGET_MS
            met["push"][target.name] = pushes["p99"] <= PUSH_BUDGET_MS
            met["drain"][target.name] = drain["rate"] >= DRAIN_BUDGET
    finally:
        sink.stop()
    count_row.verdict = verdict(met["count"])
    push_row.verdict = verdict(met["push"])
    drain_row.verdict = verdict(met["drain"])
    return Outcome(rows=[count_row, push_row, drain_row], raw=raw)
