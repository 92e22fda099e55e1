"""A pull-style reader over python-multipart's push parser: parts arrive one at a time and a
part's bytes are handed on as they come off the socket, never gathered in memory."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from cowrite.kit.errors import AppError, BadRequest, PayloadTooLarge

MAX_HEADER_BYTES = 4096
MAX_HEADERS_PER_PART = 8
MAX_PARTS = 16


class UnsupportedMediaType(AppError):
    """The request body must be multipart/form-data."""

    status_code = 415
    code = "unsupported_media_type"


def invalid(detail: str) -> BadRequest:
    return BadRequest(detail, code="invalid_multipart")


def _decode(raw: bytes) -> str:
    # Browsers send UTF-8 names raw; fall back to Latin-1 rather than refusing a legacy client.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    _reader: MultipartReader = field(repr=False)
    finished: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The part's bytes, as they are parsed."""
        while not self.finished:
            kind, data = await self._reader.next_event()
            if kind == "data":
                yield data
            else:
                self.finished = True

    async def read(self, limit: int) -> bytes:
        """A small field, whole; longer than `limit` is a 400."""
        collected = bytearray()
        async for chunk in self.chunks():
            collected += chunk
            if len(collected) > limit:
                raise invalid(f"Field '{self.name}' is longer than {limit} bytes")
        return bytes(collected)

    async def skip(self) -> None:
        async for _ in self.chunks():
            pass


class MultipartReader:
    """Reads a multipart/form-data body from an async byte stream, one part after another."""

    def __init__(
        self, body: AsyncIterator[bytes], content_type: str | None, *, max_body_bytes: int
    ) -> None:
        media_type, options = parse_options_header(content_type or "")
        if media_type != b"multipart/form-data":
            raise UnsupportedMediaType()
        boundary = options.get(b"boundary")
        if not boundary:
            raise invalid("The multipart body has no boundary")
        self._body = body
        self._max_body_bytes = max_body_bytes
        self._received = 0
        self._events: deque[tuple[str, bytes]] = deque()
        self._headers: list[tuple[bytes, bytes]] = []
        # One body chunk may hold several parts: each part's headers queue with its events.
        self._part_headers: deque[list[tuple[bytes, bytes]]] = deque()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._ended = False
        self._parts = 0
        self._current: Part | None = None
        try:
            self._parser = MultipartParser(
                boundary,
                callbacks={
                    "on_part_begin": self._on_part_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_end": self._on_end,
                },
                max_header_count=MAX_HEADERS_PER_PART,
                max_header_size=MAX_HEADER_BYTES,
            )
        except FormParserError as exc:
            raise invalid(str(exc)) from exc

    # python-multipart callbacks: they only record events; the async side consumes them.
    def _on_part_begin(self) -> None:
        self._headers = []

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers.append((bytes(self._header_field).lower(), bytes(self._header_value)))
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        self._part_headers.append(self._headers)
        self._events.append(("headers", b""))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(("data", bytes(data[start:end])))

    def _on_part_end(self) -> None:
        self._events.append(("end", b""))

    def _on_end(self) -> None:
        self._ended = True

    async def next_event(self) -> tuple[str, bytes]:
        """The next parser event, reading more of the body as needed; ("done", b"") at the end."""
        while not self._events:
            if self._ended:
                return ("done", b"")
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                raise invalid("The multipart body ended before its closing boundary") from None
            self._received += len(chunk)
            if self._received > self._max_body_bytes:
                raise PayloadTooLarge(
                    "The request body is too large",
                    code="file_too_large",
                    headers={"Connection": "close"},
                )
            try:
                self._parser.write(chunk)
            except FormParserError as exc:
                raise invalid(f"Malformed multipart body: {exc}") from exc
        return self._events.popleft()

    async def parts(self) -> AsyncIterator[Part]:
        """Each part in order; a part its consumer left unread is skipped."""
        while True:
            if self._current is not None and not self._current.finished:
                await self._current.skip()
            kind, _ = await self.next_event()
            if kind == "done":
                return
            if kind != "headers":
                raise invalid("Unexpected data outside a part")
            self._parts += 1
            if self._parts > MAX_PARTS:
                raise invalid(f"More than {MAX_PARTS} parts")
            self._current = self._part_from_headers()
            yield self._current

    def _part_from_headers(self) -> Part:
        headers = dict(self._part_headers.popleft())
        disposition = headers.get(b"content-disposition")
        if disposition is None:
            raise invalid("A part has no Content-Disposition header")
        kind, options = parse_options_header(disposition)
        name = options.get(b"name")
        if kind != b"form-data" or name is None:
            raise invalid("A part is not a named form-data field")
        filename = options.get(b"filename")
        content_type = headers.get(b"content-type")
        return Part(
            name=_decode(name),
            filename=None if filename is None else _decode(filename),
            content_type=None if content_type is None else _decode(content_type),
            _reader=self,
        )
