"""Request and response bodies of the version endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from cowrite.documents.schemas import storable_text

Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(storable_text),
]


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label | None = None


class VersionOut(BaseModel):
    """A point in the history: `created_at` when it began, `updated_at` its last folded edit."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    title: str
    label: str | None
    author_id: uuid.UUID | None
    source: str
    content_size: int
    created_at: datetime
    updated_at: datetime


class VersionDetail(VersionOut):
    content: str


class DiffOut(BaseModel):
    """`unified` turns version `from` into `to` (a version number or "current")."""

    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from")
    to: int | str
    unified: str
