"""Health, readiness, metrics, OpenAPI, the embedded secret, and the CLI."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import httpx

from cowrite.config import Settings
from tests.support.databases import TestDatabase
from tests.support.server import run_cli


async def test_health_ready_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    await client.get("/api/v1/users/me")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert 'cowrite_http_requests_total{method="GET",route="/api/v1/users/me",status="401"}' in (
        metrics.text
    )


async def test_ready_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    from cowrite.app import create_app

    settings = Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        data_dir=tmp_path,
        secret_key="x" * 40,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/auth/login" in spec["paths"]
    error = spec["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"detail", "code"}
    assert (await client.get("/docs")).status_code == 200


async def test_unknown_route_uses_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}


def test_embedded_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=None, secret_key=None)
    first = settings.resolved_secret_key
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    again = Settings(data_dir=tmp_path / "data", database_url=None, secret_key=None)
    assert again.resolved_secret_key == first
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")


def test_postgres_without_secret_is_refused(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+asyncpg://x@127.0.0.1/x", secret_key=None
    )
    try:
        settings.resolved_secret_key  # noqa: B018
    except RuntimeError as exc:
        assert "COWRITE_SECRET_KEY" in str(exc)
    else:
        raise AssertionError("a PostgreSQL deployment must set its own secret")


def _cli(
    args: list[str], cwd: Path, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd=cwd, env=env, input=stdin)


def test_cli_db_and_user_create_on_embedded_default(tmp_path: Path) -> None:
    env = {
        "COWRITE_DATA_DIR": str(tmp_path / "data"),
        "COWRITE_PASSWORD_HASH_MEMORY_KIB": "64",
        "COWRITE_PASSWORD_HASH_TIME_COST": "1",
    }
    env.pop("COWRITE_DATABASE_URL", None)
    upgraded = _cli(["db", "upgrade"], tmp_path, env)
    assert upgraded.returncode == 0, upgraded.stderr
    current = _cli(["db", "current"], tmp_path, env)
    assert current.stdout.strip().endswith("(head)") or current.stdout.strip().startswith("0")
    assert (tmp_path / "data" / "cowrite.db").exists()
    created = _cli(
        ["user", "create", "--email", "cli@example.com", "--full-name", "Cli User"],
        tmp_path,
        env,
        stdin="a long cli password\n",
    )
    assert created.returncode == 0, created.stderr
    duplicate = _cli(
        ["user", "create", "--email", "cli@example.com", "--full-name", "Again"],
        tmp_path,
        env,
        stdin="a long cli password\n",
    )
    assert duplicate.returncode == 1
    assert "already registered" in duplicate.stderr
    cleanup = _cli(["cleanup"], tmp_path, env)
    assert cleanup.returncode == 0, cleanup.stderr
    assert "stale sessions" in cleanup.stdout


def test_workers_without_redis_refused(tmp_path: Path) -> None:
    result = _cli(["serve", "--workers", "2"], tmp_path, {"COWRITE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "COWRITE_REDIS_URL" in result.stderr


async def test_real_server_register_and_login(server: object, db: TestDatabase) -> None:
    from tests.support.server import ServerProcess

    assert isinstance(server, ServerProcess)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        from tests.support.factories import make_user

        user = await make_user(client)
        me = await client.get("/api/v1/users/me", headers=user.headers)
        assert me.status_code == 200
        assert me.json()["email"] == user.email
        ready = await client.get("/ready")
        assert ready.status_code == 200
