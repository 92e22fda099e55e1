"""Cursor pagination: an opaque cursor over (sort value, id)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from cowrite.kit.errors import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(sort_value: datetime | int | str, row_id: uuid.UUID) -> str:
    value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
    raw = orjson.dumps([value, str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str | int, uuid.UUID]:
    """Return (sort value, id); a cursor that was not made here is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(value, str | int):
            raise ValueError(value)
        return value, uuid.UUID(row_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise BadRequest("Invalid cursor", code="invalid_cursor") from exc


def decode_time_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A cursor whose sort value is a time (lists newest or oldest first); None for no cursor."""
    if cursor is None:
        return None
    value, row_id = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(str(value)), row_id
    except ValueError:
        raise BadRequest("Invalid cursor", code="invalid_cursor") from None


def next_cursor_for(
    rows: Sequence[T], limit: int, key: Callable[[T], tuple[datetime | int | str, uuid.UUID]]
) -> tuple[list[T], str | None]:
    """Trim a limit+1 fetch to a page and compute the cursor of the next one."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    sort_value, row_id = key(items[-1])
    return items, encode_cursor(sort_value, row_id)
