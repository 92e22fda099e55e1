"""Domain events raised while handling a request, emitted only once its changes are committed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends

from cowrite.deps import DbSession, State


class EventOutbox:
    """Collects events; listeners never hear of a change that was rolled back."""

    def __init__(self) -> None:
        self._events: list[object] = []

    def add(self, event: object) -> None:
        self._events.append(event)

    def drain(self) -> list[object]:
        events, self._events = self._events, []
        return events


async def event_outbox(state: State, session: DbSession) -> AsyncIterator[EventOutbox]:
    # Depending on the session makes this exit first: commit here, then tell the listeners,
    # all before the response is sent. A request that raises never reaches the code below.
    outbox = EventOutbox()
    yield outbox
    events = outbox.drain()
    if events:
        await session.commit()
        for event in events:
            await state.events.emit(event)


PendingEvents = Annotated[EventOutbox, Depends(event_outbox, scope="function")]
