"""HTTP conditional and range requests over an immutable body (RFC 9110 §13, §14)."""

from __future__ import annotations

import re

from cowrite.kit.errors import RangeNotSatisfiable

_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
MAX_RANGE_DIGITS = 19  # any offset a 64-bit file size can have; longer numbers are refused


def etag_for(sha256: str) -> str:
    return f'"{sha256}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when If-None-Match names this representation (weak comparison), i.e. answer 304."""
    if if_none_match is None:
        return False
    candidates = [item.strip() for item in if_none_match.split(",")]
    return any(item == "*" or item.removeprefix("W/") == etag for item in candidates)


def byte_range(
    range_header: str | None, if_range: str | None, etag: str, size: int
) -> tuple[int, int] | None:
    """(start, length) of a satisfiable single range; None to send the whole body.

    Headers we cannot use (several ranges, bad syntax, a stale If-Range) are ignored, as the
    RFC allows; a well-formed range entirely past the end is a 416."""
    if range_header is None:
        return None
    if if_range is not None and if_range.strip() != etag:
        return None
    match = _SINGLE_RANGE.fullmatch(range_header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if len(first) > MAX_RANGE_DIGITS or len(last) > MAX_RANGE_DIGITS:
        raise _unsatisfiable(size)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        start = max(size - suffix, 0)
        return start, size - start
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    return start, end - start + 1


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        "The requested range is outside the file", headers={"Content-Range": f"bytes */{size}"}
    )
