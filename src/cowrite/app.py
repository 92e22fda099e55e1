"""create_app(settings): routers, middleware, error mapping, and the lifespan building AppState."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from cowrite import __version__
from cowrite.auth.endpoints import auth_router, users_router
from cowrite.auth.passwords import PasswordHasher
from cowrite.auth.throttle import LoginThrottle, MemoryLoginThrottle
from cowrite.auth.tokens import TokenService
from cowrite.broker.base import Broker
from cowrite.broker.bridge import EventBridge, EventJournal
from cowrite.broker.memory import MemoryBroker
from cowrite.broker.redis import RedisBroker, RedisEventJournal
from cowrite.config import Settings
from cowrite.db import create_engine, create_reader_engine, create_session_factory
from cowrite.documents.lean import DocumentReads, LeanDocumentReads
from cowrite.documents.lean_create import DocumentCreates, LeanDocumentCreates
from cowrite.features import FEATURES
from cowrite.health import router as health_router
from cowrite.kit.errors import AppError
from cowrite.kit.events import EventHub
from cowrite.kit.schemas import ERROR_RESPONSES
from cowrite.observability import Metrics, RequestLogMiddleware
from cowrite.realtime.direct import DirectSockets, Endpoint, direct_socket_routes
from cowrite.state import AppState
from cowrite.webapp import serve as webapp

log = logging.getLogger(__name__)


def _broker_and_throttle(settings: Settings, process_id: str) -> tuple[Broker, LoginThrottle]:
    """Redis when configured (shared by every process), else this process's memory."""
    window, lockout = settings.login_failure_window_seconds, settings.login_max_lockout_seconds
    if not settings.redis_url:
        return MemoryBroker(process_id), MemoryLoginThrottle(window, lockout)
    from cowrite.auth.throttle_redis import RedisLoginThrottle

    broker = RedisBroker(
        process_id,
        settings.redis_url,
        prefix=settings.redis_key_prefix,
        drop_rate=settings.test_broker_drop_rate,
        ping_interval=settings.broker_ping_interval_seconds,
        max_backoff=settings.broker_max_backoff_seconds,
    )
    throttle = RedisLoginThrottle(broker.redis, window, lockout, prefix=settings.redis_key_prefix)
    return broker, throttle


def _event_journal(state: AppState) -> EventJournal | None:
    """Where events wait for a process that was cut off from the broker (Redis only)."""
    if isinstance(state.broker, RedisBroker):
        return RedisEventJournal(state.broker.redis, state.settings.redis_key_prefix + "events")
    return None


def build_state(settings: Settings, metrics: Metrics | None = None) -> AppState:
    engine = create_engine(settings.resolved_database_url)
    process_id = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"
    broker, throttle = _broker_and_throttle(settings, process_id)
    return AppState(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        read_session_factory=create_session_factory(
            create_reader_engine(engine, settings.resolved_database_url)
        ),
        events=EventHub(),
        broker=broker,
        passwords=PasswordHasher(
            settings.password_hash_memory_kib, settings.password_hash_time_cost
        ),
        tokens=TokenService(
            settings.resolved_secret_key,
            settings.access_token_ttl_seconds,
            settings.refresh_token_ttl_seconds,
        ),
        throttle=throttle,
        process_id=process_id,
        metrics=metrics or Metrics(),
    )


def _error_body(detail: str, code: str) -> dict[str, str]:
    return {"detail": detail, "code": code}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            _error_body(exc.detail, exc.code), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = (
            f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid")
        )
        body = _error_body(message, "validation_error")
        body_errors = [
            {"loc": list(error.get("loc", ())), "msg": error.get("msg"), "type": error.get("type")}
            for error in errors
        ]
        return JSONResponse({**body, "errors": body_errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            _error_body(str(exc.detail), code),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(_error_body("Internal server error", "internal_error"), status_code=500)

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        """The database went away (or cannot take more): 503, try again; else a 500."""
        if not _database_unavailable(exc):
            return await unexpected(request, exc)
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            _error_body("The database is unavailable; try again shortly", "database_unavailable"),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    for kind in (DBAPIError, PoolTimeout, ConnectionError):
        app.add_exception_handler(kind, database_error)


def _database_unavailable(exc: Exception) -> bool:
    if isinstance(exc, DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, OperationalError | InterfaceError)
            or ("connection" in str(exc.orig).lower())
        )
    return isinstance(exc, PoolTimeout | ConnectionError)


def create_app(settings: Settings | None = None, *, state: AppState | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = state.metrics if state else Metrics()
    document_reads = DocumentReads()
    document_creates = DocumentCreates()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app_state = state or build_state(settings, metrics)
        app.state.cowrite = app_state
        async with AsyncExitStack() as stack:
            stack.push_async_callback(app_state.engine.dispose)
            if app_state.read_session_factory is not None:
                reader_engine = app_state.read_session_factory.kw["bind"]
                if reader_engine.sync_engine.pool is not app_state.engine.sync_engine.pool:
                    stack.push_async_callback(reader_engine.dispose)
            await app_state.broker.start()
            stack.push_async_callback(app_state.broker.close)
            bridge = EventBridge(
                app_state.events, app_state.broker, journal=_event_journal(app_state)
            )
            await bridge.start()
            stack.push_async_callback(bridge.close)
            app_state.logins.attach(app_state.events)
            document_reads.start(app_state)
            stack.push_async_callback(document_reads.close)
            document_creates.start(app_state)
            stack.callback(document_creates.stop)
            for feature in FEATURES:
                if feature.startup is not None:
                    await feature.startup(app_state, stack)
            yield

    app = FastAPI(
        title="cowrite",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        # cowrite reports through its own request log and Prometheus metrics; FastAPI's
        # OpenTelemetry layer would look up the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(RequestLogMiddleware, metrics=metrics)
    _install_error_handlers(app)
    app.include_router(health_router)
    routers = [auth_router, users_router, *(feature.router for feature in FEATURES)]
    for router in routers:
        app.include_router(router, responses=ERROR_RESPONSES)
    webapp.install(app, settings.web_dir)
    # Inside the middleware (its errors go to the handlers above, its log line is the route's),
    # in front of the routing.
    app.router.middleware_stack = LeanDocumentCreates(app.router.middleware_stack, document_creates)
    direct = direct_socket_routes(route for router in routers for route in router.routes)
    app.build_middleware_stack = _with_fronts(app, direct, document_reads)  # type: ignore[method-assign]
    return app


def _with_fronts(
    app: FastAPI, direct: list[tuple[BaseRoute, Endpoint]], document_reads: DocumentReads
) -> Callable[[], ASGIApp]:
    """Sockets bypass the middleware stack (see cowrite.realtime.direct), and so do the document
    reads the lean path can answer (see cowrite.documents.lean); the rest keeps all of it."""
    build = app.build_middleware_stack

    def build_stack() -> ASGIApp:
        stack: ASGIApp = LeanDocumentReads(build(), document_reads)
        return DirectSockets(stack, app, direct) if direct else stack

    return build_stack
