"""Rich-text bodies on the REST side: what a write to a rich document brings (checked against
the schema and the limits), and a document's body in the forms it can be read in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.errors import Unprocessable
from cowrite.models import Document
from cowrite.richtext.html import document_html, markdown_html
from cowrite.richtext.markdown import from_markdown, to_markdown
from cowrite.richtext.schema import Json, Limits, RichTextError, check_document
from cowrite.state import AppState

RICH = "rich"
BodyForm = Literal["md", "html", "json"]


def _limits(state: AppState) -> Limits:
    settings = state.settings
    return Limits(settings.rich_max_depth, settings.rich_max_nodes)


@dataclass(frozen=True, slots=True)
class RichWrite:
    """What a write brings to a rich document: the checked tree and its Markdown."""

    document: Json
    markdown: str

    @staticmethod
    def read(
        state: AppState, format_name: str, content: str | None, content_json: Json | None
    ) -> RichWrite | None:
        """The body a write brings to a document of `format_name` (None for Markdown documents,
        whose content is taken as it is); 422 naming the node when the schema refuses it."""
        if content and content_json is not None:
            raise Unprocessable("Send content or content_json, not both", code="content_conflict")
        if format_name != RICH:
            if content_json is not None:
                raise Unprocessable(
                    "content_json is for rich documents; send Markdown as content",
                    code="not_rich",
                )
            return None
        if content_json is None:
            if content is None:
                return None
            content_json = from_markdown(content)
        try:
            document = check_document(content_json, _limits(state))
        except RichTextError as exc:
            raise Unprocessable(str(exc), code="invalid_rich_text") from None
        return RichWrite(document, to_markdown(document))


async def render(
    state: AppState, session: AsyncSession, document: Document, form: BodyForm
) -> str | dict[str, Any]:
    """The document's body as Markdown, sanitized HTML or ProseMirror JSON (for reads and
    exports alike). A rich document is read from its live tree; a Markdown one from its text."""
    if form == "md":
        return document.content
    tree: dict[str, Any] | None
    if document.format == RICH and state.collab is not None:
        tree = await state.collab.rich_json(session, document.id)
    else:
        tree = from_markdown(document.content) if form == "json" else None
    if form == "json":
        assert tree is not None
        return tree
    if tree is None:
        return markdown_html(document.content)
    return document_html(tree)
