"""The one start-up banner: what runs where, and how to begin while no account exists."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from cowrite import __version__
from cowrite.config import Settings
from cowrite.observability import wants_text
from cowrite.ops.describe import broker_label, database_label, storage_label

log = logging.getLogger("cowrite")

FIRST_ACCOUNT_HINT = (
    "No account exists yet. Create the first one with:\n"
    '    cowrite user create --email you@example.com --full-name "Your Name"\n'
    "    or register through the API: POST {url}/api/v1/auth/register"
)


async def has_accounts(settings: Settings) -> bool:
    from cowrite.db import create_engine
    from cowrite.models.accounts import User

    engine = create_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(select(func.count()).select_from(User))
            return int(found.scalar_one()) > 0
    finally:
        await engine.dispose()


def banner_fields(settings: Settings, url: str, workers: int) -> dict[str, str]:
    return {
        "version": __version__,
        "url": url,
        "data_dir": str(settings.data_dir.resolve()),
        "database": database_label(settings),
        "broker": broker_label(settings),
        "storage": storage_label(settings),
        "trusted_proxies": ", ".join(str(n) for n in settings.trusted_proxies) or "none",
        "workers": str(workers),
    }


def log_banner(settings: Settings, url: str, workers: int, *, accounts: bool) -> None:
    """One record: readable lines on a terminal, one JSON object in a log collector."""
    fields = banner_fields(settings, url, workers)
    if not wants_text(settings.log_format):
        fields["first_account"] = "exists" if accounts else "missing"
        log.info("cowrite %s serving on %s", __version__, url, extra={"fields": fields})
        return
    lines = [f"cowrite {__version__} serving on {url}"]
    width = max(len(key) for key in fields)
    lines += [
        f"    {key.replace('_', ' '):<{width}}  {value}"
        for key, value in fields.items()
        if key not in {"version", "url"}
    ]
    if not accounts:
        lines.append("  " + FIRST_ACCOUNT_HINT.format(url=url))
    log.info("\n".join(lines))
