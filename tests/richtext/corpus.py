"""Rich documents covering every node and mark of the schema, written as a Tiptap client would
send them (attributes left out where the default holds)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def text(value: str, *marks: str | Json) -> Json:
    node: Json = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": mark} if isinstance(mark, str) else mark for mark in marks]
    return node


def paragraph(*content: Json) -> Json:
    return {"type": "paragraph", "content": list(content)} if content else {"type": "paragraph"}


def item(*content: Json, kind: str = "listItem", checked: bool | None = None) -> Json:
    node: Json = {"type": kind, "content": list(content)}
    if checked is not None:
        node["attrs"] = {"checked": checked}
    return node


def link(href: str) -> Json:
    return {"type": "link", "attrs": {"href": href}}


MARKS: Json = {
    "type": "doc",
    "content": [
        {"type": "heading", "attrs": {"level": 1}, "content": [text("Release notes")]},
        paragraph(
            text("Plain, "),
            text("bold", "bold"),
            text(", "),
            text("italic", "italic"),
            text(", "),
            text("both", "bold", "italic"),
            text(", "),
            text("struck", "strike"),
            text(", "),
            text("underlined", "underline"),
            text(", "),
            text("code()", "code"),
            text(" and "),
            text("a link", link("https://example.com/notes")),
            text(" with "),
            text("bold inside", link("https://example.com/bold"), "bold"),
            text("."),
        ),
        paragraph(text("First line"), {"type": "hardBreak"}, text("second line")),
        {
            "type": "heading",
            "attrs": {"level": 3},
            "content": [text("Small "), text("print", "italic")],
        },
    ],
}

LISTS: Json = {
    "type": "doc",
    "content": [
        {
            "type": "bulletList",
            "content": [
                item(paragraph(text("milk"))),
                item(
                    paragraph(text("fruit")),
                    {
                        "type": "bulletList",
                        "content": [
                            item(paragraph(text("apples"))),
                            item(paragraph(text("pears"))),
                        ],
                    },
                ),
            ],
        },
        {
            "type": "orderedList",
            "attrs": {"start": 3},
            "content": [item(paragraph(text("third"))), item(paragraph(text("fourth", "bold")))],
        },
        {
            "type": "taskList",
            "content": [
                item(paragraph(text("write the spec")), kind="taskItem", checked=True),
                item(paragraph(text("ship it")), kind="taskItem", checked=False),
            ],
        },
    ],
}

BLOCKS: Json = {
    "type": "doc",
    "content": [
        {
            "type": "blockquote",
            "content": [
                paragraph(text("Quoted "), text("wisdom", "italic")),
                {"type": "bulletList", "content": [item(paragraph(text("in a list")))]},
            ],
        },
        {
            "type": "codeBlock",
            "attrs": {"language": "python"},
            "content": [text('def hello():\n    return "*not* markdown"')],
        },
        {"type": "codeBlock", "content": [text("plain code")]},
        {"type": "horizontalRule"},
        {
            "type": "image",
            "attrs": {"src": "https://example.com/cat.png", "alt": "A cat", "title": "Cat"},
        },
        paragraph(text("Characters that mean something: *stars*, _under_, [brackets], # and <b>")),
        paragraph(),
    ],
}

CORPUS: dict[str, Json] = {"marks": MARKS, "lists": LISTS, "blocks": BLOCKS}
