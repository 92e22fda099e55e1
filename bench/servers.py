"""The servers under test: the Node reference, Hocuspocus, pycrdt-websocket, cowrite (SQLite or
PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench.api import CowriteApi, http_paths, websocket_accepts
from bench.procs import BENCH_DIR, NODE_MODULES, BenchError, Server, free_port

PEERS = BENCH_DIR / ".peers"
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]
MISSING = "n/a (feature missing)"


class Target:
    """One server kind, started fresh for each run of a workload step."""

    name = ""
    # Whether the first client creates a room alone (pycrdt-websocket drops simultaneous joiners).
    first_alone = False

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.port = 0
        self.server: Server | None = None

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def yjs_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def params(self) -> dict[str, str]:
        return {}

    def features(self) -> set[str]:
        return {"yjs"}

    def unavailable(self) -> str | None:
        """Why this target cannot run at all, or None."""
        return None

    def start(self) -> None:
        raise NotImplementedError

    def new_room(self, fmt: str = "markdown") -> str:
        """A fresh document to edit (`fmt`: its format, where the server has formats)."""
        return uuid.uuid4().hex

    def pids(self) -> list[int]:
        return self.server.pids() if self.server else []

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    def __enter__(self) -> Target:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_rest: object) -> None:
        exit_code = self.exit_code()
        self.stop()
        if exit_code is not None and (exc_type is None or issubclass(exc_type, BenchError)):
            raise BenchError(f"server crashed during the run (exit {exit_code})")

    def exit_code(self) -> int | None:
        """The exit code of a server process that has died on its own, else None."""
        servers = [self.server, *getattr(self, "extra", [])]
        codes = [s.proc.poll() for s in servers if s and s.proc]
        return next((c for c in codes if c is not None), None)


class NodeReference(Target):
    """`@y/websocket-server`: no auth, no persistence, the raw ceiling of the protocol."""

    name = "node-ref"

    def unavailable(self) -> str | None:
        return (
            None if (NODE_MODULES / "@y" / "websocket-server").exists() else "n/a (not installed)"
        )

    def start(self) -> None:
        self.port = free_port()
        script = NODE_MODULES / "@y" / "websocket-server" / "src" / "server.js"
        env = {"HOST": "127.0.0.1", "PORT": str(self.port)}
        self.server = Server(["node", str(script)], env=env, log=self.logs / "node-ref.log")
        self.server.start()
        self.server.wait_http(self.http_base)


class Hocuspocus(Target):
    """A bare Hocuspocus server (no extensions): the server most Yjs products run. It speaks its
    own framing (the document name before every message, an Auth message first), so only the
    workloads that know it use it."""

    name = "hocuspocus"
    token = "bench"

    def unavailable(self) -> str | None:
        found = (NODE_MODULES / "@hocuspocus" / "server").exists()
        return None if found else "n/a (not installed)"

    def start(self) -> None:
        self.port = free_port()
        script = BENCH_DIR / "peers" / "hocuspocus_server.cjs"
        env = {"NODE_PATH": str(NODE_MODULES)}
        self.server = Server(
            ["node", str(script), str(self.port)], env=env, log=self.logs / "hocuspocus.log"
        )
        self.server.start()
        self.server.wait_http(self.http_base)


class PycrdtWebsocket(Target):
    """`pycrdt-websocket` under uvicorn defaults, in its own venv."""

    name = "pycrdt-websocket"
    first_alone = True

    def unavailable(self) -> str | None:
        return None if (PEERS / "pycrdt" / "bin" / "python").exists() else "n/a (not installed)"

    def start(self) -> None:
        self.port = free_port()
        argv = [
            str(PEERS / "pycrdt" / "bin" / "python"),
            str(BENCH_DIR / "peers" / "pycrdt_server.py"),
        ]
        self.server = Server([*argv, str(self.port)], log=self.logs / "pycrdt.log")
        self.server.start()
        self.server.wait_http(self.http_base, timeout=30)


def cowrite_executable() -> str | None:
    beside = Path(sys.executable).parent / "cowrite"
    return str(beside) if beside.exists() else shutil.which("cowrite")


class Cowrite(Target):
    """`cowrite serve` with auth and persistence, on SQLite (embedded) or PostgreSQL."""

    _features: dict[str, set[str]] = {}

    def __init__(
        self,
        logs: Path,
        backend: str = "sqlite",
        redis_db: int | None = None,
        *,
        settings: dict[str, str] | None = None,
        variant: str = "",
    ) -> None:
        super().__init__(logs)
        self.backend = backend
        self.redis_db = redis_db
        self.settings = settings or {}  # COWRITE_* variables a variant runs with
        self.name = f"cowrite-{'pg' if backend == 'postgres' else 'sqlite'}{variant}"
        self.api = CowriteApi("")
        self.workspace_id = ""
        self.database = ""
        self.data_dir: str | None = None
        self.extra: list[Server] = []

    def unavailable(self) -> str | None:
        if cowrite_executable() is None:
            return "n/a (cowrite not installed)"
        if self.backend == "postgres" and shutil.which("psql") is None:
            return "n/a (no PostgreSQL)"
        return None

    @property
    def yjs_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/yjs"

    @property
    def params(self) -> dict[str, str]:
        return {"token": self.api.token or ""}

    def environment(self) -> dict[str, str]:
        assert self.data_dir is not None
        env = {
            "COWRITE_DATA_DIR": self.data_dir,
            "COWRITE_SECRET_KEY": "bench-" + "k" * 40,
            # Workloads register their many users from this one address.
            "COWRITE_REGISTER_MAX_PER_ADDRESS": "1000000",
        }
        if self.backend == "postgres":
            env["COWRITE_DATABASE_URL"] = (
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}"
            )
        if self.redis_db is not None:
            env["COWRITE_REDIS_URL"] = f"redis://127.0.0.1:6379/{self.redis_db}"
        return {**env, **self.settings}

    def launch(self, port: int) -> Server:
        exe = cowrite_executable()
        assert exe is not None
        argv = [exe, "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = Server(argv, env=self.environment(), log=self.logs / f"{self.name}.log")
        server.start()
        server.wait_http(f"http://127.0.0.1:{port}/health", timeout=90)
        return server

    def start(self) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="cowrite-bench-")
        if self.backend == "postgres":
            self.database = "bench_" + uuid.uuid4().hex[:12]
            subprocess.run([*PG_ADMIN, f"CREATE DATABASE {self.database}"], check=True)
            if self.redis_db is not None:
                subprocess.run(
                    ["redis-cli", "-n", str(self.redis_db), "flushdb"],
                    check=False,
                    capture_output=True,
                )
        self.port = free_port()
        self.server = self.launch(self.port)
        self.api = CowriteApi(self.http_base)
        self.workspace_id = ""
        try:
            self.api.sign_up()
            self.workspace_id = self.api.create_workspace()
        except OSError as exc:
            raise BenchError(f"cowrite setup failed: {exc}") from exc
        except BenchError:
            pass  # accounts or workspaces missing: features() reports what is there

    def start_second(self) -> int:
        """Start one more process over the same database (scale-out); returns its port."""
        port = free_port()
        self.extra.append(self.launch(port))
        return port

    def pids(self) -> list[int]:
        return [p for s in [self.server, *self.extra] if s for p in s.pids()]

    def new_room(self, fmt: str = "markdown") -> str:
        return self.api.create_document(self.workspace_id, "bench " + uuid.uuid4().hex[:6], fmt=fmt)

    def known_features(self) -> set[str] | None:
        """The features probed earlier in this run, or None when not probed yet."""
        return self._features.get(self.name)

    def features(self) -> set[str]:
        """What this build of cowrite serves, probed once per backend."""
        if self.name not in self._features:
            found: set[str] = set()
            if not self.workspace_id:
                self._features[self.name] = found
                return found
            paths = http_paths(self.http_base)
            if "/api/v1/search" in paths:
                found.add("search")
            if any(p.startswith("/api/v1/documents") for p in paths):
                found.add("rest")
            try:
                doc = self.new_room()
            except BenchError:
                self._features[self.name] = found
                return found
            query = f"?token={self.api.token}"
            if websocket_accepts("127.0.0.1", self.port, f"/ws/yjs/{doc}{query}"):
                found.add("yjs")
            if websocket_accepts("127.0.0.1", self.port, f"/ws{query}"):
                found.add("presence")
            self._features[self.name] = found
        return self._features[self.name]

    def stop(self) -> None:
        for server in self.extra:
            server.stop()
        self.extra = []
        super().stop()
        if self.database:
            subprocess.run(
                [*PG_ADMIN, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"],
                check=False,
                capture_output=True,
            )
            self.database = ""
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None
