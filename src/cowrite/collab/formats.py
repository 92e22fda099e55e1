"""The two kinds of document body a room can hold: a Markdown document is the Y.Text `content`,
a rich document the Y.XmlFragment `default` (Tiptap's field). Each says which root an update
may touch, how the body reads as Markdown (`documents.content`), how a document that only has
content is seeded, and how a REST write becomes an edit of the live body."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pycrdt import Doc, Subscription, Text, XmlElement, XmlFragment, XmlText

from cowrite.collab.protocol import LimitExceeded, ProtocolError
from cowrite.collab.reads import closest
from cowrite.collab.textdiff import byte_offsets, rebase_edits, text_edits
from cowrite.collab.updates import check_update
from cowrite.richtext import fragment as rich_fragment
from cowrite.richtext.markdown import block as markdown_block
from cowrite.richtext.markdown import from_markdown, to_markdown
from cowrite.richtext.merge import (
    BlockKey,
    LiveBlock,
    json_key,
    markdown_key,
    merge_document,
    merge_markdown_source,
)
from cowrite.richtext.schema import (
    FRAGMENT_NAME,
    Json,
    Limits,
    check_document,
    empty_document,
)

MARKDOWN = "markdown"
RICH = "rich"
TEXT_NAME = "content"


class DocumentTooLarge(ProtocolError):
    """The update would make a rich document deeper or larger than allowed."""


class BodyFormat(Protocol):
    name: str
    # How many bytes of `size` one byte of update may add at most.
    growth: int

    def check(self, doc: Doc, update: bytes) -> None:
        """Raise `ProtocolError` unless the update may be applied to this body."""
        ...

    def watch(self, doc: Doc) -> None:
        """`doc` is a live room's: keep what makes reading it again cheap."""
        ...

    def markdown(self, doc: Doc) -> str: ...

    def size(self, doc: Doc) -> int:
        """The body's size in bytes, as the room's size limit counts it."""
        ...

    def oversize(self, message: str) -> ProtocolError:
        """The error that refuses an update taking the body past the size limit."""
        ...

    def seed(self, content: str) -> bytes: ...

    def write_markdown(
        self, doc: Doc, content: str, base: str | None = None, *, reads: Sequence[str] = ()
    ) -> None:
        """Edit the body into `content` (Markdown), changing as little as possible; `base` is
        the Markdown the writer started from, when known, else the one of `reads` and the
        live body that `content` is closest to (none given: the body becomes `content`)."""
        ...


