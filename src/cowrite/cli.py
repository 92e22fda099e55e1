"""cowrite serve | doctor | db | user create | cleanup | purge-trash | files-gc."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TYPE_CHECKING

from pydantic import ValidationError

from cowrite import __version__
from cowrite.config import Settings

if TYPE_CHECKING:
    from cowrite.realtime.direct import SocketFront


def serve_app() -> SocketFront:
    """The app factory uvicorn calls in every worker process: the app behind a front that
    starts sockets straight in their endpoints (see cowrite.realtime.direct)."""
    from cowrite.app import create_app
    from cowrite.kit.gctune import tune_for_serving
    from cowrite.leanws.server import configure
    from cowrite.observability import configure_logging
    from cowrite.realtime.direct import SocketFront

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    configure(
        write_buffer_max=settings.ws_write_buffer_max_bytes,
        max_fragments=settings.ws_max_fragments,
        close_timeout=settings.ws_close_timeout_seconds,
        max_head_bytes=settings.http_max_head_bytes,
        head_timeout=settings.http_head_timeout_seconds,
        max_connections=settings.max_connections,
    )
    front = SocketFront(create_app(settings))
    tune_for_serving()
    return front


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cowrite.observability import configure_logging
    from cowrite.ops.startup import StartupError, prepare

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.workers > 1 and not settings.redis_url:
        print(
            "--workers > 1 needs COWRITE_REDIS_URL: processes share events through Redis",
            file=sys.stderr,
        )
        return 2
    if settings.ws_per_message_deflate and settings.ws_impl == "lean":
        print(
            "COWRITE_WS_PER_MESSAGE_DEFLATE needs COWRITE_WS_IMPL=websockets-sansio: "
            "the lean transport does not compress",
            file=sys.stderr,
        )
    try:
        # Also generates the embedded secret key before the workers could race for it.
        asyncio.run(prepare(settings, f"http://{args.host}:{args.port}", args.workers))
    except StartupError as exc:
        print(f"cowrite: error: {exc}", file=sys.stderr)
        return 1
    uvicorn.run(
        "cowrite.cli:serve_app",
        factory=True,
        interface="asgi3",  # the front's __call__ is plain (it hands back coroutines)
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="cowrite.leanws.http:GuardedHttpProtocol",
        ws=settings.uvicorn_ws,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        ws_max_size=max(settings.yjs_max_message_bytes, settings.ws_max_frame_bytes) + 1024,
        log_config=None,
        access_log=False,
        # Client address and scheme from X-Forwarded-* only when the peer is a trusted proxy.
        proxy_headers=True,
        forwarded_allow_ips=[str(network) for network in settings.trusted_proxies],
        timeout_graceful_shutdown=settings.shutdown_timeout,
        lifespan="on",
    )
    return 0


def _doctor(_args: argparse.Namespace) -> int:
    from cowrite.ops.doctor import doctor

    return doctor()


def _db(args: argparse.Namespace) -> int:
    from cowrite.migrate import current_revision, upgrade

    settings = Settings()
    if args.db_command == "upgrade":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        asyncio.run(upgrade(settings.resolved_database_url))
        print("database is at head")
    else:
        print(asyncio.run(current_revision(settings.resolved_database_url)) or "(empty)")
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise SystemExit("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


async def _create_user(email: str, full_name: str, password: str) -> str:
    from cowrite.app import build_state
    from cowrite.auth import service
    from cowrite.auth.schemas import RegisterIn
    from cowrite.db import unit_of_work

    settings = Settings()
    body = RegisterIn(email=email, password=password, full_name=full_name)
    state = build_state(settings)
    try:
        async with unit_of_work(state.session_factory) as session:
            user = await service.register(state, session, body.email, body.password, body.full_name)
        return str(user.id)
    finally:
        await state.engine.dispose()


def _user(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from cowrite.kit.errors import AppError
    from cowrite.migrate import upgrade

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(upgrade(settings.resolved_database_url))
    try:
        user_id = asyncio.run(_create_user(args.email, args.full_name, _read_password()))
    except (AppError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(user_id)
    return 0


async def _cleanup() -> int:
    from cowrite.db import create_engine, create_session_factory, unit_of_work
    from cowrite.maintenance import close_stale_sessions

    settings = Settings()
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return await close_stale_sessions(session, settings.presence_timeout_seconds)
    finally:
        await engine.dispose()


def _cleanup_command(_args: argparse.Namespace) -> int:
    print(f"closed {asyncio.run(_cleanup())} stale sessions")
    return 0


async def _purge_trash(older_than_days: float | None) -> int:
    from datetime import timedelta

    from cowrite.db import create_engine, create_session_factory
    from cowrite.documents.service import purge_trash

    settings = Settings()
    days = settings.trash_retention_days if older_than_days is None else older_than_days
    engine = create_engine(settings.resolved_database_url)
    try:
        return await purge_trash(create_session_factory(engine), timedelta(days=days))
    finally:
        await engine.dispose()


def _purge_trash_command(args: argparse.Namespace) -> int:
    print(f"purged {asyncio.run(_purge_trash(args.older_than_days))} documents from the trash")
    return 0


async def _files_gc(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from cowrite.db import create_engine, create_session_factory
    from cowrite.files.maintenance import collect_garbage
    from cowrite.storage import create_blob_store

    settings = Settings()
    engine = create_engine(settings.resolved_database_url)
    try:
        report = await collect_garbage(
            create_session_factory(engine),
            create_blob_store(settings),
            grace=timedelta(seconds=args.grace_seconds),
            prune_rows=args.prune_rows,
            dry_run=args.dry_run,
        )
    finally:
        await engine.dispose()
    verb = "removed" if report.applied else "found"
    print(f"{verb} {len(report.orphan_blobs)} blobs without a row")
    rows_verb = "removed" if report.applied and args.prune_rows else "found"
    print(f"{rows_verb} {len(report.rows_without_blob)} rows without a blob")
    for file_id in report.rows_without_blob:
        print(f"  {file_id}")
    print(f"removed {report.incomplete_removed} abandoned partial uploads")
    return 0


def _files_gc_command(args: argparse.Namespace) -> int:
    return asyncio.run(_files_gc(args))


def _transfer_command(args: argparse.Namespace) -> int:
    import uuid
    from pathlib import Path

    from cowrite.transfer import commands

    if args.command == "export":
        return commands.run(commands.export_command(uuid.UUID(args.workspace), Path(args.out)))
    if args.command == "import":
        files = [Path(name) for name in args.files]
        return commands.run(commands.import_command(uuid.UUID(args.workspace), files, args.user))
    if args.command == "backup":
        return commands.run(commands.backup_command(Path(args.out)))
    return commands.run(commands.restore_command(Path(args.file)))


def _add_transfer_commands(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="export a workspace to a zip of Markdown files")
    export.add_argument("--workspace", required=True, help="the workspace id")
    export.add_argument("--out", required=True, help="the zip file to write")
    export.set_defaults(handler=_transfer_command)

    imports = commands.add_parser(
        "import", help="import .md, .txt, .html files or zips of Markdown into a workspace"
    )
    imports.add_argument("--workspace", required=True, help="the workspace id")
    imports.add_argument("--user", help="the author's email (default: the workspace's owner)")
    imports.add_argument("files", nargs="+")
    imports.set_defaults(handler=_transfer_command)

    backup = commands.add_parser(
        "backup", help="a consistent snapshot of the database and the files, while it runs"
    )
    backup.add_argument("--out", required=True, help="the archive to write")
    backup.set_defaults(handler=_transfer_command)

    restore = commands.add_parser(
        "restore", help="restore a backup into an empty data dir and database"
    )
    restore.add_argument("file")
    restore.set_defaults(handler=_transfer_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cowrite", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cowrite {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7001)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_serve)

    doctor = commands.add_parser(
        "doctor", help="check the configuration and every configured service"
    )
    doctor.set_defaults(handler=_doctor)

    db = commands.add_parser("db", help="database migrations")
    db.add_argument("db_command", choices=["upgrade", "current"])
    db.set_defaults(handler=_db)

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = user_commands.add_parser("create", help="create a user (password from stdin)")
    create.add_argument("--email", required=True)
    create.add_argument("--full-name", required=True)
    create.set_defaults(handler=_user)

    cleanup = commands.add_parser("cleanup", help="close stale sessions and presence")
    cleanup.set_defaults(handler=_cleanup_command)

    purge = commands.add_parser(
        "purge-trash", help="delete documents that have been in the trash for too long"
    )
    purge.add_argument(
        "--older-than-days",
        type=float,
        default=None,
        help="age in the trash (default: COWRITE_TRASH_RETENTION_DAYS)",
    )
    purge.set_defaults(handler=_purge_trash_command)

    files_gc = commands.add_parser(
        "files-gc", help="find blobs without rows and rows without blobs; remove the orphans"
    )
    files_gc.add_argument("--dry-run", action="store_true", help="report, change nothing")
    files_gc.add_argument(
        "--prune-rows", action="store_true", help="also delete rows whose blob is gone"
    )
    files_gc.add_argument(
        "--grace-seconds",
        type=float,
        default=3600.0,
        help="leave blobs younger than this alone (uploads still being recorded)",
    )
    files_gc.set_defaults(handler=_files_gc_command)
    _add_transfer_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    from cowrite.ops.checks import settings_error

    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            raise
        print(f"cowrite: error: {settings_error(exc)}", file=sys.stderr)
        status = 2
    raise SystemExit(status)
