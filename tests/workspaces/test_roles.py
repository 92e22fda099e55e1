"""The role order, and the database refusing a role that does not exist."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from cowrite.db import create_engine
from cowrite.kit.errors import Forbidden, NotFound
from cowrite.kit.ids import new_id
from cowrite.models import Membership, User, Workspace
from cowrite.models.workspaces import ROLE_VALUES
from cowrite.workspaces.access import require_role
from cowrite.workspaces.roles import Role
from tests.support.databases import TestDatabase


def test_roles_are_ordered() -> None:
    assert sorted(Role, key=lambda role: role.rank) == [
        Role.VIEWER,
        Role.COMMENTER,
        Role.EDITOR,
        Role.ADMIN,
        Role.OWNER,
    ]
    assert Role.EDITOR.at_least(Role.COMMENTER)
    assert not Role.COMMENTER.at_least(Role.EDITOR)
    assert Role.COMMENTER.at_least(Role.VIEWER)
    assert Role.OWNER.at_least(Role.ADMIN)
    assert Role.ADMIN.at_least(Role.ADMIN)
    assert not Role.EDITOR.at_least(Role.ADMIN)


def test_sql_roles_match_the_enum() -> None:
    assert str(tuple(role.value for role in Role)) == ROLE_VALUES


def test_require_role_hides_from_non_members() -> None:
    with pytest.raises(NotFound):
        require_role(None, Role.VIEWER)
    with pytest.raises(Forbidden):
        require_role(Role.EDITOR, Role.ADMIN)
    assert require_role(Role.ADMIN, Role.EDITOR) is Role.ADMIN


async def test_database_refuses_unknown_roles(db: TestDatabase) -> None:
    engine = create_engine(db.url)
    user_id, workspace_id = new_id(), new_id()
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(User).values(
                    id=user_id,
                    email=f"{uuid.uuid4().hex}@example.com",
                    full_name="U",
                    password_hash="x",
                )
            )
            await connection.execute(insert(Workspace).values(id=workspace_id, name="W"))
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    insert(Membership).values(
                        workspace_id=workspace_id, user_id=user_id, role="superuser"
                    )
                )
    finally:
        await engine.dispose()