class MarkdownBody:
    name = MARKDOWN
    growth = 1

    def check(self, doc: Doc, update: bytes) -> None:
        check_update(update, TEXT_NAME)

    def watch(self, doc: Doc) -> None:
        pass

    def markdown(self, doc: Doc) -> str:
        return str(doc.get(TEXT_NAME, type=Text))

    def size(self, doc: Doc) -> int:
        return len(str(doc.get(TEXT_NAME, type=Text)).encode())

    def oversize(self, message: str) -> ProtocolError:
        return LimitExceeded(message, too_big=True)

    def seed(self, content: str) -> bytes:
        doc: Doc = Doc()
        if content:
            doc.get(TEXT_NAME, type=Text).insert(0, content)
        return doc.get_update()

    def write_markdown(
        self, doc: Doc, content: str, base: str | None = None, *, reads: Sequence[str] = ()
    ) -> None:
        """The writer's edits since its base land where that text stands now."""
        text = doc.get(TEXT_NAME, type=Text)
        old = str(text)
        if base is None and reads:
            base = closest([*reads, old], content)
        if base is None or base == old:
            edits = text_edits(old, content)
        else:
            edits = rebase_edits(base, content, old)
        with doc.transaction():
            for start, length, inserted in byte_offsets(old, edits):
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
    # XML writes a node's name twice and a mark's on both sides of its text; an update once.
    growth = 3

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._bounds: _Bounds | None = None  # of the one document this body belongs to
        # In a live room: each top-level block read before, as ProseMirror nodes and as
        # Markdown (by list marker), until an edit inside it drops it.
        self._blocks: dict[XmlElement | XmlText, list[Json]] | None = None
        self._markdown: dict[int, tuple[Json, dict[bool, str]]] = {}
        self._subscription: Subscription | None = None

    def watch(self, doc: Doc) -> None:
        fragment = self.fragment(doc)
        self._blocks = {}
        self._subscription = fragment.observe_deep(lambda events: self._changed(fragment, events))

    def _changed(self, fragment: XmlFragment, events: list[Any]) -> None:
        blocks = self._blocks
        if not blocks:
            return
        for event in events:
            node = event.target
            top = None
            while node is not None and node != fragment:
                top, node = node, node.parent
            if top is not None:
                blocks.pop(top, None)

    def fragment(self, doc: Doc) -> XmlFragment:
        return doc.get(FRAGMENT_NAME, type=XmlFragment)

    def size(self, doc: Doc) -> int:
        """The fragment as XML (its text, node names and attributes), UTF-8."""
        return len(str(self.fragment(doc)).encode())

    def oversize(self, message: str) -> ProtocolError:
        return DocumentTooLarge(message)

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

    def _read(self, doc: Doc) -> list[tuple[XmlElement | XmlText, list[Json]]]:
        """Each top-level child and its ProseMirror nodes (remembered in a live room)."""
        blocks = self._blocks
        read: list[tuple[XmlElement | XmlText, list[Json]]] = []
        with doc.transaction():
            for child in self.fragment(doc).children:
                if not isinstance(child, XmlElement | XmlText):
                    continue
                nodes = blocks.get(child) if blocks is not None else None
                if nodes is None:
                    nodes = rich_fragment.block_json(child)
                read.append((child, nodes))
        if blocks is not None:
            self._blocks = dict(read)
        return read

    def json(self, doc: Doc) -> Json:
        content = [node for _, nodes in self._read(doc) for node in nodes]
        return {"type": "doc", "content": content} if content else empty_document()

    def _render(
        self,
    ) -> tuple[Callable[[Json, bool], str], dict[int, tuple[Json, dict[bool, str]]]]:
        """A block renderer that remembers what it rendered (by node, and list marker)."""
        seen, fresh = self._markdown, {}

        def render(node: Json, alternate: bool) -> str:
            entry = seen.get(id(node))
            if entry is None or entry[0] is not node:
                entry = (node, {})
            fresh[id(node)] = entry
            text = entry[1].get(alternate)
            if text is None:
                text = entry[1][alternate] = markdown_block(node, alternate)
            return text

        return render, fresh

    def markdown(self, doc: Doc) -> str:
        document = self.json(doc)
        if self._blocks is None:
            return to_markdown(document)
        render, fresh = self._render()
        text = to_markdown(document, render)
        self._markdown = fresh
        return text

    def live_blocks(self, doc: Doc) -> list[LiveBlock]:
        """The top-level blocks with the Markdown each has in the document."""
        read = self._read(doc)
        render, fresh = self._render()
        texts: list[str] = []

        def record(node: Json, alternate: bool) -> str:
            texts.append(render(node, alternate))
            return texts[-1]

        to_markdown({"type": "doc", "content": [n for _, nodes in read for n in nodes]}, record)
        if self._blocks is not None:
            self._markdown = fresh
        blocks: list[LiveBlock] = []
        taken = 0
        for child, nodes in read:
            shown = [node for node in nodes if not _is_empty_paragraph(node)]
            own = texts[taken : taken + len(shown)]
            taken += len(shown)
            single = nodes[0] if len(nodes) == 1 else None
            blocks.append(LiveBlock(child, single, own[0] if single and own else ""))
        return blocks

    def seed(self, content: str) -> bytes:
        doc: Doc = Doc()
        if content:
            rich_fragment.write_document(self.fragment(doc), from_markdown(content))
        return doc.get_update()

    def write_markdown(
        self, doc: Doc, content: str, base: str | None = None, *, reads: Sequence[str] = ()
    ) -> None:
        """Raises `RichTextError` when a block the write changed breaks the schema."""
        if base is None and not reads:
            self.write_json(doc, from_markdown(content), markdown_key)
            return

        def parse(source: str) -> list[Json]:
            nodes = from_markdown(source)["content"]
            checked = check_document({"type": "doc", "content": nodes}, self.limits)
            content: list[Json] = checked.get("content", [])
            return content

        live = self.live_blocks(doc)
        if base is None:
            shown = "\n\n".join(block.markdown for block in live if block.markdown)
            base = closest([*reads, shown], content)
            assert base is not None
        merge_markdown_source(self.fragment(doc), live, base, content, parse)
        self._bounds = None

    def write_json(self, doc: Doc, document: Json, key: BlockKey = json_key) -> None:
        merge_document(self.fragment(doc), document, key)
        self._bounds = None


def _is_empty_paragraph(node: Json) -> bool:
    return node.get("type") == "paragraph" and not node.get("content")


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
