"""A raw y-websocket client in Python: edits `Y.Text("content")` (or, for a rich document, the
last paragraph of `Y.XmlFragment("default")`) and follows the others.

It keeps its document across reconnects, like the official provider: after a reconnect the
sync handshake sends the server whatever the server lacks, so nothing typed is lost.
"""

from __future__ import annotations

import asyncio
import contextlib

import websockets
from pycrdt import (
    Doc,
    Text,
    XmlElement,
    XmlFragment,
    XmlText,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)

from cowrite.richtext.fragment import to_json
from cowrite.richtext.markdown import to_markdown


class YClient:
    def __init__(self, name: str, *, rich: bool = False) -> None:
        self.name = name
        self.doc: Doc = Doc()
        self.rich = rich
        self.text = self.doc.get("content", type=Text)
        self.fragment = self.doc.get("default", type=XmlFragment) if rich else None
        self.synced = asyncio.Event()
        self._socket: websockets.ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, ws_url: str, document_id: str, token: str) -> YClient:
        await self.close()
        self.synced = asyncio.Event()
        self._socket = await websockets.connect(
            f"{ws_url}/ws/yjs/{document_id}?token={token}", max_size=None, compression=None
        )
        await self._socket.send(create_sync_message(self.doc))
        self._reader = asyncio.create_task(self._read(self._socket))
        await asyncio.wait_for(self.synced.wait(), 10)
        return self

    async def _read(self, socket: websockets.ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in socket:
                if not isinstance(frame, bytes) or not frame or frame[0] != YMessageType.SYNC:
                    continue  # awareness is not what these tests look at
                reply = handle_sync_message(frame[1:], self.doc)
                if reply is not None:
                    await socket.send(reply)
                if frame[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()

    async def type(self, chunk: str) -> None:
        """Append text as a user would, and send the change."""
        before = self.doc.get_state()
        if self.fragment is None:
            self.text += chunk
        else:
            text = self._paragraph_text()
            text.insert(len(str(text)), chunk)
        update = self.doc.get_update(before)
        if self._socket is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._socket.send(create_update_message(update))

    def _paragraph_text(self) -> XmlText:
        """The text of the fragment's last paragraph (one is made when there is none)."""
        assert self.fragment is not None
        children = list(self.fragment.children)
        last = children[-1] if children else None
        if not isinstance(last, XmlElement) or last.tag != "paragraph":
            last = self.fragment.children.append(XmlElement("paragraph"))
        texts = [child for child in last.children if isinstance(child, XmlText)]
        return texts[-1] if texts else last.children.append(XmlText())

    @property
    def content(self) -> str:
        """The body as REST shows it (a rich document's as Markdown)."""
        if self.fragment is None:
            return str(self.text)
        return to_markdown(to_json(self.fragment))

    @property
    def close_code(self) -> int | None:
        return None if self._socket is None else self._socket.close_code

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
            self._socket = None
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
