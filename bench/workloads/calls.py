"""Workload 16: call signalling — the relay latency of `rtc_signal` with 100 concurrent calls of
4 people, on one process and on two processes sharing Redis.

Each call is a document with four `/ws` connections in its call (four users, each with one
connection per call). Every pair negotiates as browsers do: one side sends an offer (a 2.5 KB
SDP), the other answers, then each side trickles 20 ICE candidates (one every 25 ms) to the
other. Offers start spread over the first two seconds, so all calls negotiate at once. A signal
carries the time it was sent (the generator is one process, one clock); its latency is the time
until the addressed connection reads it. On two processes the participants of every call are
split two and two, so half the pairs cross processes. The generator's own event-loop lag is
measured beside it (it is part of every latency).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import websockets

from bench.api import CowriteApi
from bench.procs import BenchError
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

SIZE, CANDIDATES, TRICKLE_S, SPREAD_S = 4, 20, 0.025, 2.0
RELAY_BUDGET_MS, CROSS_BUDGET_MS = 20.0, 5.0
REDIS_DB = 12
SDP = "v=0\r\n" + "a=x-bench:" + "0123456789abcdef" * 150 + "\r\n"


def quantile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Participant:
    socket: Any
    port: int
    document_id: str
    connection_id: str = ""
    peers: dict[str, int] = field(default_factory=dict)  # connection id → port

    async def send_signal(self, to: str, signal: dict[str, Any]) -> None:
        signal["t"] = time.perf_counter()
        frame = {"type": "rtc_signal", "document_id": self.document_id, "to": to, "signal": signal}
        await self.socket.send(orjson.dumps(frame).decode())


@dataclass
class Tally:
    same: list[float] = field(default_factory=list)
    cross: list[float] = field(default_factory=list)
    errors: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


async def _open(port: int, token: str, document_id: str) -> Participant:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws?token={token}", compression=None, max_size=2**22
    )
    connected = orjson.loads(await socket.recv())
    participant = Participant(socket, port, document_id, str(connected["connection_id"]))
    await socket.send(orjson.dumps({"type": "join_document", "document_id": document_id}).decode())
    call = {"type": "call_join", "document_id": document_id, "media": {"audio": True}}
    await socket.send(orjson.dumps(call).decode())
    while True:
        frame = orjson.loads(await socket.recv())
        if frame.get("type") == "call_state":
            return participant
        if frame.get("type") == "error":
            raise BenchError(f"call_join refused: {frame}")


async def _trickle(sender: Participant, to: str) -> None:
    for n in range(CANDIDATES):
        candidate = f"candidate:{n} 1 udp {2130706431 - n} 127.0.0.1 {50000 + n} typ host"
        signal = {"type": "candidate", "candidate": {"candidate": candidate, "sdpMid": "0"}}
        await sender.send_signal(to, signal)
        await asyncio.sleep(TRICKLE_S)


async def _read(me: Participant, tally: Tally, done: asyncio.Event, expected: int) -> None:
    """Take this connection's frames: time every signal; answer offers, trickle after answers."""

    def background(coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        tally.tasks.add(task)
        task.add_done_callback(tally.tasks.discard)

    try:
        async for raw in me.socket:
            now = time.perf_counter()
            frame = orjson.loads(raw)
            events = frame["events"] if frame.get("type") == "batch" else [frame]
            for event in events:
                kind = event.get("type")
                if kind == "error":
                    tally.errors += 1
                    if tally.errors <= 3:
                        print("signal refused:", event)
                if kind != "rtc_signal":
                    continue
                signal = event["signal"]
                latency = (now - float(signal["t"])) * 1000
                sender = event["from"]
                (tally.same if me.peers.get(sender) == me.port else tally.cross).append(latency)
                if signal["type"] == "offer":
                    await me.send_signal(sender, {"type": "answer", "sdp": SDP})
                    background(_trickle(me, sender))
                elif signal["type"] == "answer":
                    background(_trickle(me, sender))
                if len(tally.same) + len(tally.cross) >= expected:
                    done.set()
    except websockets.ConnectionClosed:
        pass


async def _loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - started - 0.01) * 1000)


