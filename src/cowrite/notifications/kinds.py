"""The kinds of notification and what a new user gets by default."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    COMMENT = "comment"
    DOCUMENT_UPDATED = "document_updated"
    ADDED_TO_WORKSPACE = "added_to_workspace"
    ROLE_CHANGED = "role_changed"
    DOCUMENT_SHARED = "document_shared"
    WEBHOOK_TURNED_OFF = "webhook_turned_off"


# Email is on for every kind but edits, which come often and show in the app anyway.
EMAIL_DEFAULTS: dict[Kind, bool] = {kind: kind is not Kind.DOCUMENT_UPDATED for kind in Kind}

# What a muted document still sends.
THROUGH_MUTE = frozenset({Kind.MENTION})


def email_settings(stored: dict[str, object]) -> dict[Kind, bool]:
    """Every kind's email switch: the stored choices over the defaults (unknown keys ignored)."""
    return {kind: bool(stored.get(kind.value, default)) for kind, default in EMAIL_DEFAULTS.items()}
