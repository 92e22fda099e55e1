"""The bodies handed to REST readers, and picking the one a write was most likely made from."""

from __future__ import annotations

import uuid

from cowrite.collab.reads import ServedBodies, closest, distance


def test_distance_counts_the_lines_an_edit_touches() -> None:
    assert distance("same", "same") == 0
    assert distance("ab\ncd\nef", "ab\ncX\nef") == 2 + 2  # "d" and "X", each with its line end
    assert distance("abcdef", "abcdefgh") == 3  # "gh" appended
    assert distance("", "new") == 4
    assert distance("one\ntwo\nthree", "ONE\ntwo\nTHREE") > distance(
        "one\ntwo\nthree", "ONE\ntwo\nthree"
    )
    # Edits at both ends of a long text count as what they change, not all that lies between.
    body = "\n".join(f"line {n}" for n in range(1000))
    assert distance(body, "# " + body + "\n") < 20
    assert distance(body, "# " + body.replace("line 500\n", "") + "\n") > distance(
        body, "# " + body + "\n"
    )


def test_the_closest_body_is_the_writers_read_not_the_newer_live_one() -> None:
    read = "# Plan\n\nTyping here 012\n\nStatus: draft"
    live = "# Plan\n\nTyping here 0123456\n\nStatus: draft"
    saved = "# Plan\n\nTyping here\n\nStatus: draft"
    written = read.replace("draft", "final")
    assert closest([live, read, saved], written) == read
    assert closest([saved], written) == saved
    assert closest([], written) is None
    assert closest(["b", "a", "a"], "a") == "a"
    # A write that also ends with a newline still finds the read that has every block.
    first = "# Plan\n\nOne.\n\nTwo from A."
    saved = first + "\n\nThree from B."
    assert closest([first, saved], saved.replace("# Plan", "# **Plan**") + "\n") == saved


def test_each_document_keeps_its_latest_bodies_newest_first() -> None:
    served = ServedBodies(per_document=3, documents=2)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for text in ("v1", "v2", "v3", "v2", "v4"):
        served.note(first, text)
    assert served.bodies(first) == ["v4", "v2", "v3"]  # a repeat moves up, the oldest goes
    served.note(second, "other")
    served.note(first, "v5")  # first is used again: second is now the oldest document
    served.note(third, "new")
    assert served.bodies(second) == []
    assert served.bodies(first) == ["v5", "v4", "v2"]
    served.forget(first)
    assert served.bodies(first) == []
