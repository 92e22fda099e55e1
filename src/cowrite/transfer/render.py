"""A document as a download: Markdown as stored, or HTML rendered and sanitized."""

from __future__ import annotations

import html
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt

from cowrite.models import StoredFile
from cowrite.transfer.links import file_url, is_relative, replace_link_targets

_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def point_at_attachments(content: str, files: Sequence[StoredFile]) -> str:
    """Relative links naming one of the document's attachments point at that file."""
    by_name = {stored.filename: stored for stored in files}

    def target(link: str) -> str | None:
        if not is_relative(link):
            return None
        name = link.rsplit("/", 1)[-1]
        stored = by_name.get(name)
        return None if stored is None else file_url(stored.id)

    return replace_link_targets(content, target)


def render_html(title: str, content: str, files: Sequence[StoredFile]) -> str:
    """A standalone HTML page; whatever the Markdown holds, no script survives sanitizing."""
    body = nh3.clean(
        _MARKDOWN.render(point_at_attachments(content, files)),
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto"},
    )
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
