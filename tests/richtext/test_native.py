"""The native walk the rich-text reader relies on (`cowrite.richtext.native`, the only code that
reaches under pycrdt's public wrappers) sees what pycrdt's public API sees. If a pycrdt release
moves or changes those internals, these tests fail, naming the module to update."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from cowrite.richtext import native as native_module
from cowrite.richtext.fragment import to_json, write_document
from cowrite.richtext.native import (
    Native,
    NativeElement,
    NativeText,
    NativeTransaction,
    PycrdtChanged,
    native,
    reading,
    tag,
)
from cowrite.richtext.schema import check_document
from tests.richtext.corpus import CORPUS


def _public_tree(node: XmlFragment | XmlElement | XmlText) -> Any:
    if isinstance(node, XmlText):
        return ("#text", node.diff())
    name = node.tag if isinstance(node, XmlElement) else "#fragment"
    attrs = sorted(node.attributes) if isinstance(node, XmlElement) else []
    children = [_public_tree(child) for child in node.children]
    return (name, attrs, children)


def _native_tree(node: Native, txn: NativeTransaction) -> Any:
    if isinstance(node, NativeText):
        return ("#text", list(node.diff(txn)))
    name = tag(node) if isinstance(node, NativeElement) else "#fragment"
    attrs = sorted(node.attributes(txn)) if isinstance(node, NativeElement) else []
    children = [_native_tree(child, txn) for child in node.children(txn)]
    return (name, attrs, children)


def _every_kind_of_fragment() -> tuple[Doc, XmlFragment]:
    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    for document in CORPUS.values():
        write_document(fragment, check_document(document))
    # What a client may send beside the schema: an unknown element, a run with an overlapping
    # mark named the way y-prosemirror names it, an element without attributes.
    table = fragment.children.append(XmlElement("table"))
    table.children.append(XmlText("cell"))
    loose = fragment.children.append(XmlText())
    loose.insert(0, "overlap", {"bold--a1b2": {}, "link": {"href": "https://example.com"}})
    return doc, fragment


def test_the_native_walk_sees_what_the_public_api_sees() -> None:
    doc, fragment = _every_kind_of_fragment()
    public = _public_tree(fragment)
    with reading(doc) as txn:
        walked = _native_tree(native(fragment), txn)
    assert walked == public
    names = {child[0] for child in public[2]}
    assert {"heading", "paragraph", "bulletList", "taskList", "codeBlock", "table"} <= names


def test_reading_joins_an_open_transaction() -> None:
    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        paragraph = fragment.children.append(XmlElement("paragraph"))
        paragraph.children.append(XmlText("not yet committed"))
        assert to_json(fragment)["content"] == [
            {"type": "paragraph", "content": [{"type": "text", "text": "not yet committed"}]}
        ]


def test_a_moved_transaction_handle_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    class Elsewhere:
        """What pycrdt might keep under `_txn` some day."""

    monkeypatch.setattr(native_module, "NativeTransaction", Elsewhere)
    doc: Doc = Doc()
    with pytest.raises(PycrdtChanged, match=r"update cowrite\.richtext\.native"), reading(doc):
        pass


def test_runs_of_like_formatting_are_told_apart() -> None:
    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    runs = fragment.children.append(XmlElement("paragraph")).children.append(XmlText())
    for text, attrs in [
        ("plain ", {"bold": None}),
        ("bold ", {"bold": {}}),
        ("one ", {"link": {"href": "https://a.example"}}),
        ("two ", {"link": {"href": "https://b.example"}}),
        ("odd", {"link": {"href": "https://b.example", "title": 1}}),
    ]:
        runs.insert(len(runs), text, attrs)
    link = {"target": "_blank", "rel": "noopener noreferrer nofollow", "class": None}
    assert to_json(fragment)["content"][0]["content"] == [
        {"type": "text", "text": "plain "},
        {"type": "text", "text": "bold ", "marks": [{"type": "bold"}]},
        *(
            {"type": "text", "text": text, "marks": [{"type": "link", "attrs": attrs}]}
            for text, attrs in [
                ("one ", {"href": "https://a.example", **link, "title": None}),
                ("two ", {"href": "https://b.example", **link, "title": None}),
                ("odd", {"href": "https://b.example", **link, "title": 1}),
            ]
        ),
    ]
