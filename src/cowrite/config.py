"""Settings: one object, read from the environment (prefix COWRITE_) and a .env file."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_FILE = "secret_key"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "127.0.0.0/8,::1/128"


def parse_networks(value: str) -> list[IPNetwork]:
    """Comma-separated addresses or CIDR networks; anything else is refused by name."""
    networks: list[IPNetwork] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
    return networks


class Settings(BaseSettings):
    """Everything a cowrite process can be told; defaults run the embedded single-machine setup."""

    model_config = SettingsConfigDict(env_prefix="COWRITE_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".cowrite")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "info"

    # auth
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # a refresh token rotated out this recently still answers the login's current pair (a reload
    # or a second tab that lost the race), instead of counting as reuse
    refresh_reuse_grace_seconds: float = 10.0
    password_hash_memory_kib: int = 19 * 1024
    password_hash_time_cost: int = 2
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 30
    login_failure_window_seconds: int = 900
    login_max_lockout_seconds: int = 900

    # share links and personal API tokens
    share_access_ttl_seconds: int = 3600  # what unlocking a password-protected link gives
    share_unlock_max_failures_per_link: int = 10
    share_unlock_max_failures_per_address: int = 30
    usage_flush_seconds: float = 5.0  # how often last-used times and view counts are written

    # documents, versions, search
    max_document_bytes: int = 5 * 1024 * 1024
    version_fold_seconds: int = 60
    trash_retention_days: int = 30
    trash_purge_interval_seconds: float = 3600.0

    # files
    max_upload_bytes: int = 25 * 1024 * 1024
    workspace_quota_bytes: int = 1024 * 1024 * 1024

    # presence (/ws)
    presence_timeout_seconds: float = 45.0
    presence_flush_interval_ms: int = 20
    # How stale another process may see a cursor or selection in the shared (Redis) store:
    # live events carry every move; the store only answers presence lists and REST.
    presence_store_write_interval_ms: int = 250
    ws_max_frame_bytes: int = 64 * 1024
    ws_auth_timeout_seconds: float = 5.0
    ws_rate_burst: int = 200
    ws_rate_per_second: float = 100.0
    # What a reader of either socket may fall behind by before it is closed (1008).
    ws_send_queue_max_bytes: int = 8 * 1024 * 1024
    # Cursor and selection moves are handled as the lean transport reads them, with no task
    # switch per message; off, every frame goes through the socket's read loop.
    ws_quick_moves: bool = True
    session_touch_interval_seconds: float = 30.0
    cleanup_interval_seconds: float = 60.0
    presence_typing_seconds: float = 5.0
    ws_max_documents_per_connection: int = 20

    # co-editing (/ws/yjs)
    yjs_max_message_bytes: int = 10 * 1024 * 1024
    # Updates are merged per event-loop turn (batches grow with load, no wait when idle), and
    # a room sends at most one batch per this many ms (0: no floor).
    yjs_tick_ms: int = 0
    yjs_flush_interval_ms: int = 25
    yjs_compact_threshold: int = 500
    yjs_room_grace_seconds: float = 2.0
    yjs_content_sync_seconds: float = 2.0
    yjs_repair_interval_seconds: float = 5.0
    yjs_rate_per_second: float = 2000.0
    yjs_rate_burst: int = 4000

    # scale-out (Redis broker, shared throttle, presence across processes)
    redis_key_prefix: str = "cowrite:"
    broker_ping_interval_seconds: float = 2.0
    broker_max_backoff_seconds: float = 5.0
    # SIGTERM while the database is away: how long to keep trying to save accepted edits.
    shutdown_save_seconds: float = 10.0
    # Test hook: the share of incoming broker messages to drop, to prove that repair heals.
    test_broker_drop_rate: float = 0.0

    # transport
    ws_per_message_deflate: bool = False
    # "lean": cowrite's own RFC 6455 transport (little memory per idle socket, no deflate);
    # "websockets-sansio": uvicorn's, on the websockets library.
    ws_impl: Literal["lean", "websockets-sansio"] = "lean"

    # operations: logs, reverse proxies, shutdown
    # "auto": readable lines on a terminal, JSON lines otherwise.
    log_format: Literal["auto", "text", "json"] = "auto"
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (client address, scheme).
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=lambda: parse_networks(LOOPBACK)
    )
    # SIGTERM: how long open requests and sockets get to finish before the process exits.
    shutdown_timeout: int = 20

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_trusted_proxies(cls, value: object) -> object:
        return parse_networks(value) if isinstance(value, str) else value

    # web app: where its build is served from (unset: the build inside the package)
    web_dir: Path | None = None

    # notifications and their email (see cowrite.notifications)
    smtp_url: str | None = None  # smtp://user:pass@host:port or smtps://…; unset: no email
    mail_from: str = "cowrite <cowrite@localhost>"
    public_url: str = "http://127.0.0.1:7001"  # where links in mails point (the web app)
    notification_email_delay_minutes: int = 5  # a new user's default
    notification_update_window_seconds: float = 600.0  # one `document_updated` per window
    notification_edit_coalesce_seconds: float = 30.0  # one edit report per author and document
    notification_retention_days: int = 90  # read notifications older than this are deleted
    notification_maintenance_interval_seconds: float = 3600.0
    mail_poll_interval_seconds: float = 15.0  # how often due notifications are looked for
    mail_batch_size: int = 200
    mail_connections: int = 4  # SMTP connections sending at once
    mail_retry_base_seconds: float = 5.0
    mail_retry_max_seconds: float = 900.0
    mail_lease_seconds: float = 120.0  # a claimed mail is tried again after this if unmarked
    mail_timeout_seconds: float = 20.0

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str | None) -> str | None:
        if value:
            from cowrite.notifications.mail.smtp import parse_smtp_url

            parse_smtp_url(value)  # raises ValueError with what is wrong
        return value or None

    # comments: new comments per user (in each process) at once, then per second
    comment_rate_burst: int = 120
    comment_rate_per_second: float = 2.0
    # rich-text documents: a bigger or deeper tree is refused, over REST and on the socket
    rich_max_depth: int = 64
    rich_max_nodes: int = 100_000
    # rich documents written over REST with no room open that stay loaded (0: none)
    rich_warm_documents: int = 16
    # answer the common document GET in front of the framework (cowrite.documents.lean)
    lean_document_reads: bool = True
    # take the common document create past routing and dependencies (cowrite.documents.lean_create)
    lean_document_creates: bool = True
    # the socket edge: what one client may hold or cost, on both sockets and both transports
    max_connections: int = 25_000  # per process, HTTP and WebSocket together
    http_max_head_bytes: int = 64 * 1024  # request line and headers (431 past it)
    http_head_timeout_seconds: float = 10.0  # to send a whole request head (408 after it)
    ws_write_buffer_max_bytes: int = 16 * 1024 * 1024  # unsent bytes before a socket fails
    ws_max_fragments: int = 1024  # frames in one fragmented message
    ws_close_timeout_seconds: float = 5.0  # for the peer's answer to a close, then abort
    yjs_awareness_max_state_bytes: int = 64 * 1024
    yjs_awareness_max_entries: int = 64  # per awareness message
    yjs_awareness_max_clients: int = 8  # awareness client ids one connection may own
    register_max_per_address: int = 30  # registrations per address per login failure window
    # data in and out: storage, background jobs, imports
    # `file:///path` (default: `<data dir>/files`) or `s3://bucket/prefix?endpoint_url=…&region=…`.
    storage_url: str | None = None
    job_poll_seconds: float = 1.0
    # A running job whose heartbeat is older than this is taken to have lost its process.
    job_stale_seconds: float = 60.0
    job_max_attempts: int = 3
    import_max_bytes: int = 200 * 1024 * 1024
    import_max_entries: int = 20_000
    import_max_total_bytes: int = 2 * 1024 * 1024 * 1024
    import_max_ratio: float = 200.0
    # single sign-on (OpenID Connect) and webhooks
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_allowed_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_provider_name: str = "Single sign-on"
    oidc_scopes: str = "openid email profile"
    # Where the provider sends people back (default: this server's callback as requested) and
    # the web-app page that receives the one-time code (`?code=`) after a successful sign-in.
    oidc_redirect_url: str | None = None
    oidc_app_url: str = "/sign-in/oidc"
    oidc_timeout_seconds: float = 10.0
    oidc_handoff_seconds: int = 60
    password_login: bool = True
    webhooks_allow_private: bool = False
    webhooks_timeout_seconds: float = 10.0
    webhooks_retry_first_seconds: float = 5.0
    webhooks_retry_max_seconds: float = 3600.0
    webhooks_retry_for_seconds: float = 24 * 3600.0
    webhooks_poll_seconds: float = 1.0
    # Send a delivery from the process that queued it right after its commit (leased to it),
    # rather than when a worker next claims it from the outbox.
    webhooks_send_at_once: bool = True
    # Outcomes are written at most this often (one transaction records all that finished).
    webhooks_record_interval_seconds: float = 0.05
    webhooks_concurrency: int = 16
    webhooks_per_workspace: int = 50
    # calls (WebRTC signalling on /ws): ICE servers handed to browsers, TURN REST credentials
    stun_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    turn_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    turn_secret: str | None = None
    turn_ttl_seconds: int = Field(default=86_400, ge=60)
    call_max_participants: int = Field(default=8, ge=2)
    rtc_signal_max_bytes: int = 64 * 1024
    rtc_signal_rate_per_second: float = 100.0
    rtc_signal_rate_burst: int = 400
    # refused call messages a connection may send before it is closed with 1008 (then per second)
    call_abuse_burst: int = 20
    call_abuse_per_second: float = 1.0

    @field_validator("oidc_allowed_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip().lower() for item in value.split(",") if item.strip()]
        return value

    @field_validator("stun_urls", "turn_urls", mode="before")
    @classmethod
    def _split_ice_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def uvicorn_ws(self) -> str:
        """uvicorn's `ws` option for the chosen transport."""
        if self.ws_impl == "lean":
            return "cowrite.leanws:LeanWebSocketProtocol"
        return "cowrite.leanws.sansio:GuardedSansIOProtocol"  # uvicorn's, with our limits

    @cached_property
    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'cowrite.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @cached_property
    def resolved_secret_key(self) -> str:
        """The signing key: configured, or generated once into the data dir (embedded only)."""
        if self.secret_key:
            return self.secret_key
        if not self.is_sqlite:
            raise RuntimeError("COWRITE_SECRET_KEY is required when the database is not SQLite")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
