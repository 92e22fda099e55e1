"""A real `cowrite serve` process on a free port, for end-to-end and WebSocket tests."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PR_SET_CHILD_SUBREAPER = 36


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One server; `start()` waits for /health, `stop()` sends SIGTERM, `kill()` SIGKILL."""

    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen[bytes] | ForkedProcess | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> ServerProcess:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting for it (see `wait_ready`)."""
        self.log_path = self.workdir / f"server-{self.port}.log"
        argv = [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        env = {**os.environ, **self.env}
        if self.workers == 1:
            # Several workers are processes uvicorn spawns afresh: forking saves them nothing.
            self.process = _launcher().start(argv, env, self.workdir, self.log_path)
            return
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cowrite", *argv],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 120.0) -> ServerProcess:
        """Wait until the launched process answers /health."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.logs()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def start_together(servers: list[ServerProcess], timeout: float = 120.0) -> None:
    """Launch every server at once, then wait for each: their start-ups overlap."""
    for server in servers:
        server.launch()
    for server in servers:
        server.wait_ready(timeout)


class ForkedProcess:
    """A server forked by the launcher and re-parented to this process: the part of
    `subprocess.Popen` the tests use, over its pid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"cowrite serve ({self.pid})", timeout or 0)
            time.sleep(0.005)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Launcher:
    """The process that forks servers (tests/support/launcher.py), one per test process."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.launcher"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        if self._read() != "ready":
            raise RuntimeError("the server launcher did not start")

    def _read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().decode().strip()

    def start(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        log: Path,
        *,
        stdin: Path | None = None,
        stderr: Path | None = None,
    ) -> ForkedProcess:
        """Fork `cowrite *argv`; its output goes to `log` (its errors to `stderr` if given)."""
        request: dict[str, object] = {"argv": argv, "env": env, "cwd": str(cwd), "log": str(log)}
        if stdin is not None:
            request["stdin"] = str(stdin)
        if stderr is not None:
            request["stderr"] = str(stderr)
        with self.lock:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            answer = json.loads(self._read())
        if "pid" not in answer:
            raise RuntimeError(f"the launcher could not start a server: {answer}")
        return ForkedProcess(int(answer["pid"]))


_launchers: list[Launcher] = []
_launcher_lock = threading.Lock()


def _launcher() -> Launcher:
    """This process's launcher, started on first use (a pytest-xdist worker has its own)."""
    with _launcher_lock:
        if not _launchers or _launchers[0].process.poll() is not None:
            _launchers[:] = [Launcher()]
        return _launchers[0]


def run_cli(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    input: str = "",
    timeout: float = 120.0,
    inherit: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`cowrite *args` run to its end as `subprocess.run(..., capture_output=True, text=True)`
    would, in a process forked by the launcher (with `env` over this process's environment, or
    `env` alone when not `inherit`)."""
    with tempfile.TemporaryDirectory(prefix="cowrite-cli-") as folder:
        streams = Path(folder)
        (streams / "stdin").write_text(input)
        process = _launcher().start(
            args,
            {**os.environ, **env} if inherit else dict(env),
            cwd,
            streams / "stdout",
            stdin=streams / "stdin",
            stderr=streams / "stderr",
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        output = [
            (streams / name).read_text() if (streams / name).exists() else ""
            for name in ("stdout", "stderr")
        ]
    return subprocess.CompletedProcess(["cowrite", *args], code, output[0], output[1])
