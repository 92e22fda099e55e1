"""A new version of a rich document merged into the live fragment block by block: blocks that
did not change are not touched (so nobody typing in them loses a character or their cursor),
lists and quotes whose items changed are merged item by item, and only the blocks that really
differ are replaced."""

from __future__ import annotations

import difflib
from collections.abc import Callable

import orjson
from pycrdt import XmlElement, XmlFragment, XmlText

from cowrite.richtext import markdown
from cowrite.richtext.fragment import Parent, block_json, insert_node
from cowrite.richtext.schema import Json

# What a block is compared by: two blocks with the same key are the same block.
BlockKey = Callable[[Json], str]
_CONTAINERS = frozenset(
    {"blockquote", "bulletList", "orderedList", "taskList", "listItem", "taskItem"}
)


def json_key(node: Json) -> str:
    return orjson.dumps(node, option=orjson.OPT_SORT_KEYS).decode()


def markdown_key(node: Json) -> str:
    """For a Markdown write: blocks alike in Markdown are alike (an empty paragraph, which
    Markdown cannot hold, is never matched and so never removed)."""
    return markdown.block(node)


def _old_blocks(parent: Parent) -> list[tuple[XmlElement | XmlText, Json | None]]:
    blocks: list[tuple[XmlElement | XmlText, Json | None]] = []
    for child in parent.children:
        if isinstance(child, XmlElement | XmlText):
            nodes = block_json(child)
            blocks.append((child, nodes[0] if len(nodes) == 1 else None))
    return blocks


def _merge(parent: Parent, new: list[Json], key: BlockKey) -> None:
    old = _old_blocks(parent)
    # Old blocks that take part in the matching, by their index among the parent's children.
    positions: list[int] = []
    old_keys: list[str] = []
    for index, (_, node) in enumerate(old):
        node_key = key(node) if node is not None else ""
        if node_key:
            positions.append(index)
            old_keys.append(node_key)
    new_keys = [key(node) for node in new]
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            # Block for block: lists and quotes are merged inside, other blocks replaced.
            for i, j in reversed(list(zip(range(i1, i2), range(j1, j2), strict=True))):
                element = old[positions[i]][0]
                if isinstance(element, XmlElement) and _nested(old[positions[i]], new[j]):
                    _merge(element, new[j].get("content") or [], key)
                else:
                    del parent.children[positions[i]]
                    insert_node(parent, positions[i], new[j])
            continue
        at = positions[i1] if i1 < len(positions) else (positions[-1] + 1 if positions else 0)
        for i in reversed(range(i1, i2)):
            del parent.children[positions[i]]
        for offset, node in enumerate(new[j1:j2]):
            insert_node(parent, at + offset, node)


def _nested(old: tuple[XmlElement | XmlText, Json | None], new: Json) -> bool:
    """Whether a changed container can be merged inside rather than replaced whole."""
    element, node = old
    return (
        isinstance(element, XmlElement)
        and node is not None
        and node["type"] == new["type"]
        and node["type"] in _CONTAINERS
        and node.get("attrs") == new.get("attrs")
    )


def merge_document(fragment: XmlFragment, document: Json, key: BlockKey = json_key) -> None:
    """Change `fragment` into (checked) `document`, touching only the blocks that differ."""
    with fragment.doc.transaction():
        _merge(fragment, document.get("content") or [], key)


def _anchor(live_of: list[int | None], before: int) -> int:
    """Where to insert after base block `before - 1`: just after the nearest earlier base block
    still found in the live document, else at the start."""
    for index in range(before - 1, -1, -1):
        at = live_of[index]
        if at is not None:
            return at + 1
    return 0


def _merge_from(parent: Parent, base: list[Json], new: list[Json]) -> None:
    old = _old_blocks(parent)
    positions = [index for index, (_, node) in enumerate(old) if node and markdown_key(node)]
    live_keys = [markdown_key(old[index][1] or {}) for index in positions]
    base_keys = [markdown_key(node) for node in base]
    new_keys = [markdown_key(node) for node in new]
    # Where each base block stands in the live document, if nobody changed it meanwhile.
    live_of: list[int | None] = [None] * len(base)
    aligned = difflib.SequenceMatcher(None, base_keys, live_keys, autojunk=False)
    for tag, i1, i2, k1, _ in aligned.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                live_of[i1 + offset] = positions[k1 + offset]
    written = difflib.SequenceMatcher(None, base_keys, new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(written.get_opcodes()):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for i, j in reversed(list(zip(range(i1, i2), range(j1, j2), strict=True))):
                at = live_of[i]
                if at is None:
                    continue  # changed live meanwhile: the live text wins
                element = old[at][0]
                if isinstance(element, XmlElement) and _nested(old[at], new[j]):
                    _merge(element, new[j].get("content") or [], markdown_key)
                else:
                    del parent.children[at]
                    insert_node(parent, at, new[j])
            continue
        doomed = sorted((at for at in live_of[i1:i2] if at is not None), reverse=True)
        at = doomed[-1] if doomed else _anchor(live_of, i1)
        for index in doomed:
            del parent.children[index]
        for offset, node in enumerate(new[j1:j2]):
            insert_node(parent, at + offset, node)


def merge_markdown(fragment: XmlFragment, base: Json, document: Json) -> None:
    """Apply a Markdown write made from `base` (the Markdown its writer read): only the blocks
    the writer changed are written, so text typed live since then is kept (where both changed
    one block, the live text wins)."""
    with fragment.doc.transaction():
        _merge_from(fragment, base.get("content") or [], document.get("content") or [])
