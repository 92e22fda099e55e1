"""ORM tables, a module per aggregate; importing this registers them all on Base.metadata."""

from cowrite.models.accounts import Login, User
from cowrite.models.base import Base
from cowrite.models.collab import YSnapshot, YUpdate
from cowrite.models.comments import Comment, CommentMention, CommentReaction
from cowrite.models.documents import Document, DocumentMember, DocumentTag, DocumentVersion
from cowrite.models.files import StoredFile
from cowrite.models.jobs import Job
from cowrite.models.notifications import (
    DocumentSubscription,
    Notification,
    NotificationPreferences,
    OutgoingMail,
)
from cowrite.models.sessions import UserSession
from cowrite.models.shares import ApiToken, ShareLink
from cowrite.models.sso import OidcHandoff, OidcIdentity
from cowrite.models.webhooks import Webhook, WebhookDelivery
from cowrite.models.workspaces import Membership, Workspace

__all__ = [
    "ApiToken",
    "Base",
    "Comment",
    "CommentMention",
    "CommentReaction",
    "Document",
    "DocumentMember",
    "DocumentSubscription",
    "DocumentTag",
    "DocumentVersion",
    "Job",
    "Login",
    "Membership",
    "Notification",
    "NotificationPreferences",
    "OidcHandoff",
    "OidcIdentity",
    "OutgoingMail",
    "ShareLink",
    "StoredFile",
    "User",
    "UserSession",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
    "YSnapshot",
    "YUpdate",
]
