"""The authorization matrix: one `Case` per HTTP route (and method), run as every kind of caller.

A feature adds its routes by creating `tests/authz/cases_<feature>.py` with a module-level
`CASES: list[Case]`; `test_matrix.py` finds every such module. A route of the app with no case
fails the matrix, and so does a case naming a route that does not exist.

Callers (see `CALLERS`): `anonymous` (no token), `outsider` (a user in no workspace of the test),
`other_workspace` (the owner of workspace B, calling with workspace A's ids), and the members of
workspace A: `viewer`, `commenter`, `editor`, `admin`, `owner` (a commenter is a viewer
for every route that is not about comments).

Kinds of case and what each caller must get (unless `overrides` says otherwise):
- `"workspace"` (the default): a route acting on something inside workspace A.
  anonymous 401; outsider and other_workspace 404; members below `minimum` 403; members at or
  above `minimum` get `status`. With `mixed`, the route is also called with ids from two
  workspaces in one request (see below). A route with two or more `*_id` path parameters must
  have a case with `mixed`; give one wherever a request names two objects (path, query or body).
- `"user"`: a route about the caller (`/api/v1/users/me...`, `GET /api/v1/workspaces`):
  anonymous 401, every signed-in caller `status`. If its path has parameters, each signed-in
  caller also calls it with ids that belong to someone else (setup run with `ctx.actor` set to
  another user) and must get `foreign_status` (404).
- `"public"`: `/health`, `/docs`, `/api/v1/auth/login`...: every caller, anonymous included,
  gets `status`.

`setup` is a coroutine `async def setup(ctx: Ctx) -> Target` called once per caller, just before
that caller's request, so a call that mutates (DELETE, restore, purge, transfer) acts on objects
made for it alone. It acts as `ctx.actor`: the owner of workspace A for workspace cases, the
caller (or, for the foreign-id call, another user) for user and public cases. `ctx.caller` is the
user about to call (None when anonymous). Its `Target` gives the path parameters (`workspace_id`
defaults to workspace A), and optionally a JSON body, query parameters, multipart files or form
data, and extra headers. Without `setup`, the request is made with just the defaults.

Each workspace case is also run once in a deleted workspace: its setup runs in a copy of A
(`ctx.team` / `ctx.workspace_id` point at the copy), the copy and any workspace the setup made
with `ctx.new_team_workspace()` are deleted, and the owner's call must answer 404. So a setup
must create what it needs through `ctx.team` and `ctx.workspace_id`, never through `ctx.world`.

`mixed` is a setup for one more call, made by `ctx.team.owner`, who is an owner of both workspace
A and workspace B: its Target mixes ids of the two workspaces in one request (a member of B
removed through A's members route, a document of B attached to a file of A...). Although the
caller may see both objects, the route must answer `mixed_status` (404) and change nothing.

Example, in `tests/authz/cases_documents.py`:

    from cowrite.workspaces.roles import Role
    from tests.authz.cases import Case, Ctx, Target

    async def trashed_document(ctx: Ctx) -> Target:
        # A document of workspace A, in the trash: each caller gets its own.
        url = f"/api/v1/workspaces/{ctx.workspace_id}/documents"
        document = await ctx.json("POST", url, json={"title": "Old"})
        await ctx.call("DELETE", f"/api/v1/documents/{document['id']}")
        return Target(path={"document_id": document["id"]}, params={"permanent": "true"})

    async def new_document(ctx: Ctx) -> Target:
        return Target(json={"title": "New"})

    CASES = [
        Case("GET", "/api/v1/workspaces/{workspace_id}/documents"),  # viewer and up: 200
        Case("POST", "/api/v1/workspaces/{workspace_id}/documents",
             minimum=Role.EDITOR, status=201, setup=new_document),
        Case("DELETE", "/api/v1/documents/{document_id}", name="permanent",
             minimum=Role.ADMIN, status=204, setup=trashed_document),
    ]

`Case.path` is the route's path template exactly as in `app.openapi()["paths"]`; `name` tells
apart several cases of one route (e.g. removing another member vs leaving).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from cowrite.workspaces.roles import Role
from tests.support.factories import UserCtx, login, make_user
from tests.support.workspaces import Team, add_member, add_team

Kind = Literal["workspace", "user", "public"]

CALLERS = (
    "anonymous",
    "outsider",
    "other_workspace",
    "viewer",
    "commenter",
    "editor",
    "admin",
    "owner",
)

_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


@dataclass(frozen=True)
class Target:
    """What one request is aimed at: path parameters and whatever it sends."""

    path: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)
    files: Any = None
    data: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class World:
    """The people and workspaces every case runs against (built once per backend)."""

    client: httpx.AsyncClient
    team: Team  # workspace A with its owner, admin, editor, viewer, and an outsider
    other: UserCtx  # owner of workspace B, member of nothing in A
    other_workspace_id: str  # workspace B; team.owner is an owner of it too

    def caller(self, name: str) -> UserCtx | None:
        if name == "anonymous":
            return None
        if name == "outsider":
            return self.team.outsider
        if name == "other_workspace":
            return self.other
        return self.team.member(name)


@dataclass
class Ctx:
    """What a setup coroutine gets: the world, who it acts as, and who will call.

    `team` is workspace A (the world's), except in the deleted-workspace run where it is a copy
    of A made for that run; setups should always go through `ctx.team` / `ctx.workspace_id`."""

    world: World
    actor: UserCtx
    caller: UserCtx | None
    caller_name: str
    scope: Team | None = None  # a copy of workspace A standing in for it, when set
    made_workspaces: list[str] = field(default_factory=list)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.client

    @property
    def team(self) -> Team:
        return self.scope or self.world.team

    @property
    def workspace_id(self) -> str:
        return self.team.workspace_id

    @property
    def other_workspace_id(self) -> str:
        return self.world.other_workspace_id

    async def call(
        self, method: str, url: str, *, as_user: UserCtx | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A request as the actor (or `as_user`) that must succeed (2xx)."""
        user = as_user or self.actor
        response = await self.client.request(method, url, headers=user.headers, **kwargs)
        assert response.is_success, f"setup {method} {url}: {response.status_code} {response.text}"
        return response

    async def json(
        self, method: str, url: str, *, as_user: UserCtx | None = None, **kwargs: Any
    ) -> Any:
        """Like `call`, returning the JSON body."""
        return (await self.call(method, url, as_user=as_user, **kwargs)).json()

    async def new_user(self) -> UserCtx:
        return await make_user(self.client)

    async def new_member(self, role: str = "viewer", workspace_id: str | None = None) -> UserCtx:
        """A new user added to workspace A (or `workspace_id`) with `role`, by the team owner."""
        user = await make_user(self.client)
        await add_member(
            self.client, workspace_id or self.workspace_id, self.team.owner, user, role
        )
        return user

    async def new_team_workspace(self) -> str:
        """A new workspace with the team in the same roles: for calls that change the workspace
        itself or the caller's own membership."""
        workspace_id = await add_team(self.client, self.team)
        self.made_workspaces.append(workspace_id)
        return workspace_id

    async def new_login(self, user: UserCtx | None = None) -> dict[str, Any]:
        """A fresh login of `user` (default the actor): its token pair and its `login_id`."""
        who = user or self.actor
        tokens = await login(self.client, who.email)
        sessions = await self.client.get(
            "/api/v1/users/me/sessions",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert sessions.status_code == 200, sessions.text
        [current] = [item for item in sessions.json()["logins"] if item["current"]]
        return {**tokens, "login_id": current["id"]}


Setup = Callable[[Ctx], Awaitable[Target]]


@dataclass(frozen=True)
class Case:
    """How one route answers each caller; see the module docstring."""

    method: str
    path: str
    kind: Kind = "workspace"
    minimum: Role = Role.VIEWER
    status: int = 200
    setup: Setup | None = None
    mixed: Setup | None = None
    mixed_status: int = 404
    foreign_status: int = 404
    overrides: Mapping[str, int] = field(default_factory=dict)
    name: str = ""

    @property
    def route(self) -> tuple[str, str]:
        return self.method.upper(), self.path

    @property
    def id(self) -> str:
        label = f"{self.method.upper()} {self.path}"
        return f"{label} [{self.name}]" if self.name else label

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def expected(self, caller: str) -> int:
        """The status `caller` must get."""
        if caller in self.overrides:
            return self.overrides[caller]
        if self.kind == "public":
            return self.status
        if caller == "anonymous":
            return 401
        if self.kind == "user":
            return self.status
        if caller in ("outsider", "other_workspace"):
            return 404
        return self.status if Role(caller).at_least(self.minimum) else 403

    def url(self, target: Target, defaults: Mapping[str, str]) -> str:
        values = {**defaults, **target.path}
        missing = [name for name in self.path_params if name not in values]
        assert not missing, f"{self.id}: setup gave no value for {missing}"
        return _PARAM.sub(lambda match: str(values[match.group(1)]), self.path)


def all_cases() -> list[Case]:
    """Every case of every `cases_<feature>.py` module next to this one."""
    import tests.authz as package

    cases: list[Case] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("cases_"):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            cases.extend(module.CASES)
    return cases
