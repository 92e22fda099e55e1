"""The Yjs side of a rich document: the XmlFragment `default` laid out as y-prosemirror does
(an XmlElement per node named after its type, attributes for its non-null attrs, an XmlText per
run of text whose formatting attributes are the marks), read into ProseMirror JSON and written
from it."""

from __future__ import annotations

from typing import Any

from pycrdt import Transaction, XmlElement, XmlFragment, XmlText, _pycrdt

from cowrite.richtext.schema import MARK_RANK, MARKS, NODES, Json, empty_document, with_defaults

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


_MARKS_SEEN: dict[str, list[Json]] = {}  # formatting seen before, by its repr (few distinct)
_MARKS_SEEN_MAX = 4096


def _marks(attrs: dict[str, Any] | None) -> list[Json]:
    """The marks of a run of text; the lists are shared between runs: never change them."""
    if not attrs:
        return []
    key = repr(attrs)
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


# Reading walks pycrdt's native nodes inside one transaction: its Python wrappers cost several
# times the walk itself on a document of a few thousand nodes.
_Native = _pycrdt.XmlFragment | _pycrdt.XmlElement | _pycrdt.XmlText


def _native(txn: Transaction) -> _pycrdt.Transaction:
    native = txn._txn
    assert native is not None  # an open transaction
    return native


def _tag(element: _pycrdt.XmlElement) -> str:
    tag: str | None = element.tag()  # type: ignore[attr-defined]  # missing from pycrdt's stub
    return tag or ""


def _text_nodes(text: _pycrdt.XmlText, txn: _pycrdt.Transaction) -> list[Json]:
    nodes: list[Json] = []
    for insert, attrs in text.diff(txn):
        if not isinstance(insert, str) or not insert:
            continue  # embeds have no place in the schema
        node: Json = {"type": "text", "text": insert}
        marks = _marks(attrs)
        if marks:
            node["marks"] = marks
        nodes.append(node)
    return nodes


def _plain_text(item: _Native, txn: _pycrdt.Transaction) -> str:
    if isinstance(item, _pycrdt.XmlText):
        return "".join(insert for insert, _ in item.diff(txn) if isinstance(insert, str))
    return "".join(_plain_text(child, txn) for child in item.children(txn))


def plain_text(item: XmlElement | XmlText | XmlFragment) -> str:
    """All the text under an element, without formatting."""
    with item.doc.transaction() as txn:
        return _plain_text(item.integrated, _native(txn))


def _degraded(element: _pycrdt.XmlElement, inline: bool, txn: _pycrdt.Transaction) -> list[Json]:
    """An element the schema does not know keeps its text."""
    text = _plain_text(element, txn)
    if not text:
        return []
    node: Json = {"type": "text", "text": text}
    return [node] if inline else [{"type": "paragraph", "content": [node]}]


def _children(
    parent: _pycrdt.XmlFragment | _pycrdt.XmlElement, inline: bool, txn: _pycrdt.Transaction
) -> list[Json]:
    nodes: list[Json] = []
    for child in parent.children(txn):
        if isinstance(child, _pycrdt.XmlText):
            texts = _text_nodes(child, txn)
            if texts and not inline:
                nodes.append({"type": "paragraph", "content": texts})
            else:
                nodes.extend(texts)
        elif isinstance(child, _pycrdt.XmlElement):
            nodes.extend(_element(child, inline, txn))
    return nodes


def _element(element: _pycrdt.XmlElement, inline: bool, txn: _pycrdt.Transaction) -> list[Json]:
    name = _tag(element)
    spec = NODES.get(name)
    if spec is None or name in ("doc", "text") or spec.inline != inline:
        return _degraded(element, inline, txn)
    node: Json = {"type": name}
    if spec.attrs:
        pairs: list[tuple[str, Any]] = element.attributes(txn)
        node["attrs"] = with_defaults(spec.attrs, {key: _plain(value) for key, value in pairs})
    if spec.content:
        content = _children(element, spec.content in ("inline", "text"), txn)
        if content:
            node["content"] = content
    return [node]


def to_json(fragment: XmlFragment) -> Json:
    """The fragment as ProseMirror JSON (what `editor.getJSON()` reports for it)."""
    with fragment.doc.transaction() as txn:
        content = _children(fragment.integrated, False, _native(txn))
    if not content:
        return empty_document()
    return {"type": "doc", "content": content}


def block_json(element: XmlElement | XmlText) -> list[Json]:
    """One top-level child of the fragment as ProseMirror nodes (usually one)."""
    with element.doc.transaction() as txn:
        native = element.integrated
        if isinstance(native, _pycrdt.XmlText):
            texts = _text_nodes(native, _native(txn))
            return [{"type": "paragraph", "content": texts}] if texts else []
        return _element(native, False, _native(txn))


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
