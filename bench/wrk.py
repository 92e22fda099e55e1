"""Run wrk pinned to the load core and read its summary."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from bench.procs import LOAD_CORE, BenchError, CpuWindow, pinned

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_pct: float | None = None


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise BenchError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def lua_request(method: str, body: str, headers: Mapping[str, str]) -> str:
    lines = [f'wrk.method = "{method}"', f"wrk.body = [[{body}]]"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    script: str | None = None,
    server_pids: list[int] | None = None,
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script or "")
        lua.flush()
        argv = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            lua.name,
            url,
        ]
        window = CpuWindow(server_pids) if server_pids else None
        done = subprocess.run(
            pinned(LOAD_CORE, argv),
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if not (rps and p50 and p99):
        raise BenchError(f"wrk failed: {(out + done.stderr)[-300:]}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    cpu = window.percent() if window else None
    return WrkResult(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), errors, cpu)
