"""Exceptions raised by the Mem0 clients."""

from __future__ import annotations

from typing import Any


class Mem0Error(Exception):
    """Base class of every error raised by this package."""


class Mem0ConnectionError(Mem0Error):
    """The service could not be reached, or did not answer in time (after retries)."""


class Mem0APIError(Mem0Error):
    """The service answered with an error status.

    Attributes:
        status_code: HTTP status of the answer (400, 401, 403, 404, 413, 503, ...).
        error: the API's short error name, e.g. ``"Bad Request"``.
        message: the API's human readable explanation.
        field: the request field at fault, when the API names one.
        body: the whole error JSON as the API sent it (or ``{}`` if it was not JSON).
    """

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        field: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.status_code = status_code
        self.error = error
        self.message = message
        self.field = field
        self.body: dict[str, Any] = body if body is not None else {}
        text = f"{status_code} {error}: {message}"
        if field:
            text += f" (field: {field})"
        super().__init__(text)


class Mem0BadRequestError(Mem0APIError):
    """400: the request was invalid; ``field`` names the culprit when known."""


class Mem0AuthenticationError(Mem0APIError):
    """401: the API key is missing or wrong."""


class Mem0PermissionError(Mem0APIError):
    """403: the key is valid but may not do this (a read-only key, or one bound to
    another user or agent)."""


class Mem0NotFoundError(Mem0APIError):
    """404: no such memory (or route)."""


class Mem0PayloadTooLargeError(Mem0APIError):
    """413: the request body is larger than the service accepts."""


class Mem0UnavailableError(Mem0APIError):
    """503 (or another 5xx): a backend of the service is down; retrying later may help."""


_BY_STATUS: dict[int, type[Mem0APIError]] = {
    400: Mem0BadRequestError,
    401: Mem0AuthenticationError,
    403: Mem0PermissionError,
    404: Mem0NotFoundError,
    413: Mem0PayloadTooLargeError,
}


def api_error(status_code: int, reason: str, body: Any, text: str) -> Mem0APIError:
    """Build the right :class:`Mem0APIError` subclass from an error answer."""
    payload: dict[str, Any] = body if isinstance(body, dict) else {}
    error = str(payload.get("error") or reason or f"HTTP {status_code}")
    message = payload.get("message")
    if not isinstance(message, str) or not message:
        message = text.strip()[:500] if not payload and text.strip() else error
    field = payload.get("field")
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = Mem0UnavailableError if status_code >= 500 else Mem0APIError
    return cls(
        status_code,
        error,
        message,
        field=field if isinstance(field, str) else None,
        body=payload,
    )
