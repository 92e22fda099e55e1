"""How the configured services are named to people: URLs without their passwords."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url

from cowrite.config import Settings


def redacted_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def database_label(settings: Settings) -> str:
    if settings.is_sqlite:
        database = make_url(settings.resolved_database_url).database
        return f"SQLite {database}"
    return "PostgreSQL " + make_url(settings.resolved_database_url).render_as_string(
        hide_password=True
    )


def broker_label(settings: Settings) -> str:
    if settings.redis_url:
        return f"Redis {redacted_url(settings.redis_url)}"
    return "in-process (one process; set COWRITE_REDIS_URL for several)"


def storage_label(settings: Settings) -> str:
    from cowrite.storage import LocalBlobStore, create_blob_store

    store = create_blob_store(settings)
    if isinstance(store, LocalBlobStore):
        return f"local files in {store.root.resolve()}"
    return type(store).__name__
