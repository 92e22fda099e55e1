"""Measure `/ws` presence by hand (numbers are printed, never asserted):

    python -m tests.presence.measure_load cursors --clients 100 --rate 10 --seconds 10 [--batch]
    python -m tests.presence.measure_load idle --clients 5000

`cursors`: every client joins one document and sends `cursor_move` at `rate` Hz; the column
carries the send time, so receivers compute delivery latency (p50/p99) from it. A few clients
(`--measured`) decode every event; the rest read their frames and drop them, as light listeners.
`idle`: connections that authenticated and joined a document, then stay quiet; the server's
RSS growth per connection. The server is a real `cowrite serve` on a fresh SQLite database,
pinned to core 0 when `taskset` exists (the load runs here, pin it with `taskset -c 1`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import websockets

from tests.support.factories import make_user
from tests.support.presence import make_document, make_workspace
from tests.support.server import free_port

SECRET = "measure-secret-key-that-is-long-enough-for-hs256-0123456789"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"sqlite+aiosqlite:///{workdir / 'measure.db'}"
        env = {
            **os.environ,
            "COWRITE_DATABASE_URL": self.url,
            "COWRITE_DATA_DIR": str(workdir / "data"),
            "COWRITE_SECRET_KEY": SECRET,
            "COWRITE_PASSWORD_HASH_MEMORY_KIB": "64",
            "COWRITE_PASSWORD_HASH_TIME_COST": "1",
            "COWRITE_LOG_LEVEL": "warning",
            "COWRITE_WS_RATE_BURST": "1000",
            "COWRITE_WS_RATE_PER_SECOND": "1000",
        }
        command = [sys.executable, "-m", "cowrite", "serve", "--port", str(self.port)]
        if shutil.which("taskset"):
            command = ["taskset", "-c", "0", *command]
        self.process = subprocess.Popen(
            command, env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

    async def wait(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    if (await client.get(f"{self.base}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not start")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


async def _setup(server: Server, users: int, documents: int = 1) -> tuple[list[str], list[str]]:
    async with httpx.AsyncClient(base_url=server.base) as client:
        people = [await make_user(client) for _ in range(users)]
    workspace = await make_workspace(
        server.url, people[0].id, [(p.id, "editor") for p in people[1:]]
    )
    made = [str(await make_document(server.url, workspace)) for _ in range(documents)]
    return [p.access_token for p in people], made


async def _connect(
    port: int, token: str, document: str | None, batch: bool
) -> websockets.ClientConnection:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws?token={token}", compression=None, max_queue=None
    )
    await socket.recv()  # connected
    if batch:
        await socket.send('{"type":"hello","batch":true}')
    if document is not None:
        message = {"type": "join_document", "document_id": document}
        await socket.send(orjson.dumps(message).decode())
        while orjson.loads(await socket.recv()).get("type") != "presence_list":
            pass
    return socket


async def cursors(args: argparse.Namespace, server: Server) -> None:
    tokens, [document] = await _setup(server, min(args.clients, 20))
    sockets = [
        await _connect(server.port, tokens[i % len(tokens)], document, args.batch)
        for i in range(args.clients)
    ]
    await asyncio.sleep(1.0)
    origin = time.monotonic()
    latencies: list[float] = []
    received = 0
    stop_at = origin + args.seconds

    async def listen(socket: websockets.ClientConnection, measured: bool) -> None:
        nonlocal received
        try:
            while True:
                raw = await socket.recv()
                if not measured:
                    continue
                now_ms = (time.monotonic() - origin) * 1000
                frame = orjson.loads(raw)
                events = frame["events"] if frame.get("type") == "batch" else [frame]
                for event in events:
                    if event.get("type") == "cursor_move":
                        received += 1
                        latencies.append(now_ms - event["cursor"]["column"])
        except websockets.ConnectionClosed:
            return

    async def move(index: int, socket: websockets.ClientConnection) -> None:
        period = 1 / args.rate
        await asyncio.sleep(period * index / len(sockets))  # spread the senders over a period
        while time.monotonic() < stop_at:
            column = int((time.monotonic() - origin) * 1000)
            message = {
                "type": "cursor_move",
                "document_id": document,
                "cursor": {"line": index, "column": column},
            }
            await socket.send(orjson.dumps(message).decode())
            await asyncio.sleep(period)

    listeners = [asyncio.create_task(listen(s, i < args.measured)) for i, s in enumerate(sockets)]
    cpu_before = _cpu_seconds(server.process.pid)
    load_before = time.process_time()
    await asyncio.gather(*(move(i, s) for i, s in enumerate(sockets)))
    await asyncio.sleep(0.5)
    elapsed = time.monotonic() - origin
    server_cpu = (_cpu_seconds(server.process.pid) - cpu_before) / elapsed
    load_cpu = (time.process_time() - load_before) / elapsed
    for task in listeners:
        task.cancel()
    for socket in sockets:
        await socket.close()
    latencies.sort()
    sent = args.clients * args.rate * args.seconds
    expected = sent * (args.clients - 1) / args.clients * min(args.measured, args.clients)
    print(
        f"cursors: {args.clients} clients x {args.rate} Hz, {args.seconds}s, batch={args.batch}\n"
        f"  delivered to the {args.measured} measured clients: {received} events "
        f"(every position would be {expected:.0f}; ticks keep only the latest)\n"
        f"  latency p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)]:.1f} ms, max {latencies[-1]:.1f} ms\n"
        f"  server CPU {server_cpu * 100:.0f}% of a core, load generator {load_cpu * 100:.0f}%"
    )


async def idle(args: argparse.Namespace, server: Server) -> None:
    tokens, documents = await _setup(server, 10, max(args.documents, 1))
    sockets = [await _connect(server.port, tokens[0], None, False) for _ in range(20)]
    await asyncio.sleep(1.0)  # warm: first connections allocate arenas, caches, pools
    where = f"joined over {args.documents} documents" if args.documents else "in no document"
    # Two equal rounds: the first also pays one-off growth (pools, caches, arenas); the second
    # is the marginal cost of a connection.
    half = args.clients // 2
    readings = [_rss_kib(server.process.pid)]
    for round_start in (0, half):
        for i in range(round_start, round_start + half):
            document = documents[i % len(documents)] if args.documents else None
            sockets.append(await _connect(server.port, tokens[i % len(tokens)], document, False))
        await asyncio.sleep(3.0)
        readings.append(_rss_kib(server.process.pid))
    first, second = readings[1] - readings[0], readings[2] - readings[1]
    print(
        f"idle: {2 * half} connections {where}, server RSS {readings[0] / 1024:.1f} → "
        f"{readings[1] / 1024:.1f} → {readings[2] / 1024:.1f} MiB: "
        f"{(first + second) / (2 * half):.1f} KiB per connection overall, "
        f"{second / half:.1f} KiB marginal (second {half})"
    )
    for socket in sockets:
        await socket.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("mode", choices=["cursors", "idle"])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--measured", type=int, default=10)
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--documents", type=int, default=0, help="idle: rooms to spread over")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        from cowrite.migrate import upgrade

        asyncio.run(upgrade(f"sqlite+aiosqlite:///{workdir / 'measure.db'}"))
        server = Server(workdir)
        try:
            asyncio.run(server.wait())
            asyncio.run(cursors(args, server) if args.mode == "cursors" else idle(args, server))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
