"""What `cowrite serve` does before it listens: the start-up checks, migrations, the banner."""

from __future__ import annotations

from cowrite.config import Settings
from cowrite.ops.banner import has_accounts, log_banner
from cowrite.ops.checks import reason, run_checks


class StartupError(Exception):
    """The one line `cowrite serve` prints instead of starting."""


async def prepare(settings: Settings, url: str, workers: int) -> None:
    """Check the configuration and services, apply migrations, log the banner; a problem
    raises StartupError with one plain line."""
    from cowrite.migrate import upgrade

    for finding in await run_checks(settings, startup_only=True):
        if finding.status == "fail":
            raise StartupError(f"{finding.name}: {finding.message}")
    try:
        await upgrade(settings.resolved_database_url)
        accounts = await has_accounts(settings)
    except Exception as exc:
        raise StartupError(f"database: migrations failed: {reason(exc)}") from exc
    log_banner(settings, url, workers, accounts=accounts)
