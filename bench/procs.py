"""Processes under test and load: CPU pinning, readiness, and RSS/CPU read from /proc."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER_CORE = "0"
LOAD_CORE = "1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
BENCH_DIR = Path(__file__).resolve().parent
NODE_MODULES = BENCH_DIR / ".peers" / "node" / "node_modules"
LOAD_DIR = BENCH_DIR / "load"


class BenchError(RuntimeError):
    """A benchmark step could not run (a server did not start, a load tool failed)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_file_limit() -> int:
    """Raise the soft open-files limit to the hard one (inherited by servers and load)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def pinned(core: str, argv: Sequence[str]) -> list[str]:
    return ["taskset", "-c", core, *argv]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def process_tree(pid: int) -> list[int]:
    """The pid and all its live descendants."""
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(_children(p))
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    return total


@dataclass
class CpuWindow:
    """CPU use of a process tree over a window, in percent of one core."""

    pids: list[int]
    start_cpu: float = 0.0
    start_wall: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.start_cpu = cpu_seconds(self.pids)

    def percent(self) -> float:
        wall = time.monotonic() - self.start_wall
        return round(100 * (cpu_seconds(self.pids) - self.start_cpu) / wall, 1) if wall > 0 else 0.0


class Server:
    """A server process pinned to the server core, stopped on exit."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            pinned(SERVER_CORE, self.argv),
            env=self.env,
            cwd=self.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def pids(self) -> list[int]:
        return process_tree(self.pid)

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise BenchError(f"{self.argv[0]} exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers HTTP: listening
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"{url} not ready after {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def run_node_load(
    script: str,
    config: Mapping[str, object],
    timeout: float,
    on_phase: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run a Node load generator pinned to the load core; return its JSON report.

    Lines `PHASE <name>` that it prints are passed to `on_phase` as they come, so the caller can
    sample the server over exactly the measured window.
    """
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    argv = pinned(LOAD_CORE, ["node", str(LOAD_DIR / script), json.dumps(config)])
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    report: dict[str, Any] | None = None
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode().strip()
            if line.startswith("PHASE ") and on_phase:
                on_phase(line.removeprefix("PHASE "))
            elif line.startswith("{"):
                report = json.loads(line)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        proc.wait()
    finally:
        killer.cancel()
    if report is None:
        raise BenchError(f"{script} exited {proc.returncode}: {stderr[-400:]}")
    if "error" in report:
        raise BenchError(f"{script}: {str(report['error'])[:400]}")
    return report


class PhaseSampler:
    """Samples a server's CPU between a load generator's `PHASE start` and `PHASE end`."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self.pids = pids
        self.window: CpuWindow | None = None
        self.cpu_pct: float | None = None
        self.rss_bytes: int | None = None

    def __call__(self, name: str) -> None:
        if name == "start":
            self.window = CpuWindow(self.pids())
        elif name == "end" and self.window is not None:
            self.cpu_pct = self.window.percent()
            self.rss_bytes = rss_bytes(self.pids())
