"""A lean RFC 6455 transport for uvicorn: little memory per idle socket (see protocol.py)."""

from cowrite.leanws.protocol import LeanWebSocketProtocol, lean_connection, ready_frame_writer

__all__ = ["LeanWebSocketProtocol", "lean_connection", "ready_frame_writer"]
