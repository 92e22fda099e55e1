"""Identifiers."""

from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def parse_uuid(value: str) -> uuid.UUID | None:
    """A UUID from untrusted text, or None."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
