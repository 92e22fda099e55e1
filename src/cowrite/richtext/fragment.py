"""The Yjs side of a rich document: the XmlFragment `default` laid out as y-prosemirror does
(an XmlElement per node named after its type, attributes for its non-null attrs, an XmlText per
run of text whose formatting attributes are the marks), read into ProseMirror JSON and written
from it."""

from __future__ import annotations

from typing import Any

from pycrdt import XmlElement, XmlFragment, XmlText

from cowrite.richtext.native import (
    Native,
    NativeElement,
    NativeFragment,
    NativeText,
    NativeTransaction,
    native,
    reading,
    tag,
)
from cowrite.richtext.schema import (
    MARK_RANK,
    MARKS,
    NODES,
    Attr,
    Json,
    empty_document,
    with_defaults,
)

Parent = XmlFragment | XmlElement


def _plain(value: Any) -> Any:
    """Yjs numbers arrive as floats; ProseMirror JSON has integers where they are whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


_MARKS_SEEN: dict[object, list[Json]] = {}  # formatting seen before, by its key (few distinct)
_MARKS_SEEN_MAX = 4096


def _marks_key(attrs: dict[str, Any]) -> object:
    """What names a run's formatting exactly: for one mark whose attributes are text (the usual
    run) a tuple, cheap to build; else the repr."""
    if len(attrs) == 1:
        for name, value in attrs.items():
            if value is None:
                return (name, None)
            if type(value) is dict:
                for item in value.values():
                    if item is not None and type(item) is not str:
                        return repr(attrs)
                return (name, tuple(value.items()))
    return repr(attrs)


def _marks(attrs: dict[str, Any] | None) -> list[Json]:
    """The marks of a run of text; the lists are shared between runs: never change them."""
    if not attrs:
        return []
    key = _marks_key(attrs)
    marks = _MARKS_SEEN.get(key)
    if marks is None:
        marks = _read_marks(attrs)
        if len(_MARKS_SEEN) >= _MARKS_SEEN_MAX:
            _MARKS_SEEN.clear()
        _MARKS_SEEN[key] = marks
    return marks


def _read_marks(attrs: dict[str, Any]) -> list[Json]:
    marks: list[Json] = []
    for key, value in attrs.items():
        name = key.split("--", 1)[0]  # y-prosemirror suffixes overlapping marks with a hash
        specs = MARKS.get(name)
        if specs is None or value is None:
            continue
        mark: Json = {"type": name}
        if specs:
            mark["attrs"] = with_defaults(specs, _plain(value) if isinstance(value, dict) else {})
        marks.append(mark)
    marks.sort(key=lambda mark: MARK_RANK[mark["type"]])
    return marks


# Reading walks pycrdt's native nodes inside one transaction (see `native`).


def _text_nodes(text: NativeText, txn: NativeTransaction) -> list[Json]:
    nodes: list[Json] = []
    append = nodes.append
    for insert, attrs in text.diff(txn):
        if type(insert) is not str or not insert:
            continue  # embeds have no place in the schema
        marks = _marks(attrs) if attrs else None
        if marks:
            append({"type": "text", "text": insert, "marks": marks})
        else:
            append({"type": "text", "text": insert})
    return nodes


def _plain_text(item: Native, txn: NativeTransaction) -> str:
    if isinstance(item, NativeText):
        return "".join(insert for insert, _ in item.diff(txn) if isinstance(insert, str))
    return "".join(_plain_text(child, txn) for child in item.children(txn))


def plain_text(item: XmlElement | XmlText | XmlFragment) -> str:
    """All the text under an element, without formatting."""
    with reading(item.doc) as txn:
        return _plain_text(native(item), txn)


def _degraded(element: NativeElement, inline: bool, txn: NativeTransaction) -> Json | None:
    """An element the schema does not know keeps its text."""
    text = _plain_text(element, txn)
    if not text:
        return None
    node: Json = {"type": "text", "text": text}
    return node if inline else {"type": "paragraph", "content": [node]}


def _children(
    parent: NativeFragment | NativeElement, inline: bool, txn: NativeTransaction
) -> list[Json]:
    children = parent.children(txn)
    if inline and len(children) == 1 and isinstance(children[0], NativeText):
        return _text_nodes(children[0], txn)  # most textblocks: one run of text
    nodes: list[Json] = []
    for child in children:
        if isinstance(child, NativeText):
            texts = _text_nodes(child, txn)
            if texts and not inline:
                nodes.append({"type": "paragraph", "content": texts})
            else:
                nodes.extend(texts)
        elif isinstance(child, NativeElement):
            node = _element(child, inline, txn)
            if node is not None:
                nodes.append(node)
    return nodes


# What reading an element of the schema needs, by name, where it stands (in a block or inline):
# its attributes, and whether its children are inline (None for a leaf). A name missing here
# is read as its text.
_Reading = tuple[dict[str, Attr], bool | None]
_READING: dict[bool, dict[str, _Reading]] = {
    inline: {
        name: (spec.attrs, spec.content in ("inline", "text") if spec.content else None)
        for name, spec in NODES.items()
        if name not in ("doc", "text") and spec.inline == inline
    }
    for inline in (False, True)
}


def _element(element: NativeElement, inline: bool, txn: NativeTransaction) -> Json | None:
    name = tag(element)
    known = _READING[inline].get(name)
    if known is None:
        return _degraded(element, inline, txn)
    specs, inline_children = known
    node: Json = {"type": name}
    if specs:
        pairs: list[tuple[str, Any]] = element.attributes(txn)
        node["attrs"] = with_defaults(specs, {key: _plain(value) for key, value in pairs})
    if inline_children is not None:
        content = _children(element, inline_children, txn)
        if content:
            node["content"] = content
    return node


def to_json(fragment: XmlFragment) -> Json:
    """The fragment as ProseMirror JSON (what `editor.getJSON()` reports for it)."""
    with reading(fragment.doc) as txn:
        root = native(fragment)
        assert isinstance(root, NativeFragment)
        content = _children(root, False, txn)
    if not content:
        return empty_document()
    return {"type": "doc", "content": content}


def block_json(element: XmlElement | XmlText) -> list[Json]:
    """One top-level child of the fragment as ProseMirror nodes (usually one)."""
    with reading(element.doc) as txn:
        node = native(element)
        if isinstance(node, NativeText):
            texts = _text_nodes(node, txn)
            return [{"type": "paragraph", "content": texts}] if texts else []
        assert isinstance(node, NativeElement)
        block = _element(node, False, txn)
        return [] if block is None else [block]


def _mark_attrs(marks: list[Json]) -> dict[str, Any]:
    return {mark["type"]: dict(mark.get("attrs") or {}) for mark in marks}


def _fill(element: Parent, content: list[Json]) -> None:
    """Append ProseMirror nodes under an integrated element (runs of text share one XmlText)."""
    text: XmlText | None = None
    for node in content:
        if node["type"] == "text":
            if text is None:
                text = element.children.append(XmlText())
            text.insert(len(text), node["text"], _mark_attrs(node.get("marks") or []))
            continue
        text = None
        insert_node(element, len(element.children), node)


def insert_node(parent: Parent, index: int, node: Json) -> None:
    """Insert one (checked) ProseMirror node as an element at `index` of `parent`."""
    attrs = {key: value for key, value in (node.get("attrs") or {}).items() if value is not None}
    element = parent.children.insert(index, XmlElement(node["type"], attrs))
    if node.get("content"):
        _fill(element, node["content"])


def write_document(fragment: XmlFragment, document: Json) -> None:
    """Fill an empty fragment with a (checked) document."""
    with fragment.doc.transaction():
        for node in document.get("content", []):
            insert_node(fragment, len(fragment.children), node)
