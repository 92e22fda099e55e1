"""A real WebRTC peer (aiortc) that negotiates through cowrite's `/ws` relay, and the cast of
the real-peer tests: an owner, an editor and a viewer in one document, and an outsider."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamTrack

from tests.calls.support import in_document, join_call, signal
from tests.support.factories import UserCtx, make_user
from tests.support.presence import WAIT, WsClient
from tests.support.workspaces import add_member, make_workspace


@dataclass
class Cast:
    owner: UserCtx
    editor: UserCtx
    viewer: UserCtx
    outsider: UserCtx
    workspace_id: str
    document_id: uuid.UUID


async def make_cast(base_url: str) -> Cast:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        owner, editor, viewer, outsider = [
            await make_user(client, full_name=name)
            for name in ("Olivia Owner", "Edith Editor", "Victor Viewer", "Oscar Outsider")
        ]
        workspace = await make_workspace(client, owner)
        await add_member(client, workspace["id"], owner, editor, "editor")
        await add_member(client, workspace["id"], owner, viewer, "viewer")
        created = await client.post(
            f"/api/v1/workspaces/{workspace['id']}/documents",
            json={"title": "Review", "content": ""},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        return Cast(
            owner, editor, viewer, outsider, workspace["id"], uuid.UUID(created.json()["id"])
        )


class RtcPeer:
    """One participant: its `/ws` client and an RTCPeerConnection sending a video track and
    (as the offerer) a data channel. Candidates travel inside the SDP (aiortc gathers them all
    before a description is set) and also one by one as `candidate` signals."""

    def __init__(self, ws: WsClient, document_id: uuid.UUID) -> None:
        self.ws = ws
        self.document_id = document_id
        self.pc = RTCPeerConnection()
        self.pc.addTrack(VideoStreamTrack())
        self.messages: asyncio.Queue[str] = asyncio.Queue()
        self.remote_video: asyncio.Future[MediaStreamTrack] = (
            asyncio.get_running_loop().create_future()
        )
        self.channel_open = asyncio.Event()

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and not self.remote_video.done():
                self.remote_video.set_result(track)

        @self.pc.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            self._attach(channel)

    def _attach(self, channel: Any) -> None:
        self.channel = channel

        @channel.on("message")
        def on_message(message: str) -> None:
            self.messages.put_nowait(message)

        @channel.on("open")
        def on_open() -> None:
            self.channel_open.set()

        if channel.readyState == "open":
            self.channel_open.set()

    @classmethod
    async def join(cls, ws_url: str, user: UserCtx, document_id: uuid.UUID) -> RtcPeer:
        ws = await in_document(ws_url, user.access_token, document_id)
        state = await join_call(ws, document_id)
        assert state["type"] == "call_state", state
        return cls(ws, document_id)

    @property
    def connection_id(self) -> str:
        return self.ws.connection_id

    async def _send_candidates(self, to: str) -> None:
        description = self.pc.localDescription
        for line in description.sdp.splitlines():
            if line.startswith("a=candidate:"):
                candidate = {"candidate": line[2:], "sdpMid": "0", "sdpMLineIndex": 0}
                await signal(
                    self.ws, self.document_id, to, {"type": "candidate", "candidate": candidate}
                )

    async def offer(self, to: str) -> None:
        self._attach(self.pc.createDataChannel("notes"))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = self.pc.localDescription.sdp
        await signal(self.ws, self.document_id, to, {"type": "offer", "sdp": sdp})
        await self._send_candidates(to)

    async def answer(self) -> dict[str, Any]:
        """Answer the offer that arrives; returns that signal frame."""
        offer = await self.ws.expect("rtc_signal", within=WAIT * 3)
        assert offer["signal"]["type"] == "offer"
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=offer["signal"]["sdp"], type="offer")
        )
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        sdp = self.pc.localDescription.sdp
        await signal(self.ws, self.document_id, offer["from"], {"type": "answer", "sdp": sdp})
        await self._send_candidates(offer["from"])
        return offer

    async def take_answer(self) -> dict[str, Any]:
        answer = await self.ws.expect("rtc_signal", within=WAIT * 3, **{})
        while answer["signal"]["type"] != "answer":
            answer = await self.ws.expect("rtc_signal", within=WAIT * 3)
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=answer["signal"]["sdp"], type="answer")
        )
        return answer

    async def close(self) -> None:
        await self.pc.close()
        await self.ws.close()


async def negotiate_and_talk(offerer: RtcPeer, answerer: RtcPeer) -> None:
    """The full exchange through the relay: offer, answer, candidates; then a data-channel
    message each way and a video frame each way over loopback."""
    await offerer.offer(answerer.connection_id)
    offer = await answerer.answer()
    assert offer["from"] == offerer.connection_id
    answer = await offerer.take_answer()
    assert answer["from"] == answerer.connection_id

    async with asyncio.timeout(WAIT * 6):
        await offerer.channel_open.wait()
        await answerer.channel_open.wait()
        offerer.channel.send("hello from the offerer")
        assert await answerer.messages.get() == "hello from the offerer"
        answerer.channel.send("hello back")
        assert await offerer.messages.get() == "hello back"
        for peer in (offerer, answerer):
            track = await peer.remote_video
            frame = await track.recv()
            assert frame.width > 0 and frame.height > 0