async def measure(target: Cowrite, ports: list[int], calls: int) -> dict[str, Any]:
    owner = target.api
    users = [owner]
    for n in range(SIZE - 1):
        member = CowriteApi(target.http_base)
        member.sign_up(f"caller{n}")
        owner.add_member(target.workspace_id, member.email, "viewer")
        users.append(member)
    documents = [owner.create_document(target.workspace_id, f"call {n}") for n in range(calls)]
    gate = asyncio.Semaphore(50)

    async def opened(user: CowriteApi, index: int, document_id: str) -> Participant:
        async with gate:
            return await _open(ports[index % len(ports)], user.token or "", document_id)

    rooms: list[list[Participant]] = []
    for document_id in documents:
        rooms.append(
            await asyncio.gather(*(opened(u, i, document_id) for i, u in enumerate(users)))
        )
    for room in rooms:
        for me in room:
            me.peers = {p.connection_id: p.port for p in room if p is not me}
    pairs = SIZE * (SIZE - 1) // 2
    expected = calls * pairs * (2 + 2 * CANDIDATES)
    tally, done, stop, lags = Tally(), asyncio.Event(), asyncio.Event(), []
    readers = [
        asyncio.create_task(_read(me, tally, done, expected)) for room in rooms for me in room
    ]
    lagger = asyncio.create_task(_loop_lag(stop, lags))

    async def offer_later(sender: Participant, to: str) -> None:
        await asyncio.sleep(random.uniform(0, SPREAD_S))
        await sender.send_signal(to, {"type": "offer", "sdp": SDP})

    started = time.perf_counter()
    offers = [
        offer_later(room[i], room[j].connection_id)
        for room in rooms
        for i in range(SIZE)
        for j in range(i + 1, SIZE)
    ]
    await asyncio.gather(*offers)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 60)
    elapsed = time.perf_counter() - started
    stop.set()
    await lagger
    for room in rooms:
        for me in room:
            await me.socket.close()
    await asyncio.gather(*readers, return_exceptions=True)
    for task in list(tally.tasks):
        task.cancel()
    every = tally.same + tally.cross
    return {
        "expected": expected,
        "delivered": len(every),
        "errors": tally.errors,
        "seconds": elapsed,
        "p50": statistics.median(every) if every else None,
        "p99": quantile(every, 0.99),
        "same_p99": quantile(tally.same, 0.99),
        "cross_p99": quantile(tally.cross, 0.99),
        "same_count": len(tally.same),
        "cross_count": len(tally.cross),
        "generator_lag_p99": quantile(lags, 0.99),
    }


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


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
        "the same on two processes + Redis (half the pairs across)",
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
        with single:
            one = asyncio.run(measure(single, [single.port], calls))
        with double:
            two = asyncio.run(measure(double, [double.port, double.start_second()], calls))
    except (BenchError, OSError) as exc:
        one_row.values[col] = f"error: {exc}"[:70]
        return Outcome(rows=[one_row, two_row])

    def delivered(report: dict[str, Any]) -> str:
        return f"{report['delivered']:,} of {report['expected']:,} signals"

    one_row.values[col] = (
        f"p50 {_ms(one['p50'])} · p99 {_ms(one['p99'])} · {delivered(one)}"
        f" (generator lag p99 {_ms(one['generator_lag_p99'])})"
    )
    added = (
        None
        if two["cross_p99"] is None or two["same_p99"] is None
        else two["cross_p99"] - two["same_p99"]
    )
    two_row.values[col] = (
        f"p99 same {_ms(two['same_p99'])} / across {_ms(two['cross_p99'])}"
        f" (adds {'—' if added is None else f'{added:+.1f} ms'}) · {delivered(two)}"
        f" (generator lag p99 {_ms(two['generator_lag_p99'])})"
    )
    complete = one["delivered"] == one["expected"] and two["delivered"] == two["expected"]
    one_row.verdict = verdict({col: complete and (one["p99"] or 1e9) <= RELAY_BUDGET_MS})
    crossing_ok = None if added is None else complete and added <= CROSS_BUDGET_MS
    two_row.verdict = verdict({col: crossing_ok})
    return Outcome(rows=[one_row, two_row], raw={"one": one, "two": two})
