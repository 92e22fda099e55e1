"""The one place that reaches under pycrdt's public wrappers: its native XML nodes and the
native side of a transaction. Reading a rich document through the wrappers costs several times
the walk itself (each child, run of text and attribute read builds a Python object and enters
a transaction), so the reader walks the native nodes in one transaction instead. pycrdt has no
public handle on that (0.14): `reading` takes it from `Transaction._txn` and says so loudly if
pycrdt ever moves it; `tests/richtext/test_native.py` checks the walk against the public API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version

from pycrdt import Doc, XmlElement, XmlFragment, XmlText, _pycrdt

NativeTransaction = _pycrdt.Transaction
NativeText = _pycrdt.XmlText
NativeElement = _pycrdt.XmlElement
NativeFragment = _pycrdt.XmlFragment
Native = NativeFragment | NativeElement | NativeText


class PycrdtChanged(RuntimeError):
    """pycrdt's internals moved: this module needs updating to the installed version."""


@contextmanager
def reading(doc: Doc) -> Iterator[NativeTransaction]:
    """A transaction on `doc` (joining the one open, if any), as its native side."""
    with doc.transaction() as txn:
        native = getattr(txn, "_txn", None)
        if not isinstance(native, NativeTransaction):
            raise PycrdtChanged(
                f"pycrdt {version('pycrdt')}: a transaction no longer exposes its native side "
                "as `_txn`; update cowrite.richtext.native"
            )
        yield native


def native(node: XmlFragment | XmlElement | XmlText) -> Native:
    """The native node under an integrated wrapper."""
    integrated: Native = node.integrated
    return integrated


def tag(element: NativeElement) -> str:
    """An element's name ("" when it has none)."""
    name: str | None = element.tag()  # type: ignore[attr-defined]  # missing from pycrdt's stub
    return name or ""
