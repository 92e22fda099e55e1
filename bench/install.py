"""Install the peers and load tools the benchmarks use into bench/.peers (never committed)."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys

from bench.procs import BENCH_DIR, LOAD_DIR

PEERS = BENCH_DIR / ".peers"


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def node_peers() -> None:
    """The Yjs load clients and the Node reference server, pinned by the committed lockfile."""
    target = PEERS / "node"
    target.mkdir(parents=True, exist_ok=True)
    lock = target / "package-lock.json"
    if (
        (target / "node_modules").exists()
        and lock.exists()
        and filecmp.cmp(lock, LOAD_DIR / "package-lock.json", shallow=False)
    ):
        return
    say("installing the Node load tools and @y/websocket-server")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(LOAD_DIR / name, target / name)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=target,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def pycrdt_peer() -> None:
    """pycrdt-websocket in its own venv, so it does not disturb cowrite's dependencies."""
    venv = PEERS / "pycrdt"
    stamp = venv / "requirements.txt"
    wanted = BENCH_DIR / "peers" / "requirements-pycrdt.txt"
    if stamp.exists() and filecmp.cmp(stamp, wanted, shallow=False):
        return
    say("installing pycrdt-websocket into its own venv")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    done = subprocess.run([*pip, "-r", str(wanted)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip install of the pycrdt peer failed: {done.stderr[-800:]}")
    shutil.copy(wanted, stamp)


def wrk() -> bool:
    """wrk for the HTTP workload, from Debian's packages when running as root."""
    if shutil.which("wrk"):
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say("wrk is missing and cannot be installed here: the REST workload will be skipped")
        return False
    say("installing wrk")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which("wrk") is not None


def everything() -> None:
    node_peers()
    pycrdt_peer()
    wrk()
