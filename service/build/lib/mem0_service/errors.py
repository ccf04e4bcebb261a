"""One error hierarchy: every failure a client can see, with its HTTP status and JSON shape."""

from __future__ import annotations


class ConfigError(Exception):
    """The service cannot start with the given settings."""


class ApiError(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(self, message: str, *, field: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.title, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class BadRequest(ApiError):
    status, title = 400, "Bad Request"


class Unauthorized(ApiError):
    status, title = 401, "Unauthorized"


class Forbidden(ApiError):
    status, title = 403, "Forbidden"


class NotFound(ApiError):
    status, title = 404, "Not Found"


class MethodNotAllowed(ApiError):
    status, title = 405, "Method Not Allowed"


class Conflict(ApiError):
    status, title = 409, "Conflict"


class PayloadTooLarge(ApiError):
    status, title = 413, "Payload Too Large"


class TooManyRequests(ApiError):
    status, title = 429, "Too Many Requests"


class ServiceUnavailable(ApiError):
    """A dependency (record store, vector index, embedder, LLM) is down or answered junk."""

    status, title = 503, "Service Unavailable"

    def __init__(self, message: str, *, dependency: str, **kwargs):
        super().__init__(message, **kwargs)
        self.dependency = dependency

    def body(self) -> dict[str, object]:
        return {**super().body(), "dependency": self.dependency}
