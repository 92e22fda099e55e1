"""A lean RFC 6455 transport for uvicorn: little memory per idle socket (see protocol.py)."""

from cowrite.leanws.protocol import LeanWebSocketProtocol

__all__ = ["LeanWebSocketProtocol"]
