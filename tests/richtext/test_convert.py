"""The converters on their own: fragment <-> ProseMirror JSON <-> Markdown and HTML, the schema
check, and block-by-block merging (the official JS stack is checked in tests/interop)."""

from __future__ import annotations

import random

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from cowrite.collab.formats import RichBody
from cowrite.collab.protocol import ProtocolError
from cowrite.collab.updates import ForeignRootError, check_update
from cowrite.richtext.fragment import to_json, write_document
from cowrite.richtext.html import document_html, markdown_html
from cowrite.richtext.markdown import (
    changed_sources,
    from_markdown,
    to_markdown,
    top_level_blocks,
    top_level_sources,
)
from cowrite.richtext.merge import markdown_key, merge_document
from cowrite.richtext.schema import Limits, RichTextError, check_document
from tests.richtext.corpus import CORPUS, Json, item, paragraph, text


def _fragment(document: Json) -> tuple[Doc, XmlFragment]:
    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    write_document(fragment, check_document(document))
    return doc, fragment


@pytest.mark.parametrize("name", list(CORPUS))
def test_a_document_written_to_a_fragment_reads_back_the_same(name: str) -> None:
    checked = check_document(CORPUS[name])
    _, fragment = _fragment(CORPUS[name])
    assert to_json(fragment) == checked


@pytest.mark.parametrize("name", list(CORPUS))
def test_markdown_reads_back_into_the_same_markdown(name: str) -> None:
    markdown = to_markdown(check_document(CORPUS[name]))
    assert to_markdown(from_markdown(markdown)) == markdown


def test_markdown_of_every_mark_and_list() -> None:
    assert to_markdown(check_document(CORPUS["lists"])) == (
        "- milk\n- fruit\n  - apples\n  - pears\n\n3. third\n4. **fourth**\n\n"
        "- [x] write the spec\n- [ ] ship it"
    )
    marks = to_markdown(check_document(CORPUS["marks"]))
    assert "**bold**, *italic*, ***both***, ~~struck~~, <u>underlined</u>, `code()`" in marks
    assert "[**bold inside**](https://example.com/bold)" in marks
    assert "First line\\\nsecond line" in marks


def test_markdown_keeps_marks_and_task_items_when_read() -> None:
    document = from_markdown("Some **bold** and <u>under</u>\n\n- [x] done\n- [ ] todo\n")
    assert document["content"][0]["content"][1] == text("bold", "bold")
    assert document["content"][0]["content"][3] == text("under", "underline")
    tasks = document["content"][1]
    assert tasks["type"] == "taskList"
    assert [task["attrs"]["checked"] for task in tasks["content"]] == [True, False]


def test_two_lists_in_a_row_stay_two_lists() -> None:
    bullets = {"type": "bulletList", "content": [item(paragraph(text("a")))]}
    document = check_document({"type": "doc", "content": [bullets, bullets]})
    assert from_markdown(to_markdown(document)) == document


def test_html_is_sanitized() -> None:
    hostile = check_document(
        {
            "type": "doc",
            "content": [
                paragraph(
                    text("<script>alert(1)</script>"),
                    text("click", {"type": "link", "attrs": {"href": "javascript:alert(1)"}}),
                ),
                {"type": "image", "attrs": {"src": "x.png", "alt": '"><img onerror=alert(1)>'}},
            ],
        }
    )
    html = document_html(hostile)
    assert html == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;"
        '<a rel="noopener noreferrer">click</a></p>'  # the script link lost its href
        '<img src="x.png" alt="&quot;&gt;&lt;img onerror=alert(1)&gt;">'
    )
    assert "<script" not in markdown_html("<script>alert(1)</script>\n\n[x](javascript:alert(1))")


