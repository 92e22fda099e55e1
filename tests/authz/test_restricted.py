"""The authorization matrix again, with every document a case makes restricted.

Every document route (a path under /api/v1/documents, /api/v1/comments or the presence of a
document, and a file attached to a document) is called by:
- `listed member`: a workspace editor listed on the document as an editor: answers as an editor;
- `listed viewer`: a workspace editor listed as a viewer: the document role decides (a viewer);
- `unlisted member`: a workspace editor not listed: the document does not exist for them (404);
- `guest`: someone outside the workspace listed as a commenter: answers as a commenter;
- `admin`: a workspace admin not listed: admins see every document.
Every other route of a workspace is called by the guest, who gets 404 there, whatever it is.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.authz.cases import Case, Ctx, World, all_cases
from tests.authz.test_matrix import _mismatch, _request, _target
from tests.support.factories import UserCtx, make_user
from tests.support.workspaces import add_member

CASES = [case for case in all_cases() if case.kind == "workspace"]
DOCUMENT_ROUTE = re.compile(r"/api/v1/(documents/|comments/|presence/document/|shares/)")
ATTACHED = {"attached"}


def is_document_route(case: Case) -> bool:
    return bool(DOCUMENT_ROUTE.match(case.path)) or case.name in ATTACHED


DOCUMENT_CASES = [case for case in CASES if is_document_route(case)]
WORKSPACE_CASES = [case for case in CASES if not is_document_route(case)]


@dataclasses.dataclass(frozen=True)
class Caller:
    name: str
    # Whom setups treat them as (cases look at it to let the caller act), and whose answers
    # they must get; None: every document route answers 404.
    acts_as: str | None
    # Their role on each document a setup makes, or None when not listed.
    listed_as: str | None


CALLERS = (
    Caller("listed member", "editor", "editor"),
    Caller("listed viewer", "viewer", "viewer"),
    Caller("unlisted member", None, None),
    Caller("guest", "commenter", "commenter"),
    Caller("admin", "admin", None),
)


@dataclasses.dataclass
class Cast:
    world: World
    users: dict[str, UserCtx]


@pytest.fixture(scope="module")
async def cast(world: World) -> AsyncIterator[Cast]:
    team = world.team
    users = {"admin": team.admin, "guest": await make_user(world.client, full_name="Gus Guest")}
    for name in ("listed member", "listed viewer", "unlisted member"):
        users[name] = await make_user(world.client)
        await add_member(world.client, team.workspace_id, team.owner, users[name], "editor")
    yield Cast(world, users)


@dataclasses.dataclass
class RestrictingCtx(Ctx):
    """Restricts every document the setup makes in workspace A, and lists the caller on it."""

    listed_as: str | None = None

    async def call(
        self, method: str, url: str, *, as_user: UserCtx | None = None, **kwargs: Any
    ) -> httpx.Response:
        response = await super().call(method, url, as_user=as_user, **kwargs)
        if method == "POST" and url == f"/api/v1/workspaces/{self.workspace_id}/documents":
            document = f"/api/v1/documents/{response.json()['id']}"
            owner = self.team.owner
            await super().call("PATCH", document, json={"visibility": "restricted"}, as_user=owner)
            if self.listed_as is not None and self.caller is not None:
                person = {"user_id": str(self.caller.id), "role": self.listed_as}
                await super().call("POST", f"{document}/members", json=person, as_user=owner)
        return response


@pytest.mark.parametrize("case", DOCUMENT_CASES, ids=[case.id for case in DOCUMENT_CASES])
async def test_restricted_document_answers_every_caller(cast: Cast, case: Case) -> None:
    world = cast.world
    problems = []
    for caller in CALLERS:
        user = cast.users[caller.name]
        ctx = RestrictingCtx(
            world, world.team.owner, user, caller.acts_as or "outsider", listed_as=caller.listed_as
        )
        response = await _request(ctx, case, await _target(case, ctx), user)
        expected = 404 if caller.acts_as is None else case.expected(caller.acts_as)
        problems.append(_mismatch(caller.name, expected, response))
    found = [problem for problem in problems if problem]
    assert not found, f"{case.id}\n" + "\n".join(found)


@pytest.mark.parametrize("case", WORKSPACE_CASES, ids=[case.id for case in WORKSPACE_CASES])
async def test_a_guest_gets_nothing_from_workspace_routes(cast: Cast, case: Case) -> None:
    world = cast.world
    guest = cast.users["guest"]
    ctx = RestrictingCtx(world, world.team.owner, guest, "outsider", listed_as="editor")
    response = await _request(ctx, case, await _target(case, ctx), guest)
    assert _mismatch("guest", 404, response) is None
