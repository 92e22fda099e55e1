"""ProseMirror JSON and Markdown as HTML, always passed through nh3 before it leaves."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

from cowrite.richtext.schema import Json

_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "pre", "code",
    "hr", "br", "img", "strong", "em", "s", "u", "a", "table", "thead", "tbody", "tr", "th",
    "td", "del",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "ul": {"data-type"},
    "li": {"data-type", "data-checked"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
_MARKS = {"bold": "strong", "italic": "em", "strike": "s", "underline": "u", "code": "code"}
_BLOCK_TAGS = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bulletList": "ul",
    "listItem": "li",
    "horizontalRule": "hr",
}
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])


def sanitize(markup: str) -> str:
    return nh3.clean(markup, tags=_TAGS, attributes=_ATTRIBUTES)


def _attr(name: str, value: object) -> str:
    return f' {name}="{html.escape(str(value), quote=True)}"'


def _text(node: Json) -> str:
    out = html.escape(str(node.get("text", "")), quote=False)
    for mark in reversed(node.get("marks") or []):
        kind = mark.get("type")
        if kind == "link":
            attrs = mark.get("attrs") or {}
            title = _attr("title", attrs["title"]) if attrs.get("title") else ""
            out = f"<a{_attr('href', attrs.get('href') or '')}{title}>{out}</a>"
        elif kind in _MARKS:
            tag = _MARKS[kind]
            out = f"<{tag}>{out}</{tag}>"
    return out


def _node(node: Json) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    inner = "".join(_node(child) for child in node.get("content") or [])
    if kind == "text":
        return _text(node)
    if kind == "hardBreak":
        return "<br>"
    if kind == "horizontalRule":
        return "<hr>"
    if kind == "heading":
        level = attrs.get("level", 1)
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        return f"<h{level}>{inner}</h{level}>"
    if kind == "orderedList":
        start = attrs.get("start", 1)
        return f"<ol{_attr('start', start) if start != 1 else ''}>{inner}</ol>"
    if kind == "taskList":
        return f'<ul data-type="taskList">{inner}</ul>'
    if kind == "taskItem":
        checked = "true" if attrs.get("checked") else "false"
        return f'<li data-type="taskItem" data-checked="{checked}">{inner}</li>'
    if kind == "codeBlock":
        language = attrs.get("language")
        css = _attr("class", f"language-{language}") if language else ""
        return f"<pre><code{css}>{inner}</code></pre>"
    if kind == "image":
        parts = "".join(
            _attr(name, attrs[name])
            for name in ("src", "alt", "title", "width", "height")
            if attrs.get(name) is not None
        )
        return f"<img{parts}>"
    tag = _BLOCK_TAGS.get(str(kind))
    if tag is None:
        return inner  # doc, and anything unknown keeps its content
    return f"<{tag}>{inner}</{tag}>"


def document_html(document: Json) -> str:
    """A rich document as sanitized HTML."""
    return sanitize(_node(document))


def markdown_html(text: str) -> str:
    """A Markdown document as sanitized HTML (raw HTML in it is shown as text)."""
    return sanitize(_MARKDOWN.render(text))