def test_html_of_every_node() -> None:
    html = "".join(document_html(check_document(document)) for document in CORPUS.values())
    for fragment in (
        "<h1>Release notes</h1>",
        "<strong>bold</strong>",
        "<em>italic</em>",
        "<s>struck</s>",
        "<u>underlined</u>",
        "<code>code()</code>",
        '<a href="https://example.com/notes" rel="noopener noreferrer">a link</a>',
        "First line<br>second line",
        '<ol start="3">',
        '<li data-type="taskItem" data-checked="true">',
        '<pre><code class="language-python">',
        "<hr>",
        '<img src="https://example.com/cat.png" alt="A cat" title="Cat">',
        "<blockquote>",
    ):
        assert fragment in html


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"type": "doc", "content": [{"type": "table"}]},
            "unknown node type 'table' at .content[0]",
        ),
        (
            {"type": "doc", "content": [paragraph(text("x", "blink"))]},
            "unknown mark type 'blink'",
        ),
        ({"type": "doc", "content": [{"type": "heading", "attrs": {"level": 9}}]}, "'level'"),
        ({"type": "doc", "content": [text("loose")]}, "node 'text' is not allowed here"),
        ({"type": "doc", "content": "nope"}, "must be a list"),
        ({"type": "paragraph"}, "node 'paragraph' is not allowed here"),
    ],
)
def test_bad_documents_are_refused_naming_the_node(document: Json, message: str) -> None:
    with pytest.raises(RichTextError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_document(document)


def _nested(depth: int) -> Json:
    node: Json = paragraph(text("deep"))
    for _ in range(depth):
        node = {"type": "blockquote", "content": [node]}
    return {"type": "doc", "content": [node]}


def test_depth_and_size_limits() -> None:
    check_document(_nested(60))
    with pytest.raises(RichTextError, match="deeper than 64"):
        check_document(_nested(70))
    many = {"type": "doc", "content": [paragraph(text("x"))] * 60}
    with pytest.raises(RichTextError, match="more than 100 nodes"):
        check_document(many, Limits(max_nodes=100))


def test_unknown_elements_keep_their_text() -> None:
    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    table = fragment.children.append(XmlElement("table"))
    cell = table.children.append(XmlElement("tableCell"))
    cell.children.append(XmlText("kept"))
    paragraph_element = fragment.children.append(XmlElement("paragraph"))
    paragraph_element.children.append(XmlText("after"))
    assert to_json(fragment) == {
        "type": "doc",
        "content": [paragraph(text("kept")), paragraph(text("after"))],
    }


def test_a_markdown_write_replaces_only_the_blocks_that_changed() -> None:
    _, fragment = _fragment(from_markdown("# Plan\n\nfirst\n\nsecond\n\n- a\n- b\n"))
    fragment.children.append(XmlElement("paragraph"))  # the editor's trailing empty paragraph
    before = list(fragment.children)
    items_before = list(before[3].children)
    merge_document(
        fragment,
        from_markdown("# Plan\n\nfirst\n\nsecond, edited\n\n- a\n- b\n- c\n"),
        markdown_key,
    )
    after = list(fragment.children)
    assert after[0] == before[0] and after[1] == before[1]  # untouched
    assert after[2] != before[2]
    assert after[3] == before[3]  # the list, merged item by item
    assert list(after[3].children)[:2] == items_before
    assert after[4] == before[4]  # the empty paragraph Markdown cannot express stays
    assert to_markdown(to_json(fragment)) == "# Plan\n\nfirst\n\nsecond, edited\n\n- a\n- b\n- c"


def test_concurrent_typing_in_an_untouched_block_survives_a_merge() -> None:
    server, fragment = _fragment(from_markdown("one\n\ntwo\n"))
    client: Doc = Doc()
    client.apply_update(server.get_update())
    client_fragment = client.get("default", type=XmlFragment)
    first = client_fragment.children[0]
    assert isinstance(first, XmlElement)
    typed = first.children[0]
    assert isinstance(typed, XmlText)
    typed.insert(3, " typed meanwhile")
    merge_document(fragment, from_markdown("one\n\ntwo, from REST\n"), markdown_key)
    client.apply_update(server.get_update())
    server.apply_update(client.get_update())
    expected = "one typed meanwhile\n\ntwo, from REST"
    assert to_markdown(to_json(fragment)) == to_markdown(to_json(client_fragment)) == expected


def test_the_socket_check_knows_each_format_root() -> None:
    rich, _ = _fragment(CORPUS["marks"])
    # two headings, two paragraphs and a hard break
    assert check_update(rich.get_update(), "default", xml=True) == 5
    with pytest.raises(ForeignRootError):
        check_update(rich.get_update(), "content")
    with pytest.raises(ProtocolError):
        check_update(rich.get_update()[:-3], "default", xml=True)


def test_text_the_databases_cannot_store_is_refused() -> None:
    for bad in ("nul\x00", "half \ud800 pair"):
        with pytest.raises(RichTextError, match="NUL characters or invalid Unicode"):
            check_document({"type": "doc", "content": [paragraph(text(bad))]})
        with pytest.raises(RichTextError, match="invalid attribute 'src'"):
            check_document({"type": "doc", "content": [{"type": "image", "attrs": {"src": bad}}]})


def test_a_live_body_remembers_blocks_yet_reads_every_edit() -> None:
    body = RichBody(Limits())
    doc: Doc = Doc()
    body.watch(doc)
    fragment = body.fragment(doc)
    write_document(fragment, check_document(CORPUS["lists"]))
    write_document(fragment, check_document(CORPUS["marks"]))

    def uncached() -> str:
        return to_markdown(to_json(fragment))

    assert body.markdown(doc) == uncached()
    fruit = fragment.children[0].children[1]  # the list item with the nested list
    nested = fruit.children[1].children[0].children[0].children[0]
    assert isinstance(nested, XmlText)
    nested.insert(0, "green ")
    heading = fragment.children[3]
    assert isinstance(heading, XmlElement)
    heading.attributes["level"] = 2
    del fragment.children[1]  # the ordered list: the task list now follows the bullets
    fragment.children.insert(0, XmlElement("horizontalRule"))
    expected = uncached()
    assert "  - green apples" in expected and "## Release notes" in expected
    assert "* [x] write the spec" in expected
    assert body.markdown(doc) == expected
    assert body.json(doc) == to_json(fragment)


def test_a_markdown_write_from_what_its_writer_read_keeps_live_typing() -> None:
    body = RichBody(Limits())
    doc: Doc = Doc()
    body.watch(doc)
    fragment = body.fragment(doc)
    write_document(fragment, from_markdown("one\n\ntwo\n\n- a\n- b\n\n```\ncode\n```"))
    read = body.markdown(doc)  # what a REST client read
    first = fragment.children[0]
    assert isinstance(first, XmlElement)
    typed = first.children[0]
    assert isinstance(typed, XmlText)
    typed.insert(3, " typed live")  # someone types meanwhile
    written = read.replace("two", "two, edited").replace("- b", "- b\n- c")
    body.write_markdown(doc, written, base=read)
    assert fragment.children[0] == first  # untouched: the typing and any cursor in it stay
    assert body.markdown(doc) == "one typed live\n\ntwo, edited\n\n- a\n- b\n- c\n\n```\ncode\n```"
    body.limits = Limits(max_depth=4)  # a block the write changed is checked like JSON
    with pytest.raises(RichTextError, match="deeper than 4"):
        body.write_markdown(doc, written + "\n\n> > > > x", base=written)


def test_blocks_found_around_an_edit_match_a_full_read() -> None:
    base = to_markdown(
        check_document(
            {
                "type": "doc",
                "content": [
                    *CORPUS["marks"]["content"],
                    *CORPUS["lists"]["content"],
                    *CORPUS["blocks"]["content"],
                ],
            }
        )
    )
    lines = base.split("\n")
    inserts = [
        "- item",
        "# Head",
        "para",
        "```",
        "> q",
        "1. one",
        "<div>",
        "    code",
        "---",
        "===",
    ]
    rng = random.Random(26)
    for _ in range(300):
        edited = list(lines)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(edited))
            match rng.randrange(5):
                case 0:
                    edited[at] += " edit"
                case 1:
                    del edited[at]
                case 2:
                    edited.insert(at, "")
                case 3:
                    edited[at] = "  " + edited[at]
                case _:
                    edited.insert(at, rng.choice(inserts))
        text = "\n".join(edited)
        assert changed_sources(top_level_blocks(base), base, text) == top_level_sources(text)
