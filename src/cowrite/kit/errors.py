"""One error hierarchy; the app maps it to the contract's {"detail", "code"} in one place."""

from __future__ import annotations


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.__class__.__doc__ or self.code
        if code:
            self.code = code
        self.headers = headers
        super().__init__(self.detail)


class BadRequest(AppError):
    """The request is not valid."""


class Unauthorized(AppError):
    """Not authenticated."""

    status_code = 401
    code = "not_authenticated"


class Forbidden(AppError):
    """You may not do this."""

    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    """Not found."""

    status_code = 404
    code = "not_found"


class Conflict(AppError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    """The payload is too large."""

    status_code = 413
    code = "payload_too_large"


class RangeNotSatisfiable(AppError):
    """The requested range cannot be served."""

    status_code = 416
    code = "range_not_satisfiable"


class Unprocessable(AppError):
    """The request is well-formed but cannot be processed."""

    status_code = 422
    code = "unprocessable"


class TooManyRequests(AppError):
    """Too many requests; try again later."""

    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(AppError):
    """A backing service is unavailable."""

    status_code = 503
    code = "unavailable"
