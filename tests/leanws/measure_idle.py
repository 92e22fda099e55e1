"""Where an idle socket's bytes go, by hand (numbers are printed, never asserted):

    python -m tests.leanws.measure_idle --kind yjs -n 2000 [--trace [--depth 4]] [--impl lean]

Starts a real `cowrite serve` (fresh SQLite data dir), opens `n` sockets that stay quiet
(`yjs`: /ws/yjs after sync step 1; `ws`: /ws after `connected`) and prints the server's RSS
growth per socket. With `--trace` the server runs under tracemalloc and the growth is broken
down by file and line (or by traceback with `--depth` > 1); tracing inflates RSS itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path

from bench.api import CowriteApi
from tests.support.server import free_port

PAGE = os.sysconf("SC_PAGE_SIZE")
SYNC_STEP1_EMPTY = bytes([0, 0, 1, 0])

# Runs in the server process: SIGUSR1 writes a snapshot (empty file when not tracing).
LAUNCHER = """
import gc, os, signal, sys, tracemalloc
if os.environ["MEASURE_TRACE"] == "1":
    tracemalloc.start(int(os.environ["MEASURE_DEPTH"]))
count = [0]
def dump(sig, frame):
    gc.collect()
    path = os.environ["MEASURE_PREFIX"] + f".{count[0]}.snap"
    count[0] += 1
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(path + ".tmp")
    else:
        open(path + ".tmp", "w").close()
    os.rename(path + ".tmp", path)
signal.signal(signal.SIGUSR1, dump)
from cowrite.cli import main
sys.exit(main(["serve", "--host", "127.0.0.1", "--port", sys.argv[1]]))
"""


def rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def masked(payload: bytes) -> bytes:
    key = os.urandom(4)
    return (
        bytes((0x82, 0x80 | len(payload)))
        + key
        + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    )


async def open_socket(port: int, path: str, first: bytes | None) -> asyncio.StreamWriter:
    """Upgrade, send `first`, wait for the server's first frame; the socket then stays open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.decode(errors="replace"))
    if first is not None:
        writer.write(masked(first))
    size = (await reader.readexactly(2))[1] & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    await reader.readexactly(size)
    return writer


async def open_many(port: int, path: str, first: bytes | None, n: int, keep: list[object]) -> None:
    gate = asyncio.Semaphore(100)

    async def one() -> None:
        async with gate:
            keep.append(await open_socket(port, path, first))

    await asyncio.gather(*(one() for _ in range(n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=["yjs", "ws"], default="yjs")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--impl", default=None, help="COWRITE_WS_IMPL for the server")
    args = parser.parse_args()
    port = free_port()
    data = tempfile.mkdtemp(prefix="cowrite-idle-")
    env = {
        **os.environ,
        "COWRITE_DATA_DIR": data,
        "COWRITE_SECRET_KEY": "m" * 48,
        "COWRITE_LOG_LEVEL": "warning",
        "MEASURE_PREFIX": f"{data}/snap",
        "MEASURE_TRACE": "1" if args.trace else "0",
        "MEASURE_DEPTH": str(args.depth),
    }
    if args.impl:
        env["COWRITE_WS_IMPL"] = args.impl
    with open(f"{data}/server.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(port)], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    api = CowriteApi(base)
    token = api.sign_up("idle")
    document = api.create_document(api.create_workspace(), "idle", "hello")
    if args.kind == "yjs":
        path, first = f"/ws/yjs/{document}?token={token}", SYNC_STEP1_EMPTY
    else:
        path, first = f"/ws?token={token}", None
    snapshots: list[str] = []

    def snapshot() -> int:
        target = f"{data}/snap.{len(snapshots)}.snap"
        os.kill(server.pid, signal.SIGUSR1)
        while not os.path.exists(target):
            time.sleep(0.1)
        snapshots.append(target)
        return rss(server.pid)

    keep: list[object] = []
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(open_many(port, path, first, 20, keep))
        time.sleep(2)
        before = snapshot()
        loop.run_until_complete(open_many(port, path, first, args.n, keep))
        time.sleep(2)
        after = snapshot()
        print(
            f"{args.kind} sockets, transport {args.impl or 'default'}: RSS growth "
            f"{(after - before) / args.n / 1024:.1f} KB per socket over {args.n} "
            f"({before / 2**20:.1f} -> {after / 2**20:.1f} MiB; tracing {args.trace})"
        )
        if args.trace:
            report(snapshots[0], snapshots[1], args)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        loop.close()


def report(first: str, second: str, args: argparse.Namespace) -> None:
    old, new = tracemalloc.Snapshot.load(first), tracemalloc.Snapshot.load(second)
    keys = ("filename", "lineno") if args.depth == 1 else ("traceback",)
    for key in keys:
        stats = new.compare_to(old, key)
        total = sum(s.size_diff for s in stats) / args.n
        print(f"\n== traced growth by {key}: {total:.0f} B per socket")
        for stat in stats[: args.top]:
            print(
                f"{stat.size_diff / args.n:8.0f} B {stat.count_diff / args.n:6.2f} blocks", end=""
            )
            if key == "traceback":
                print()
                for line in stat.traceback.format()[-2 * args.depth :]:
                    print("      ", line)
            else:
                print(f"  {stat.traceback}")


if __name__ == "__main__":
    main()
