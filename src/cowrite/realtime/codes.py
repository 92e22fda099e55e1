"""The close codes both sockets use (RFC 6455 §7.4 and the contract's 44xx)."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # the server shuts down
    UNSUPPORTED = 1003  # a frame type or a change the route does not take
    ABNORMAL = 1006  # never sent: the connection was lost
    INVALID = 1007  # bytes that do not follow the route's protocol
    POLICY = 1008  # over a rate or a count
    SLOW_READER = 1008  # a reader further behind than its outgoing queue's byte cap (both sockets)
    TOO_BIG = 1009  # a message, or the document it would make, over the limit
    INTERNAL = 1011
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403  # no (longer) allowed, or a foreign Origin
    NOT_FOUND = 4404  # unknown or hidden document
    TIMEOUT = 4408  # no authentication in time, or presence timed out
    # Final for the stock y-websocket client (4400-4499: no reconnect): resending cannot help.
    DOCUMENT_TOO_LARGE = 4413  # a rich document deeper or bigger than the limits
    WRONG_ROOT = 4422  # a change to a root other than the one the document's format uses
