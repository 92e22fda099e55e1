"""The unread counts, of one person as the bell asks and of many at once as a fan-out reads
them for its pushes: out of the partial index of unread notifications."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import ClauseElement, text
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import Notification
from cowrite.notifications import repository
from cowrite.state import AppState
from tests.support.workspaces import Team


async def plan_of(session: AsyncSession, query: ClauseElement) -> str:
    """The database's plan for `query`, as text (sequential scans ruled out on PostgreSQL,
    whose tables here are too small for an index to look worth it)."""
    connection = await session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = await session.execute(text(f"EXPLAIN {sql}"))
        return "\n".join(row[0] for row in rows)
    rows = await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
    return "\n".join(str(row[-1]) for row in rows)


async def test_the_unread_counts_of_fifty_people_are_right_and_read_from_the_unread_index(
    app: FastAPI, team: Team
) -> None:
    state: AppState = app.state.cowrite
    people = [team.owner.id, team.editor.id, team.viewer.id]
    # the size of a fan-out to a document's followers, most of whom have nothing unread
    everyone = [*people, *(uuid.uuid4() for _ in range(47))]
    async with unit_of_work(state.reader_factory) as session:
        before = await repository.unread_counts(session, everyone)  # joining the team's, say
    now = utcnow()
    async with unit_of_work(state.session_factory) as session:
        session.add_all(
            Notification(
                user_id=user_id,
                kind="document_updated",
                workspace_id=uuid.UUID(team.workspace_id),
                title="Plan",
                created_at=now,
                updated_at=now,
                read_at=now if n < read else None,
            )
            for read, user_id in enumerate(people)
            for n in range(4)
        )
    async with unit_of_work(state.session_factory) as session:  # a transaction: SET LOCAL
        counts = await repository.unread_counts(session, everyone)
        plan = await plan_of(session, repository.unread_counts_query(everyone))
    added = {team.owner.id: 4, team.editor.id: 3, team.viewer.id: 2}
    assert counts == {user_id: before[user_id] + added.get(user_id, 0) for user_id in everyone}
    assert all(count == 0 for user_id, count in counts.items() if user_id not in added)
    # each person's entries of the partial index, never a walk of everyone's unread ones
    assert "ix_notifications_user_unread" in plan, plan
    assert "ix_notifications_read_at" not in plan, plan


async def test_ones_unread_count_reads_only_their_entries_of_the_unread_index(
    app: FastAPI, team: Team
) -> None:
    state: AppState = app.state.cowrite
    async with unit_of_work(state.session_factory) as session:  # a transaction: SET LOCAL
        count = repository.UNREAD_COUNT.params(user_id=team.viewer.id)
        plan = await plan_of(session, count)
        assert (await session.execute(count)).scalar_one() == 1  # joining the team
    # their entries of the partial index, not all their notifications
    assert "ix_notifications_user_unread" in plan, plan
    assert "ix_notifications_user_created" not in plan, plan
