"""The Tiptap StarterKit schema (with Image, TaskList and TaskItem) as the server knows it:
node and mark names, their attributes and defaults, what each node may contain, and the check
of ProseMirror JSON sent over REST."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FRAGMENT_NAME = "default"  # Tiptap's Collaboration field
DEFAULT_MAX_DEPTH = 64

Json = dict[str, Any]


def _storable(value: str) -> bool:
    """Text both databases can store: no NUL, no unpaired surrogates."""
    if "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _any_string(value: object) -> bool:
    return value is None or (isinstance(value, str) and _storable(value))


def _int_between(low: int, high: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    return check


def _size(value: object) -> bool:
    return value is None or (isinstance(value, int | float | str) and not isinstance(value, bool))


def _boolean(value: object) -> bool:
    return isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Attr:
    default: Any
    valid: Callable[[object], bool]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    attrs: dict[str, Attr]
    # "block" (any block node), "inline" (text and hard breaks), "text" (plain text only),
    # a node name (children of that type only), "" for a leaf
    content: str
    inline: bool = False
    # a first child that must be a paragraph (list items)
    paragraph_first: bool = False


NODES: dict[str, NodeSpec] = {
    "doc": NodeSpec({}, "block"),
    "paragraph": NodeSpec({}, "inline"),
    "heading": NodeSpec({"level": Attr(1, _int_between(1, 6))}, "inline"),
    "blockquote": NodeSpec({}, "block"),
    "bulletList": NodeSpec({}, "listItem"),
    "orderedList": NodeSpec(
        {"start": Attr(1, _int_between(0, 2**31 - 1)), "type": Attr(None, _any_string)},
        "listItem",
    ),
    "listItem": NodeSpec({}, "block", paragraph_first=True),
    "taskList": NodeSpec({}, "taskItem"),
    "taskItem": NodeSpec({"checked": Attr(False, _boolean)}, "paragraph", paragraph_first=True),
    "codeBlock": NodeSpec({"language": Attr(None, _any_string)}, "text"),
    "horizontalRule": NodeSpec({}, ""),
    "image": NodeSpec(
        {
            "src": Attr(None, _any_string),
            "alt": Attr(None, _any_string),
            "title": Attr(None, _any_string),
            "width": Attr(None, _size),
            "height": Attr(None, _size),
        },
        "",
    ),
    "hardBreak": NodeSpec({}, "", inline=True),
    "text": NodeSpec({}, "", inline=True),
}
BLOCKS = frozenset(name for name, spec in NODES.items() if not spec.inline and name != "doc")
BLOCKS = BLOCKS - {"listItem", "taskItem"}

# In ProseMirror's rank order: a text node's marks are listed in this order.
MARKS: dict[str, dict[str, Attr]] = {
    "link": {
        "href": Attr(None, _any_string),
        "target": Attr("_blank", _any_string),
        "rel": Attr("noopener noreferrer nofollow", _any_string),
        "class": Attr(None, _any_string),
        "title": Attr(None, _any_string),
    },
    "bold": {},
    "code": {},
    "italic": {},
    "strike": {},
    "underline": {},
}
MARK_RANK = {name: rank for rank, name in enumerate(MARKS)}


def with_defaults(specs: dict[str, Attr], given: dict[str, Any] | None) -> dict[str, Any]:
    """Every declared attribute, given or default (unknown ones dropped, as ProseMirror does)."""
    given = given or {}
    return {key: given.get(key, spec.default) for key, spec in specs.items()}


class RichTextError(ValueError):
    """ProseMirror JSON the schema does not accept; the message names the node and where."""


@dataclass(slots=True)
class Limits:
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = 100_000


class _Checker:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.nodes = 0

    def fail(self, path: str, message: str) -> RichTextError:
        return RichTextError(f"{message} at {path or 'the document'}")

    def node(self, node: object, path: str, depth: int, allowed: str) -> Json:
        if not isinstance(node, dict):
            raise self.fail(path, "a node must be an object")
        kind = node.get("type")
        if not isinstance(kind, str):
            raise self.fail(path, "a node needs a string 'type'")
        spec = NODES.get(kind)
        if spec is None:
            raise self.fail(path, f"unknown node type '{kind}'")
        if not _fits(kind, spec, allowed):
            raise self.fail(path, f"node '{kind}' is not allowed here")
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise self.fail(path, f"more than {self.limits.max_nodes} nodes")
        if depth > self.limits.max_depth:
            raise self.fail(path, f"node '{kind}' nests deeper than {self.limits.max_depth}")
        out: Json = {"type": kind}
        attrs = node.get("attrs")
        if attrs is not None and not isinstance(attrs, dict):
            raise self.fail(path, f"the attrs of node '{kind}' must be an object")
        if spec.attrs:
            values = with_defaults(spec.attrs, attrs)
            for key, value in values.items():
                if not spec.attrs[key].valid(value):
                    raise self.fail(path, f"invalid attribute '{key}' of node '{kind}'")
            out["attrs"] = values
        if kind == "text":
            text = node.get("text")
            if not isinstance(text, str) or not text:
                raise self.fail(path, "a text node needs a non-empty 'text'")
            if not _storable(text):
                raise self.fail(path, "text may not hold NUL characters or invalid Unicode")
            out["text"] = text
            marks = self.marks(node.get("marks"), path, allowed)
            if marks:
                out["marks"] = marks
            return out
        if node.get("marks"):
            raise self.fail(path, f"node '{kind}' takes no marks")
        content = node.get("content", [])
        if not isinstance(content, list):
            raise self.fail(path, f"the content of node '{kind}' must be a list")
        if content and not spec.content:
            raise self.fail(path, f"node '{kind}' takes no content")
        children = []
        for index, child in enumerate(content):
            child_allowed = spec.content
            if spec.paragraph_first and index == 0:
                child_allowed = "paragraph"
            children.append(self.node(child, f"{path}.content[{index}]", depth + 1, child_allowed))
        if spec.paragraph_first and not children:
            raise self.fail(path, f"node '{kind}' needs a paragraph")
        if spec.content in ("listItem", "taskItem") and not children:
            raise self.fail(path, f"node '{kind}' needs at least one item")
        if children:
            out["content"] = children
        return out

    def marks(self, marks: object, path: str, allowed: str) -> list[Json]:
        if marks is None:
            return []
        if not isinstance(marks, list):
            raise self.fail(path, "'marks' must be a list")
        if allowed == "text" and marks:
            raise self.fail(path, "text in a code block takes no marks")
        out: dict[str, Json] = {}
        for mark in marks:
            if not isinstance(mark, dict) or not isinstance(mark.get("type"), str):
                raise self.fail(path, "a mark needs a string 'type'")
            name = mark["type"]
            specs = MARKS.get(name)
            if specs is None:
                raise self.fail(path, f"unknown mark type '{name}'")
            attrs = mark.get("attrs")
            if attrs is not None and not isinstance(attrs, dict):
                raise self.fail(path, f"the attrs of mark '{name}' must be an object")
            entry: Json = {"type": name}
            if specs:
                values = with_defaults(specs, attrs)
                for key, value in values.items():
                    if not specs[key].valid(value):
                        raise self.fail(path, f"invalid attribute '{key}' of mark '{name}'")
                entry["attrs"] = values
            out[name] = entry
        return sorted(out.values(), key=lambda entry: MARK_RANK[entry["type"]])


def _fits(kind: str, spec: NodeSpec, allowed: str) -> bool:
    if allowed == "root":
        return kind == "doc"
    if allowed == "block":
        return kind in BLOCKS
    if allowed == "inline":
        return spec.inline
    if allowed == "text":
        return kind == "text"
    return kind == allowed


def check_document(document: object, limits: Limits | None = None) -> Json:
    """The document with every attribute filled in, or `RichTextError` naming the bad node."""
    return _Checker(limits or Limits()).node(document, "", 1, "root")


def empty_document() -> Json:
    return {"type": "doc", "content": [{"type": "paragraph"}]}
