"""Every feature's router and start-up hook, in dependency order; the app mounts them all."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from fastapi import APIRouter

from cowrite.apitokens import endpoints as apitokens
from cowrite.calls import endpoints as calls
from cowrite.collab import endpoints as collab
from cowrite.comments import endpoints as comments
from cowrite.documents import endpoints as documents
from cowrite.files import endpoints as files
from cowrite.jobs import endpoints as jobs
from cowrite.notifications import endpoints as notifications
from cowrite.oidc import endpoints as oidc
from cowrite.ops import endpoints as ops
from cowrite.presence import endpoints as presence
from cowrite.search import endpoints as search
from cowrite.shares import endpoints as shares
from cowrite.state import Startup
from cowrite.transfer import endpoints as transfer
from cowrite.versions import endpoints as versions
from cowrite.webhooks import endpoints as webhooks
from cowrite.workspaces import endpoints as workspaces


@dataclass(frozen=True, slots=True)
class Feature:
    router: APIRouter
    startup: Startup | None


def _feature(module: ModuleType) -> Feature:
    return Feature(router=module.router, startup=getattr(module, "startup", None))


FEATURES = [
    _feature(module)
    for module in (
        workspaces,
        documents,
        versions,
        search,
        files,
        presence,
        calls,
        collab,
        comments,
        notifications,
    )
]
# Jobs start after presence (progress goes to the owner's sockets); exports and imports after jobs.
FEATURES += [_feature(jobs), _feature(transfer)]
FEATURES += [_feature(webhooks), _feature(oidc)]
# Share links and API tokens count their uses in memory and write them in batches.
FEATURES += [_feature(shares), _feature(apitokens)]
# Installed last so that its SIGTERM hook runs first (see cowrite.ops.endpoints).
FEATURES.append(_feature(ops))
