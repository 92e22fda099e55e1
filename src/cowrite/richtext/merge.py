"""A new version of a rich document merged into the live fragment block by block: blocks that
did not change are not touched (so nobody typing in them loses a character or their cursor),
lists and quotes whose items changed are merged item by item, and only the blocks that really
differ are replaced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
from pycrdt import XmlElement, XmlFragment, XmlText

from cowrite.kit.sequences import opcodes
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
    for tag, i1, i2, j1, j2 in reversed(opcodes(old_keys, new_keys)):
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


def _joined(sources: list[str]) -> list[tuple[int, int, str]]:
    """The blocks of the text that joins `sources` with blank lines: (first line, the line
    after it, source) each, as `markdown.top_level_blocks` answers."""
    blocks, line = [], 0
    for source in sources:
        lines = source.count("\n") + 1
        blocks.append((line, line + lines, source))
        line += lines + 1
    return blocks


@dataclass(frozen=True, slots=True)
class LiveBlock:
    """A top-level child of the live fragment, as ProseMirror (None when it reads as zero or
    several nodes) and as the Markdown it has in the document ("" when Markdown cannot hold it:
    such a block is never matched, so a Markdown write never removes it)."""

    element: XmlElement | XmlText
    node: Json | None
    markdown: str


def merge_markdown_source(
    fragment: XmlFragment,
    live: list[LiveBlock],
    base: str,
    new: str,
    parse: Callable[[str], list[Json]],
) -> None:
    """Apply a Markdown write made from `base` (the Markdown its writer read), reading only the
    blocks the writer changed (`parse` turns their source into checked nodes): blocks changed
    live since then are kept (where both changed one block, the live text wins)."""
    positions = [index for index, block in enumerate(live) if block.markdown]
    live_keys = [live[index].markdown for index in positions]
    live_text = "\n\n".join(live_keys)
    if base == live_text:  # nobody changed it since: its blocks are known
        base_blocks = _joined(live_keys)
    else:
        # A base read from this document is the live text with a few blocks changed since:
        # only the lines around them are parsed again.
        sources = markdown.changed_sources(_joined(live_keys), live_text, base)
        if "\n\n".join(sources) == base:
            base_blocks = _joined(sources)
        else:
            base_blocks = markdown.top_level_blocks(base)
    base_keys = [source for _, _, source in base_blocks]
    new_keys = markdown.changed_sources(base_blocks, base, new)
    live_of: list[int | None] = [None] * len(base_keys)
    for tag, i1, i2, k1, _ in opcodes(base_keys, live_keys):
        if tag == "equal":
            for offset in range(i2 - i1):
                live_of[i1 + offset] = positions[k1 + offset]
    with fragment.doc.transaction():
        for tag, i1, i2, j1, j2 in reversed(opcodes(base_keys, new_keys)):
            if tag == "equal":
                continue
            nodes = parse("\n\n".join(new_keys[j1:j2])) if j2 > j1 else []
            if tag == "replace" and i2 - i1 == j2 - j1 == len(nodes):
                for i, node in reversed(list(zip(range(i1, i2), nodes, strict=True))):
                    at = live_of[i]
                    if at is None:
                        continue  # changed live meanwhile: the live text wins
                    block = live[at]
                    if isinstance(block.element, XmlElement) and _nested(
                        (block.element, block.node), node
                    ):
                        _merge(block.element, node.get("content") or [], markdown_key)
                    else:
                        del fragment.children[at]
                        insert_node(fragment, at, node)
                continue
            doomed = sorted((at for at in live_of[i1:i2] if at is not None), reverse=True)
            at = doomed[-1] if doomed else _anchor(live_of, i1)
            for index in doomed:
                del fragment.children[index]
            for offset, node in enumerate(nodes):
                insert_node(fragment, at + offset, node)
