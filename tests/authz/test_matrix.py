"""Every HTTP route of the app, called as every kind of caller, answers as its case says."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from cowrite.app import create_app
from tests.authz.cases import CALLERS, Case, Ctx, Target, World, all_cases
from tests.conftest import make_settings
from tests.support.factories import UserCtx
from tests.support.workspaces import add_team

CASES = all_cases()
MIXED = [case for case in CASES if case.mixed is not None]
IN_WORKSPACE = [case for case in CASES if case.kind == "workspace"]
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route: the OpenAPI paths, plus routes left out of the schema
    (like /docs), so that neither kind can slip past the matrix. WebSocket routes have their
    own tests."""
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() in HTTP_METHODS
    }
    for route in iter_route_contexts(app.routes):
        methods = route.methods
        if methods and route.path:
            routes |= {(method, route.path) for method in methods if method in HTTP_METHODS}
    # Starlette answers HEAD wherever it answers GET; a HEAD route of its own still needs a case.
    return {
        (method, path)
        for method, path in routes
        if not (method == "HEAD" and ("GET", path) in routes)
    }


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    # Building the app touches no database; the URL is never opened.
    workdir: Path = tmp_path_factory.mktemp("authz-routes")
    return app_routes(create_app(make_settings(f"sqlite+aiosqlite:///{workdir}/x.db", workdir)))


def test_every_route_has_a_case(routes: set[tuple[str, str]]) -> None:
    covered = {case.route for case in CASES}
    missing = sorted(routes - covered)
    assert not missing, "routes with no authorization case:\n" + "\n".join(
        f"  {method} {path}" for method, path in missing
    )


def test_every_case_names_a_route(routes: set[tuple[str, str]]) -> None:
    stale = sorted({case.id for case in CASES if case.route not in routes})
    assert not stale, "cases for routes that do not exist:\n" + "\n".join(stale)


def test_cases_are_well_formed() -> None:
    ids = Counter(case.id for case in CASES)
    assert [case_id for case_id, count in ids.items() if count > 1] == []
    mixed_routes = {case.route for case in MIXED}
    for case in CASES:
        assert set(case.overrides) <= set(CALLERS), case.id
        ids_in_path = [name for name in case.path_params if name.endswith("_id")]
        if case.kind == "workspace" and len(ids_in_path) >= 2:
            assert case.route in mixed_routes, f"{case.id} takes two ids: give it a `mixed` case"


async def _request(ctx: Ctx, case: Case, target: Target, user: UserCtx | None) -> httpx.Response:
    headers = {**(user.headers if user else {}), **target.headers}
    return await ctx.client.request(
        case.method,
        case.url(target, {"workspace_id": ctx.workspace_id}),
        headers=headers,
        json=target.json,
        params=dict(target.params),
        files=target.files,
        data=target.data,
    )


async def _target(case: Case, ctx: Ctx) -> Target:
    return await case.setup(ctx) if case.setup else Target()


def _setup_actor(world: World, case: Case, caller: UserCtx | None) -> UserCtx:
    if case.kind == "workspace" or caller is None:
        return world.team.owner
    return caller


def _someone_else(world: World, caller: UserCtx) -> UserCtx:
    return world.team.outsider if caller.id != world.team.outsider.id else world.other


def _mismatch(who: str, expected: int, response: httpx.Response) -> str | None:
    """Why this answer is wrong, or None: the status must match, and an error must come in the
    contract's shape ({"detail", "code"}) so clients can tell a 403 from a 404 by more than luck."""
    if response.status_code == expected:
        if expected < 400 or _is_error_body(response):
            return None
        return f"  {who:<28} {expected} without a {{detail, code}} body: {response.text[:160]}"
    return f"  {who:<28} expected {expected}, got {response.status_code}: {response.text[:160]}"


def _is_error_body(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and {"detail", "code"} <= body.keys()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_route_answers_every_caller(world: World, case: Case) -> None:
    problems: list[str] = []
    for name in CALLERS:
        caller = world.caller(name)
        ctx = Ctx(world, _setup_actor(world, case, caller), caller, name)
        response = await _request(ctx, case, await _target(case, ctx), caller)
        problems.append(_mismatch(name, case.expected(name), response))
        if case.kind == "user" and caller is not None and case.path_params:
            # The same route aimed at another user's objects: they do not exist for the caller.
            foreign = Ctx(world, _someone_else(world, caller), caller, name)
            response = await _request(foreign, case, await _target(case, foreign), caller)
            problems.append(_mismatch(f"{name} (others' ids)", case.foreign_status, response))
    found = [problem for problem in problems if problem]
    assert not found, f"{case.id}\n" + "\n".join(found)


@pytest.mark.parametrize("case", MIXED, ids=[case.id for case in MIXED])
async def test_ids_from_two_workspaces_in_one_request(world: World, case: Case) -> None:
    assert case.mixed is not None
    owner = world.team.owner  # an owner of both workspaces: allowed to see each id on its own
    ctx = Ctx(world, owner, owner, "owner")
    response = await _request(ctx, case, await case.mixed(ctx), owner)
    assert _mismatch("owner of both", case.mixed_status, response) is None


@pytest.mark.parametrize("case", IN_WORKSPACE, ids=[case.id for case in IN_WORKSPACE])
async def test_nothing_answers_in_a_deleted_workspace(world: World, case: Case) -> None:
    """Soft delete: whatever was made in a workspace is 404 once it is deleted, for its owner too.

    The case's setup runs in a copy of workspace A (same people, same roles), which is then
    deleted along with any workspace the setup made, before the owner calls."""
    copy = dataclasses.replace(
        world.team, workspace_id=await add_team(world.client, world.team, name="Doomed")
    )
    ctx = Ctx(world, copy.owner, copy.owner, "owner", scope=copy)
    target = await _target(case, ctx)
    for workspace_id in (copy.workspace_id, *ctx.made_workspaces):
        await ctx.call("DELETE", f"/api/v1/workspaces/{workspace_id}")
    response = await _request(ctx, case, target, copy.owner)
    assert _mismatch("owner", 404, response) is None
