"""ProseMirror JSON to Markdown (CommonMark with `~~strike~~`, `<u>underline</u>` and
`- [ ]` task items), and Markdown back to ProseMirror JSON with markdown-it-py."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from cowrite.kit.sequences import common_run
from cowrite.richtext.schema import MARK_RANK, Json

# -- ProseMirror JSON -> Markdown -------------------------------------------------------------

# Outermost first: a link encloses emphasis, code sits innermost.
_NESTING = {"link": 0, "bold": 1, "italic": 2, "strike": 3, "underline": 4, "code": 5}
_OPEN = {"bold": "**", "italic": "*", "strike": "~~", "underline": "<u>"}
_CLOSE = {"bold": "**", "italic": "*", "strike": "~~", "underline": "</u>"}
_SPECIAL = re.compile(r"[\\`*_\[\]<~]")  # escaped with a backslash
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^([#>+=-]|\d+(?=[.)]))")
_CONTAINERS = frozenset({"bulletList", "orderedList", "taskList"})


def _escape(text: str) -> str:
    if _SPECIAL.search(text) is not None:
        text = _SPECIAL.sub(r"\\\g<0>", text)
    return _ENTITY.sub("&amp;", text) if "&" in text else text


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _destination(href: str) -> str:
    if not href or re.search(r"[\s()<>]", href):
        return "<" + href.replace("<", "%3C").replace(">", "%3E") + ">"
    return href


def _title(title: object) -> str:
    if not isinstance(title, str) or not title:
        return ""
    return ' "' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LINK_CLOSE: dict[tuple[str, object], str] = {}  # by (href, title): documents repeat links
_LINK_CLOSE_MAX = 4096


def _close(mark: Json) -> str:
    if mark["type"] != "link":
        return _CLOSE.get(mark["type"], "")
    attrs = mark.get("attrs") or {}
    title = attrs.get("title")
    key = (attrs.get("href") or "", title if isinstance(title, str) else None)
    closing = _LINK_CLOSE.get(key)
    if closing is None:
        if len(_LINK_CLOSE) >= _LINK_CLOSE_MAX:
            _LINK_CLOSE.clear()
        closing = _LINK_CLOSE[key] = f"]({_destination(key[0])}{_title(key[1])})"
    return closing


def _nesting(mark: Json) -> int:
    return _NESTING.get(mark["type"], 9)


def _inline(nodes: list[Json]) -> str:
    out: list[str] = []
    append = out.append
    search_special = _SPECIAL.search
    active: list[Json] = []
    pending = ""  # trailing whitespace held until the marks around it are closed
    for node in nodes:
        kind = node.get("type")
        marks: list[Json] = []
        if kind == "text":
            text = node.get("text", "")
            if not isinstance(text, str):
                text = str(text)
            marks = node.get("marks") or marks
        elif kind == "hardBreak":
            for mark in reversed(active):
                append(_close(mark))
            active = []
            append(pending + "\\\n")
            pending = ""
            continue
        elif kind == "image":
            text = _image(node)
        else:
            text = _plain(node)
        if not text:
            continue
        lead = trail = ""
        core = text
        if text[0] in " \t" or text[-1] in " \t":
            rest = text.lstrip(" \t")
            if not rest:
                pending += text
                continue
            core = rest.rstrip(" \t")
            lead = text[: len(text) - len(rest)]
            trail = rest[len(core) :]
        if len(marks) > 1:
            marks = sorted(marks, key=_nesting)
        if marks or active:
            keep = 0
            while keep < len(active) and keep < len(marks) and active[keep] == marks[keep]:
                keep += 1
            for mark in reversed(active[keep:]):
                append(_close(mark))
            append(pending + lead)
            for mark in marks[keep:]:
                kind_of_mark = mark["type"]
                append("[" if kind_of_mark == "link" else _OPEN.get(kind_of_mark, ""))
            active = marks  # never changed in place
        else:
            append(pending + lead)
        if marks and (
            marks[0]["type"] == "code"
            if len(marks) == 1
            else any(mark["type"] == "code" for mark in marks)
        ):
            append(_code_span(core))
        elif kind == "image":
            append(core)
        elif search_special(core) is not None or "&" in core:
            append(_escape(core))
        else:
            append(core)
        pending = trail
    for mark in reversed(active):
        append(_close(mark))
    append(pending)
    return "".join(out)


def _line(line: str) -> str:
    line = line.lstrip(" \t")
    if line and (line[0] in "#>+=-" or line[0].isdigit()):
        return _LINE_START.sub(r"\\\1", line)
    return line


def _textblock(nodes: list[Json]) -> str:
    text = _inline(nodes)
    if "\n" not in text:
        return _line(text)
    return "\n".join(_line(line) for line in text.split("\n"))


def _plain(node: Json) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    return "".join(_plain(child) for child in node.get("content") or [])


def _image(node: Json) -> str:
    attrs = node.get("attrs") or {}
    alt = str(attrs.get("alt") or "").replace("[", "\\[").replace("]", "\\]")
    return f"![{alt}]({_destination(str(attrs.get('src') or ''))}{_title(attrs.get('title'))})"


def _indent(text: str, first: str) -> str:
    if "\n" not in text:
        return (first + text).rstrip(" ")
    pad = " " * len(first)
    lines = text.split("\n")
    return "\n".join(
        [first + lines[0]] + [pad + line if line else "" for line in lines[1:]]
    ).rstrip(" ")


def _item(node: Json, marker: str) -> str:
    return _indent(_blocks(node.get("content") or [], in_item=True), marker)


def _list(node: Json, alternate: bool) -> str:
    kind = node["type"]
    items = node.get("content") or []
    if kind == "orderedList":
        start = (node.get("attrs") or {}).get("start", 1)
        start = start if isinstance(start, int) else 1
        delimiter = ")" if alternate else "."
        return "\n".join(
            _item(item, f"{start + index}{delimiter} ") for index, item in enumerate(items)
        )
    bullet = "*" if alternate else "-"
    if kind == "taskList":
        return "\n".join(
            _item(
                item,
                f"{bullet} [{'x' if (item.get('attrs') or {}).get('checked') else ' '}] ",
            )
            for item in items
        )
    return "\n".join(_item(item, f"{bullet} ") for item in items)


def block(node: Json, alternate: bool = False) -> str:
    """One block node as Markdown (no trailing newline); `alternate` picks the other list
    marker, so two lists in a row stay two lists."""
    kind = node.get("type")
    content = node.get("content") or []
    if kind == "paragraph":
        return _textblock(content)
    if kind == "heading":
        level = (node.get("attrs") or {}).get("level", 1)
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        return "#" * level + " " + _textblock(content)
    if kind == "blockquote":
        inner = _blocks(content)
        return "\n".join(("> " + line).rstrip() for line in inner.split("\n"))
    if kind in _CONTAINERS:
        return _list(node, alternate)
    if kind in ("listItem", "taskItem"):
        return _list({"type": "bulletList", "content": [node]}, alternate)
    if kind == "codeBlock":
        text = _plain(node)
        longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
        fence = "`" * (longest + 1)
        language = (node.get("attrs") or {}).get("language") or ""
        return f"{fence}{language}\n{text}\n{fence}"
    if kind == "horizontalRule":
        return "---"
    if kind == "image":
        return _image(node)
    return _textblock([{"type": "text", "text": _plain(node)}])


def _same_marker(previous: str | None, kind: object) -> bool:
    """Two lists in a row that Markdown would read as one unless their markers differ."""
    bullets = ("bulletList", "taskList")
    return (previous in bullets and kind in bullets) or previous == kind == "orderedList"


Render = Callable[[Json, bool], str]


def _blocks(nodes: list[Json], in_item: bool = False, render: Render = block) -> str:
    parts: list[str] = []
    previous: str | None = None
    alternate = False
    for node in nodes:
        kind = node.get("type")
        alternate = _same_marker(previous, kind) and not alternate
        text = render(node, alternate)
        if parts and not (in_item and kind in _CONTAINERS and previous == "paragraph"):
            parts.append("\n\n")
        elif parts:
            parts.append("\n")
        parts.append(text)
        previous = kind
    return "".join(parts)


def to_markdown(document: Json, render: Render = block) -> str:
    """The document as Markdown; empty paragraphs leave no trace. `render` turns one top-level
    block into Markdown (a caller may remember blocks it rendered before)."""
    content = [node for node in document.get("content") or [] if not _is_empty(node)]
    return _blocks(content, render=render)


def _is_empty(node: Json) -> bool:
    return node.get("type") == "paragraph" and not node.get("content")


# -- Markdown -> ProseMirror JSON -------------------------------------------------------------

_PARSER = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
# Block structure only (no inline parsing, most of the cost): where each top-level block is.
_BLOCKS = MarkdownIt("commonmark", {"html": True}).enable("strikethrough").disable("inline")
_TASK = re.compile(r"^\[([ xX])\]\s")
_SIMPLE_MARKS = {"strong": "bold", "em": "italic", "s": "strike"}


def _mark(name: str, attrs: dict[str, Any] | None = None) -> Json:
    if name == "link":
        return {
            "type": "link",
            "attrs": {
                "href": None,
                "target": "_blank",
                "rel": "noopener noreferrer nofollow",
                "class": None,
                "title": None,
                **(attrs or {}),
            },
        }
    return {"type": name}


def _append_text(nodes: list[Json], text: str, marks: list[Json]) -> None:
    if not text:
        return
    ordered = sorted(marks, key=lambda mark: MARK_RANK[mark["type"]])
    if nodes and nodes[-1].get("type") == "text" and nodes[-1].get("marks", []) == ordered:
        nodes[-1]["text"] += text
        return
    node: Json = {"type": "text", "text": text}
    if ordered:
        node["marks"] = ordered
    nodes.append(node)


def _inline_tokens(tokens: list[Token]) -> list[Json]:
    """Text and hard breaks, and images (lifted out of paragraphs afterwards)."""
    nodes: list[Json] = []
    marks: list[Json] = []

    def drop(name: str) -> None:
        for index in range(len(marks) - 1, -1, -1):
            if marks[index]["type"] == name:
                del marks[index]
                return

    for token in tokens:
        kind = token.type
        if kind == "text":
            _append_text(nodes, token.content, marks)
        elif kind == "softbreak":
            _append_text(nodes, " ", marks)
        elif kind == "hardbreak":
            nodes.append({"type": "hardBreak"})
        elif kind == "code_inline":
            _append_text(nodes, token.content, [_mark("code")])
        elif kind.endswith("_open") and kind[:-5] in _SIMPLE_MARKS:
            marks.append(_mark(_SIMPLE_MARKS[kind[:-5]]))
        elif kind.endswith("_close") and kind[:-6] in _SIMPLE_MARKS:
            drop(_SIMPLE_MARKS[kind[:-6]])
        elif kind == "link_open":
            href = str(token.attrGet("href") or "")
            title = token.attrGet("title")
            marks.append(_mark("link", {"href": href, "title": str(title) if title else None}))
        elif kind == "link_close":
            drop("link")
        elif kind == "image":
            title = token.attrGet("title")
            nodes.append(
                {
                    "type": "image",
                    "attrs": {
                        "src": str(token.attrGet("src") or ""),
                        "alt": token.content or None,
                        "title": str(title) if title else None,
                        "width": None,
                        "height": None,
                    },
                }
            )
        elif kind == "html_inline":
            tag = token.content.strip().lower().replace(" ", "")
            if tag == "<u>":
                marks.append(_mark("underline"))
            elif tag == "</u>":
                drop("underline")
            elif tag in ("<br>", "<br/>"):
                nodes.append({"type": "hardBreak"})
            else:
                _append_text(nodes, token.content, marks)
    return nodes


def _paragraphs(inline: list[Json]) -> list[Json]:
    """A paragraph, split around the images in it (images are blocks in this schema)."""
    out: list[Json] = []
    run: list[Json] = []
    for node in inline:
        if node["type"] == "image":
            if run:
                out.append({"type": "paragraph", "content": run})
                run = []
            out.append(node)
        else:
            run.append(node)
    if run or not out:
        paragraph: Json = {"type": "paragraph"}
        if run:
            paragraph["content"] = run
        out.append(paragraph)
    return out


def _as_task_list(node: Json) -> Json:
    """A bullet list whose every item starts with `[ ]` or `[x]` and holds only paragraphs."""
    items = node.get("content") or []
    checks: list[bool] = []
    for item in items:
        content = item.get("content") or []
        if not content or any(child["type"] != "paragraph" for child in content):
            return node
        first = (content[0].get("content") or [None])[0]
        if not first or first.get("type") != "text" or first.get("marks"):
            return node
        match = _TASK.match(first["text"])
        if not match:
            return node
        checks.append(match.group(1) != " ")
    if not items:
        return node
    tasks = []
    for item, checked in zip(items, checks, strict=True):
        content = item["content"]
        paragraph_content = content[0]["content"]
        rest = _TASK.sub("", paragraph_content[0]["text"], count=1)
        first_paragraph: Json = {"type": "paragraph"}
        head: list[Json] = [{**paragraph_content[0], "text": rest}] if rest else []
        remaining = head + paragraph_content[1:]
        if remaining:
            first_paragraph["content"] = remaining
        task: Json = {"type": "taskItem", "attrs": {"checked": checked}}
        task["content"] = [first_paragraph, *content[1:]]
        tasks.append(task)
    return {"type": "taskList", "content": tasks}


def from_markdown(text: str) -> Json:
    """Markdown as a ProseMirror document of the schema (HTML other than `<u>` and `<br>`
    stays as text)."""
    root: Json = {"type": "doc", "content": []}
    stack: list[Json] = [root]

    def add(node: Json) -> None:
        stack[-1].setdefault("content", []).append(node)

    def push(node: Json) -> None:
        add(node)
        stack.append(node)

    for token in _PARSER.parse(text):
        kind = token.type
        if kind == "paragraph_open":
            stack.append({"type": "paragraph"})
        elif kind == "inline" and stack[-1]["type"] in ("paragraph", "heading"):
            stack[-1]["inline"] = _inline_tokens(token.children or [])
        elif kind == "paragraph_close":
            paragraph = stack.pop()
            for node in _paragraphs(paragraph.get("inline", [])):
                add(node)
        elif kind == "heading_open":
            stack.append({"type": "heading", "attrs": {"level": int(token.tag[1:])}})
        elif kind == "heading_close":
            heading = stack.pop()
            inline = [n for n in heading.pop("inline", []) if n["type"] != "image"]
            if inline:
                heading["content"] = inline
            add(heading)
        elif kind == "blockquote_open":
            push({"type": "blockquote"})
        elif kind == "bullet_list_open":
            push({"type": "bulletList"})
        elif kind == "ordered_list_open":
            start = token.attrGet("start")
            push({"type": "orderedList", "attrs": {"start": int(start or 1), "type": None}})
        elif kind == "list_item_open":
            push({"type": "listItem"})
        elif kind == "list_item_close":
            item = stack.pop()
            if not item.get("content") or item["content"][0]["type"] != "paragraph":
                item["content"] = [{"type": "paragraph"}, *item.get("content", [])]
        elif kind == "bullet_list_close":
            node = stack.pop()
            converted = _as_task_list(node)
            if converted is not node:
                stack[-1]["content"][-1] = converted
        elif kind in ("blockquote_close", "ordered_list_close"):
            node = stack.pop()
            if kind == "blockquote_close" and not node.get("content"):
                node["content"] = [{"type": "paragraph"}]
        elif kind in ("fence", "code_block"):
            language = token.info.strip().split(" ")[0] if kind == "fence" else ""
            code: Json = {"type": "codeBlock", "attrs": {"language": language or None}}
            body = token.content[:-1] if token.content.endswith("\n") else token.content
            if body:
                code["content"] = [{"type": "text", "text": body}]
            add(code)
        elif kind == "hr":
            add({"type": "horizontalRule"})
        elif kind == "html_block":
            body = token.content.strip()
            if body:
                add({"type": "paragraph", "content": [{"type": "text", "text": body}]})
    if not root["content"]:
        root["content"] = [{"type": "paragraph"}]
    return root


def top_level_blocks(text: str) -> list[tuple[int, int, str]]:
    """Each top-level block of `text`: its first line, the line after it, and its source
    (trailing blank lines dropped)."""
    lines = text.split("\n")
    blocks = []
    for token in _BLOCKS.parse(text):
        if token.level == 0 and token.nesting >= 0 and token.map:
            start, end = token.map
            source = "\n".join(lines[start:end]).rstrip()
            blocks.append((start, start + source.count("\n") + 1, source))
    return blocks


def top_level_sources(text: str) -> list[str]:
    return [source for _, _, source in top_level_blocks(text)]


def changed_sources(base: list[tuple[int, int, str]], base_text: str, new_text: str) -> list[str]:
    """The top-level block sources of `new_text`, an edit of `base_text` whose blocks are
    `base`: only the lines around the edit are parsed again."""
    old_lines = base_text.split("\n")
    new_lines = new_text.split("\n")
    limit = min(len(old_lines), len(new_lines))
    prefix = common_run(old_lines, new_lines, limit, from_end=False)
    suffix = common_run(old_lines, new_lines, limit - prefix, from_end=True)
    changed_end = len(old_lines) - suffix
    edited = old_lines[prefix:changed_end] + new_lines[prefix : len(new_lines) - suffix]
    if any(line.lstrip().startswith(("```", "~~~")) for line in edited):
        return top_level_sources(new_text)  # a fence opened or closed: the rest may change
    touched = [
        i for i, (start, end, _) in enumerate(base) if end >= prefix and start <= changed_end
    ]
    if touched:
        first, last = max(0, touched[0] - 1), min(len(base), touched[-1] + 2)
    else:
        first = last = sum(1 for start, _, _ in base if start < prefix)
    start_line = min([prefix, *(base[i][0] for i in range(first, min(first + 1, len(base))))])
    end_line = max([changed_end, *(base[i][1] for i in range(max(first, last - 1), last))])
    tail = len(old_lines) - end_line
    region = "\n".join(new_lines[start_line : len(new_lines) - tail])
    middle = [source for _, _, source in top_level_blocks(region)]
    return [source for _, _, source in base[:first]] + middle + [s for _, _, s in base[last:]]
