"""Use counts and last-use times kept in memory and written in batches: a read that is counted
(a share link opened, an API token presented) then costs no write of its own."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from cowrite.kit.clock import utcnow

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Use:
    count: int
    last: datetime


Writer = Callable[[dict[uuid.UUID, Use]], Awaitable[None]]


class UsageTally:
    """Uses per id since the last write; `flush` hands them to the writer in one batch."""

    def __init__(self, write: Writer) -> None:
        self._write = write
        self._pending: dict[uuid.UUID, Use] = {}
        self._lock = asyncio.Lock()

    def note(self, item_id: uuid.UUID, *, count: int = 1) -> None:
        now = utcnow()
        use = self._pending.get(item_id)
        if use is None:
            self._pending[item_id] = Use(count, now)
        else:
            use.count += count
            use.last = now

    def pending(self, item_id: uuid.UUID) -> Use | None:
        """Uses noted here and not written yet (a listing adds them to what it read)."""
        return self._pending.get(item_id)

    def latest(self, item_id: uuid.UUID, written: datetime | None) -> datetime | None:
        use = self._pending.get(item_id)
        if use is None:
            return written
        return use.last if written is None else max(written, use.last)

    async def flush(self) -> None:
        """Write what is pending; kept for the next try when the write fails."""
        async with self._lock:
            pending, self._pending = self._pending, {}
            if not pending:
                return
            try:
                await self._write(pending)
            except Exception:
                for item_id, use in pending.items():
                    self.note(item_id, count=use.count)
                raise

    async def run(self, interval: float) -> None:
        """Flush every `interval` seconds until cancelled (then once more)."""
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.flush()
                except Exception:
                    log.exception("writing usage failed")
        finally:
            try:
                await self.flush()
            except Exception:
                log.exception("writing usage at shutdown failed")
