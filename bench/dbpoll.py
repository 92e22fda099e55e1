"""Watch cowrite's Yjs update log from outside: when does each marker reach the database?"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

MARKER = re.compile(rb"\x01(\d+):(\d+):([\d.]+)\x02")
UPDATES = "SELECT id, data FROM yjs_updates WHERE id > $1 ORDER BY id"
SNAPSHOTS = "SELECT state FROM yjs_snapshots"


class UpdateLogWatcher:
    """Polls the update log (and snapshots, which compaction folds updates into) in a thread,
    recording the wall-clock time (ms) at which each marker's sequence number first shows up."""

    def __init__(
        self, *, sqlite_path: Path | None = None, pg_dsn: str | None = None, interval: float = 0.005
    ) -> None:
        self.sqlite_path = sqlite_path
        self.pg_dsn = pg_dsn
        self.interval = interval
        self.seen_ms: dict[int, float] = {}
        self.polls = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def available(backend: str) -> bool:
        return backend == "sqlite" or importlib.util.find_spec("asyncpg") is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # a load that failed before its start never began it
            self._thread.join(timeout=10)

    def _record(self, blobs: list[bytes], now_ms: float) -> None:
        for blob in blobs:
            for match in MARKER.finditer(blob):
                self.seen_ms.setdefault(int(match.group(2)), now_ms)

    def _run(self) -> None:
        try:
            if self.sqlite_path is not None:
                self._poll_sqlite(self.sqlite_path)
            elif self.pg_dsn is not None:
                asyncio.run(self._poll_pg(self.pg_dsn))
        except Exception as exc:  # reported with the result rather than lost in a thread
            self.error = f"{type(exc).__name__}: {exc}"

    def _poll_sqlite(self, path: Path) -> None:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        last = 0
        try:
            while not self._stop.is_set():
                rows = db.execute(UPDATES.replace("$1", "?"), (last,)).fetchall()
                snaps = [r[0] for r in db.execute(SNAPSHOTS).fetchall()]
                now = time.time() * 1000
                if rows:
                    last = rows[-1][0]
                self._record([bytes(r[1]) for r in rows] + [bytes(s) for s in snaps], now)
                self.polls += 1
                time.sleep(self.interval)
        finally:
            db.close()

    async def _poll_pg(self, dsn: str) -> None:
        import asyncpg  # cowrite's own dependency, present beside the harness

        conn: Any = await asyncpg.connect(dsn)
        last = 0
        try:
            while not self._stop.is_set():
                rows = await conn.fetch(UPDATES, last)
                snaps = [r["state"] for r in await conn.fetch(SNAPSHOTS)]
                now = time.time() * 1000
                if rows:
                    last = rows[-1]["id"]
                self._record([bytes(r["data"]) for r in rows] + [bytes(s) for s in snaps], now)
                self.polls += 1
                await asyncio.sleep(self.interval)
        finally:
            await conn.close()
