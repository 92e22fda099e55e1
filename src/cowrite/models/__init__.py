"""ORM tables, a module per aggregate; importing this registers them all on Base.metadata."""

from cowrite.models.accounts import Login, User
from cowrite.models.base import Base
from cowrite.models.collab import YSnapshot, YUpdate
from cowrite.models.documents import Document, DocumentTag, DocumentVersion
from cowrite.models.files import StoredFile
from cowrite.models.sessions import UserSession
from cowrite.models.sso import OidcHandoff, OidcIdentity
from cowrite.models.webhooks import Webhook, WebhookDelivery
from cowrite.models.workspaces import Membership, Workspace

__all__ = [
    "Base",
    "Document",
    "DocumentTag",
    "DocumentVersion",
    "Login",
    "Membership",
    "OidcHandoff",
    "OidcIdentity",
    "StoredFile",
    "User",
    "UserSession",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
    "YSnapshot",
    "YUpdate",
]
