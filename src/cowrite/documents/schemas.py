"""Request and response bodies of the document and tag endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from cowrite.workspaces.roles import Role

MAX_TAG_LENGTH = 64
MAX_TAGS = 32


def normalize_tag(value: str) -> str:
    """Tags match case-insensitively and ignore surrounding and repeated whitespace."""
    return " ".join(value.replace("\x00", "").split()).lower()


def storable_text(value: str) -> str:
    """Text both databases can store: no NUL characters, no unpaired surrogates."""
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("Text is not valid Unicode") from None
    return value


def _valid_tag(value: str) -> str:
    tag = normalize_tag(storable_text(value))
    if not tag:
        raise ValueError("A tag may not be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"A tag has at most {MAX_TAG_LENGTH} characters")
    return tag


def _unique_tags(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Tag = Annotated[str, StringConstraints(max_length=4 * MAX_TAG_LENGTH), AfterValidator(_valid_tag)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique_tags)]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(storable_text),
]
# The byte limit is a setting, checked by the service (413); this only bounds parsing.
Content = Annotated[
    str, StringConstraints(max_length=64 * 1024 * 1024), AfterValidator(storable_text)
]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


DocumentFormat = Literal["markdown", "rich"]
# "restricted": only the workspace's admins and owners and the people listed on the document.
DocumentVisibility = Literal["workspace", "restricted"]


def shown_format(stored: str) -> DocumentFormat:
    """A document's `format` as the API shows it."""
    return "rich" if stored == "rich" else "markdown"


def shown_visibility(stored: str) -> DocumentVisibility:
    """A document's `visibility` as the API shows it."""
    return "restricted" if stored == "restricted" else "workspace"


# ProseMirror JSON of a rich document (checked against the schema by the service).
ContentJson = Annotated[
    dict[str, Any],
    Field(description="ProseMirror JSON (Tiptap StarterKit schema) of a rich document"),
]


class DocumentCreate(StrictBody):
    title: Title
    content: Content = ""
    tags: Tags = Field(default_factory=list)
    format: DocumentFormat = "markdown"
    content_json: ContentJson | None = None


class DocumentUpdate(StrictBody):
    title: Title | None = None
    content: Content | None = None
    content_json: ContentJson | None = None
    tags: Tags | None = None
    base_version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    visibility: DocumentVisibility | None = None


class DocumentSummary(BaseModel):
    """A document in a list: everything but its content."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    title: str
    tags: list[str]
    version: int
    created_by: uuid.UUID | None
    updated_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    format: DocumentFormat = "markdown"
    visibility: DocumentVisibility = "workspace"


class DocumentOut(DocumentSummary):
    content: str


class DocumentView(DocumentOut):
    """A document as `GET` answers it: `content` is Markdown, or HTML with `as=html`; with
    `as=json` the body also comes as ProseMirror JSON in `content_json`."""

    content_json: dict[str, Any] | None = None
    # The caller's role on this document (a listed person's or guest's role counts here).
    role: Role | None = None


class TagOut(BaseModel):
    name: str
    count: int
