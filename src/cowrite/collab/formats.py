"""The two kinds of document body a room can hold: a Markdown document is the Y.Text `content`,
a rich document the Y.XmlFragment `default` (Tiptap's field). Each says which root an update
may touch, how the body reads as Markdown (`documents.content`), how a document that only has
content is seeded, and how a REST write becomes an edit of the live body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pycrdt import Doc, Text, XmlElement, XmlFragment

from cowrite.collab.protocol import ProtocolError
from cowrite.collab.textdiff import byte_offsets, text_edits
from cowrite.collab.updates import check_update
from cowrite.richtext import fragment as rich_fragment
from cowrite.richtext.markdown import from_markdown, to_markdown
from cowrite.richtext.merge import (
    BlockKey,
    json_key,
    markdown_key,
    merge_document,
    merge_markdown,
)
from cowrite.richtext.schema import FRAGMENT_NAME, Json, Limits

MARKDOWN = "markdown"
RICH = "rich"
TEXT_NAME = "content"


class DocumentTooLarge(ProtocolError):
    """The update would make a rich document deeper or larger than allowed."""


class BodyFormat(Protocol):
    name: str

    def check(self, doc: Doc, update: bytes) -> None:
        """Raise `ProtocolError` unless the update may be applied to this body."""
        ...

    def markdown(self, doc: Doc) -> str: ...

    def seed(self, content: str) -> bytes: ...

    def write_markdown(self, doc: Doc, content: str, base: str | None = None) -> None:
        """Edit the body into `content` (Markdown), changing as little as possible; `base` is
        the Markdown the writer started from, when known."""
        ...


class MarkdownBody:
    name = MARKDOWN

    def check(self, doc: Doc, update: bytes) -> None:
        check_update(update, TEXT_NAME)

    def markdown(self, doc: Doc) -> str:
        return str(doc.get(TEXT_NAME, type=Text))

    def seed(self, content: str) -> bytes:
        doc: Doc = Doc()
        if content:
            doc.get(TEXT_NAME, type=Text).insert(0, content)
        return doc.get_update()

    def write_markdown(self, doc: Doc, content: str, base: str | None = None) -> None:
        text = doc.get(TEXT_NAME, type=Text)
        old = str(text)
        with doc.transaction():
            for start, length, inserted in byte_offsets(old, text_edits(old, content)):
                if length:
                    del text[start : start + length]
                if inserted:
                    text.insert(start, inserted)


def measure(fragment: XmlFragment) -> tuple[int, int]:
    """(elements, deepest nesting) of a fragment."""
    elements = 0
    deepest = 0
    stack: list[tuple[XmlFragment | XmlElement, int]] = [(fragment, 0)]
    with fragment.doc.transaction():
        while stack:
            parent, depth = stack.pop()
            for child in parent.children:
                if isinstance(child, XmlElement):
                    elements += 1
                    deepest = max(deepest, depth + 1)
                    stack.append((child, depth + 1))
    return elements, deepest


@dataclass(slots=True)
class _Bounds:
    """Upper bounds of a live document's size, raised by every accepted update and measured
    exactly only when they pass a limit (so typing costs no walk over the tree)."""

    elements: int = 0
    depth: int = 0


class RichBody:
    name = RICH

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._bounds: _Bounds | None = None  # of the one document this body belongs to

    def fragment(self, doc: Doc) -> XmlFragment:
        return doc.get(FRAGMENT_NAME, type=XmlFragment)

    def check(self, doc: Doc, update: bytes) -> None:
        added = check_update(update, FRAGMENT_NAME, xml=True)
        if not added:
            return
        bounds = self._bounds
        if bounds is None:
            bounds = self._bounds = _Bounds(*measure(self.fragment(doc)))
        if (
            bounds.elements + added <= self.limits.max_nodes
            and bounds.depth + added <= self.limits.max_depth
        ):
            bounds.elements += added
            bounds.depth += added
            return
        trial: Doc = Doc()
        trial.apply_update(doc.get_update())
        try:
            trial.apply_update(update)
        except Exception as exc:
            raise ProtocolError("update refused by the document") from exc
        elements, depth = measure(self.fragment(trial))
        if elements > self.limits.max_nodes:
            raise DocumentTooLarge(
                f"the document would hold more than {self.limits.max_nodes} nodes"
            )
        if depth > self.limits.max_depth:
            raise DocumentTooLarge(f"the document would nest deeper than {self.limits.max_depth}")
        bounds.elements, bounds.depth = elements, depth

    def json(self, doc: Doc) -> Json:
        return rich_fragment.to_json(self.fragment(doc))

    def markdown(self, doc: Doc) -> str:
        return to_markdown(self.json(doc))

    def seed(self, content: str) -> bytes:
        doc: Doc = Doc()
        if content:
            rich_fragment.write_document(self.fragment(doc), from_markdown(content))
        return doc.get_update()

    def write_markdown(self, doc: Doc, content: str, base: str | None = None) -> None:
        if base is None:
            self.write_json(doc, from_markdown(content), markdown_key)
            return
        merge_markdown(self.fragment(doc), from_markdown(base), from_markdown(content))
        self._bounds = None

    def write_json(self, doc: Doc, document: Json, key: BlockKey = json_key) -> None:
        merge_document(self.fragment(doc), document, key)
        self._bounds = None


def body_for(format_name: str, limits: Limits) -> BodyFormat:
    """A body for one document (a rich body keeps that document's size bounds)."""
    return RichBody(limits) if format_name == RICH else MarkdownBody()


def capture(doc: Doc, edit: Callable[[], None]) -> bytes | None:
    """Run `edit()` on `doc`; the update it made, or None if it changed nothing."""
    captured: list[bytes] = []
    subscription = doc.observe(lambda event: captured.append(event.update))
    try:
        with doc.transaction():
            edit()
    finally:
        doc.unobserve(subscription)
    return captured[0] if captured else None
