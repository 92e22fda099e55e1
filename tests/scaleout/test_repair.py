"""The pieces of Yjs repair: reading state vectors and telling whether an update adds anything."""

from __future__ import annotations

from pycrdt import Doc, Text

from cowrite.collab.repair import adds_anything, decode_state_vector


def text_doc(content: str = "", client_id: int | None = None) -> tuple[Doc, Text]:
    doc: Doc = Doc() if client_id is None else Doc(client_id=client_id)
    text = doc.get("content", type=Text)
    if content:
        text += content
    return doc, text


def test_state_vectors_decode_to_clocks_per_client() -> None:
    first, first_text = text_doc("hello", client_id=7)
    second, _ = text_doc(client_id=300)
    second.apply_update(first.get_update())
    second.get("content", type=Text).insert(5, " world!")
    assert decode_state_vector(second.get_state()) == {7: 5, 300: 7}
    assert decode_state_vector(Doc().get_state()) == {}
    assert str(first_text) == "hello"


def test_new_items_and_deletions_count_but_known_updates_do_not() -> None:
    source, source_text = text_doc("shared text")
    replica, replica_text = text_doc()
    replica.apply_update(source.get_update())
    assert not adds_anything(replica, replica_text, source.get_update())

    before = source.get_state()
    source_text += " and more"
    assert adds_anything(replica, replica_text, source.get_update(before))

    replica.apply_update(source.get_update())
    del source_text[0:7]  # a deletion adds no clock, only a visible change
    deletion = source.get_update(replica.get_state())
    assert decode_state_vector(source.get_state()) == decode_state_vector(replica.get_state())
    assert adds_anything(replica, replica_text, deletion)
    replica.apply_update(deletion)
    assert not adds_anything(replica, replica_text, deletion)
    assert str(replica_text) == "text and more"
