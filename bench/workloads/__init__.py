"""The benchmark workloads: each takes a Context and returns table rows plus raw data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import Row
from bench.servers import Cowrite, NodeReference, PycrdtWebsocket, Target


@dataclass
class Context:
    quick: bool
    logs: Path
    traces: Path
    servers: set[str] | None = None  # None: every server

    def wanted(self, target: Target) -> bool:
        return self.servers is None or target.name in self.servers

    def cowrites(self, *, both: bool = False) -> list[Cowrite]:
        """cowrite on SQLite and PostgreSQL; quick mode keeps to SQLite unless `both`."""
        backends = ["sqlite", "postgres"] if both or not self.quick else ["sqlite"]
        return [Cowrite(self.logs, b) for b in backends]

    def yjs_targets(self, *, pycrdt: bool = True) -> list[Target]:
        """Servers of the y-websocket protocol: the peers, then cowrite."""
        peers: list[Target] = [NodeReference(self.logs)]
        if pycrdt:
            peers.append(PycrdtWebsocket(self.logs))
        return [*peers, *self.cowrites()]

    def trace(self, name: str) -> Path | None:
        path = self.traces / f"{name}.json.gz"
        return path if path.exists() else None


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


Workload = Callable[[Context], Outcome]


def registry() -> dict[str, Workload]:
    """Workloads by name, in the order they run."""
    from bench.workloads import (
        access,
        calls,
        coedit,
        comments,
        durability,
        fanout,
        idle,
        multi,
        notifications,
        presence,
        rest,
        rich,
        rolling,
        scaleout,
        search,
        shares,
        single,
        transfer,
        webhooks,
    )

    return {
        "coedit": coedit.run,
        "presence": presence.run,
        "idle": idle.run,
        "rest": rest.run,
        "durability": durability.run,
        "single": single.run,
        "multi": multi.run,
        "search": search.run,
        "scaleout": scaleout.run,
        "rolling": rolling.run,
        "notifications": notifications.run,
        "comments": comments.run,
        "rich": rich.run,
        "transfer": transfer.run,
        "webhooks": webhooks.run,
        "shares": shares.run,
        "calls": calls.run,
        "fanout": fanout.run,
        "access": access.run,
    }
