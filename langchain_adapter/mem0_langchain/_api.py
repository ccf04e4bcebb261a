"""What both clients share: each endpoint's request and how its answer is read, the retry
policy, configuration and error decoding. The clients only send these calls."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from langchain_core.messages import BaseMessage
from pydantic import TypeAdapter

from ._version import __version__
from .errors import Mem0APIError, Mem0ConnectionError, api_error
from .models import (
    ApiKeyList,
    AppendedMessages,
    AuthCheck,
    BatchResult,
    ConversationResult,
    CreatedApiKey,
    DeleteResult,
    Export,
    Health,
    HistoryEvent,
    Memory,
    MemoryPage,
    MemoryType,
    MessageLog,
    Readiness,
    RevokedApiKey,
    SearchResult,
    UserPage,
)

T = TypeVar("T")

DEFAULT_BASE_URL = "http://localhost:3456"
"""Where the service listens when ``MEM0_BASE_URL`` is not set (the guide's default port)."""

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
"""(connect, read) timeout in seconds."""

Timeout = float | tuple[float, float]
When = datetime | str | None
MetadataFilter = Mapping[str, str | int | float | bool | None]

# -- retry policy -------------------------------------------------------------------
# Requests that cannot change anything twice (GET, PUT, DELETE) are retried on any
# transient answer. POST (create, batch, search) is retried only when the service says it
# did not act: 429 (slow down) or 503 (a backend is down); a 502/504 from a proxy or a read
# timeout may hide a stored memory, so those are not retried. Creates also carry an
# Idempotency-Key, which the service uses to answer a repeated create with the first
# result. Failed connections are retried for every method: nothing reached the service.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
NOT_ACTED_ON = frozenset({429, 503})
IDEMPOTENCY_HEADER = "Idempotency-Key"

MAX_QUERY_CHARS = 4000
"""The longest search query the service accepts."""


def should_retry(method: str, status_code: int) -> bool:
    """Whether an answer with this status may be retried for this method."""
    if method.upper() in IDEMPOTENT_METHODS:
        return status_code in RETRY_STATUSES
    return status_code in NOT_ACTED_ON


@dataclass(frozen=True)
class RetryPolicy:
    """When the sync and async clients try a request again, and how long they wait first."""

    max_retries: int = 3
    backoff_factor: float = 0.3

    def after_answer(self, method: str, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying this answer, or None to accept it."""
        if attempt >= self.max_retries or not should_retry(method, response.status_code):
            return None
        try:  # the service's Retry-After, when it sends one
            return max(float(response.headers.get("Retry-After", "")), 0.0)
        except ValueError:
            return self._backoff(attempt)

    def after_error(self, method: str, attempt: int, error: httpx.HTTPError) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to give up."""
        if attempt >= self.max_retries:
            return None
        # Nothing reached the service when the connection failed: safe for every method. A failed
        # read may hide a stored memory: only requests that cannot change anything twice go again.
        if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return self._backoff(attempt)
        if isinstance(error, httpx.TransportError) and method.upper() in IDEMPOTENT_METHODS:
            return self._backoff(attempt)
        return None

    def _backoff(self, attempt: int) -> float:
        return self.backoff_factor * 2.0**attempt


def httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    """The httpx form of a timeout in seconds or a (connect, read) pair."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return httpx.Timeout(read, connect=connect)


def connection_error(method: str, url: str, error: httpx.HTTPError) -> Mem0ConnectionError:
    """The error raised when the service cannot be reached (after the retries)."""
    if isinstance(error, httpx.TimeoutException):
        return Mem0ConnectionError(f"{method} {url} timed out: {error}")
    return Mem0ConnectionError(f"cannot reach the Mem0 service at {url}: {error}")


# -- calls ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    answers_with: frozenset[int] = frozenset()
    """Error statuses whose JSON is still the answer (e.g. 503 from the readiness probe)."""


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unset (None) values so the service applies its own defaults."""
    return {key: value for key, value in values.items() if value is not None}


def _iso(value: When) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _segment(value: str) -> str:
    if not value:
        raise ValueError("identifiers used in a URL path must not be empty")
    return quote(value, safe="")


def _memory_path(memory_id: str) -> str:
    return f"/api/memories/{_segment(memory_id)}"


def _user_path(user_id: str) -> str:
    return f"/api/memories/user/{_segment(user_id)}"


def _fresh_key() -> dict[str, str]:
    # One key per call: the retries of a call reuse it, a new call gets a new one.
    return {IDEMPOTENCY_HEADER: uuid.uuid4().hex}


def _expiry(expires_at: When, ttl_seconds: int | None) -> dict[str, Any]:
    return {"expires_at": _iso(expires_at), "ttl_seconds": ttl_seconds}


_ROLE_OF_TYPE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def chat_role(message: BaseMessage) -> str:
    """The role a LangChain message has in the API (``user``, ``assistant``, ...)."""
    return _ROLE_OF_TYPE.get(message.type, message.type)


def _message(message: BaseMessage | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(message, BaseMessage):
        return {"role": chat_role(message), "content": message.text}
    return dict(message)


def add(
    content: str,
    user_id: str,
    type: MemoryType | None,
    session_id: str | None,
    agent_id: str | None,
    metadata: Mapping[str, Any] | None,
    expires_at: When,
    ttl_seconds: int | None,
) -> Call[Memory]:
    body = _compact(
        {
            "user_id": user_id,
            "content": content,
            "type": type,
            "session_id": session_id,
            "agent_id": agent_id,
            "metadata": dict(metadata) if metadata is not None else None,
            **_expiry(expires_at, ttl_seconds),
        }
    )
    return Call("POST", "/api/memories", Memory.model_validate, json=body, headers=_fresh_key())


def add_conversation(
    messages: Sequence[BaseMessage | Mapping[str, Any]],
    user_id: str,
    infer: bool | None,
    session_id: str | None,
    agent_id: str | None,
    metadata: Mapping[str, Any] | None,
    expires_at: When,
    ttl_seconds: int | None,
) -> Call[ConversationResult]:
    body = _compact(
        {
            "user_id": user_id,
            "messages": [_message(message) for message in messages],
            "infer": infer,
            "session_id": session_id,
            "agent_id": agent_id,
            "metadata": dict(metadata) if metadata is not None else None,
            **_expiry(expires_at, ttl_seconds),
        }
    )
    return Call(
        "POST",
        "/api/memories",
        ConversationResult.model_validate,
        json=body,
        headers=_fresh_key(),
    )


def add_batch(memories: Sequence[Mapping[str, Any]]) -> Call[BatchResult]:
    body = {"memories": [_compact(dict(memory)) for memory in memories]}
    return Call("POST", "/api/memories/batch", BatchResult.model_validate, json=body)


def search(
    query: str | None,
    user_id: str,
    relevance_threshold: float | None,
    limit: int | None,
    types: Sequence[MemoryType] | None,
    session_id: str | None,
    agent_id: str | None,
    rewrite_query: bool | None = None,
) -> Call[SearchResult]:
    body = _compact(
        {
            "user_id": user_id,
            "query": query,
            "relevance_threshold": relevance_threshold,
            "limit": limit,
            "types": list(types) if types is not None else None,
            "session_id": session_id,
            "agent_id": agent_id,
            "rewrite_query": rewrite_query,
        }
    )
    return Call("POST", "/api/memories/search", SearchResult.model_validate, json=body)


def get(memory_id: str) -> Call[Memory]:
    return Call("GET", _memory_path(memory_id), Memory.model_validate)


def update(
    memory_id: str,
    content: str | None,
    metadata: Mapping[str, Any] | None,
    type: MemoryType | None,
    expires_at: When,
    ttl_seconds: int | None,
) -> Call[Memory]:
    body = _compact(
        {
            "content": content,
            "metadata": dict(metadata) if metadata is not None else None,
            "type": type,
            **_expiry(expires_at, ttl_seconds),
        }
    )
    if not body:
        raise ValueError("update() needs at least one of content, metadata, type or an expiry")
    return Call("PUT", _memory_path(memory_id), Memory.model_validate, json=body)


def delete(memory_id: str, erase: bool) -> Call[DeleteResult]:
    params = {"erase": "true"} if erase else None
    return Call("DELETE", _memory_path(memory_id), DeleteResult.model_validate, params=params)


_HISTORY = TypeAdapter(list[HistoryEvent])


def history(memory_id: str) -> Call[list[HistoryEvent]]:
    return Call(
        "GET",
        _memory_path(memory_id) + "/history",
        lambda body: _HISTORY.validate_python(body["history"]),
    )


def get_all(
    user_id: str,
    type: MemoryType | None,
    session_id: str | None,
    agent_id: str | None,
    limit: int | None,
    offset: int | None,
    created_before: When,
    created_after: When,
    updated_after: When,
    metadata: MetadataFilter | None,
    order: str | None,
) -> Call[MemoryPage]:
    params = _compact(
        {
            "type": type,
            "session_id": session_id,
            "agent_id": agent_id,
            "limit": limit,
            "offset": offset,
            "created_before": _iso(created_before),
            "created_after": _iso(created_after),
            "updated_after": _iso(updated_after),
            "metadata": json.dumps(dict(metadata), ensure_ascii=False) if metadata else None,
            "order": order,
        }
    )
    return Call("GET", _user_path(user_id), MemoryPage.model_validate, params=params or None)


def delete_all(
    user_id: str,
    session_id: str | None,
    agent_id: str | None,
    type: MemoryType | None,
) -> Call[DeleteResult]:
    params = _compact({"session_id": session_id, "agent_id": agent_id, "type": type})
    return Call("DELETE", _user_path(user_id), DeleteResult.model_validate, params=params or None)


def export(user_id: str) -> Call[Export]:
    return Call("GET", _user_path(user_id) + "/export", Export.model_validate)


def end_session(session_id: str, user_id: str) -> Call[DeleteResult]:
    return Call(
        "DELETE",
        f"/api/sessions/{_segment(session_id)}",
        DeleteResult.model_validate,
        params={"user_id": user_id},
    )


def list_users(prefix: str | None, limit: int | None, offset: int | None) -> Call[UserPage]:
    params = _compact({"prefix": prefix, "limit": limit, "offset": offset})
    return Call("GET", "/api/users", UserPage.model_validate, params=params or None)


def health() -> Call[Health]:
    return Call("GET", "/api/health", Health.model_validate)


def ready() -> Call[Readiness]:
    # A service that is not ready answers 503 with the same document naming what fails.
    return Call("GET", "/api/ready", Readiness.model_validate, answers_with=frozenset({503}))


def check_auth() -> Call[AuthCheck]:
    return Call("GET", "/api/auth/check", AuthCheck.model_validate)


def openapi() -> Call[dict[str, Any]]:
    return Call("GET", "/api/openapi.json", dict)


def create_key(
    user_id: str | None, agent_id: str | None, access: str | None, name: str | None
) -> Call[CreatedApiKey]:
    if user_id is None and agent_id is None:
        raise ValueError("a scoped key needs a user_id, an agent_id or both")
    body = _compact({"user_id": user_id, "agent_id": agent_id, "access": access, "name": name})
    return Call("POST", "/api/keys", CreatedApiKey.model_validate, json=body)


def list_keys(include_revoked: bool) -> Call[ApiKeyList]:
    params = {"include_revoked": "true"} if include_revoked else None
    return Call("GET", "/api/keys", ApiKeyList.model_validate, params=params)


def revoke_key(key_id: str) -> Call[RevokedApiKey]:
    return Call("DELETE", f"/api/keys/{_segment(key_id)}", RevokedApiKey.model_validate)


# -- configuration and answers -----------------------------------------------------------


class ClientConfig:
    """Configuration shared by the sync and async clients."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        timeout: Timeout | None,
        max_retries: int,
        backoff_factor: float,
    ) -> None:
        url = base_url or os.environ.get("MEM0_BASE_URL") or DEFAULT_BASE_URL
        self.base_url: str = url.rstrip("/")
        self.api_key: str | None = (
            api_key if api_key is not None else os.environ.get("MEM0_API_KEY")
        )
        self.timeout: Timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.retry = RetryPolicy(max_retries, backoff_factor)

    @property
    def max_retries(self) -> int:
        """How many times a failed request is tried again (see :class:`RetryPolicy`)."""
        return self.retry.max_retries

    @property
    def headers(self) -> dict[str, str]:
        """Headers sent with every request."""
        headers = {
            "Accept": "application/json",
            "User-Agent": f"mem0-langchain/{__version__}",
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def __repr__(self) -> str:
        # Never print the key itself.
        key = "set" if self.api_key else "unset"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key})"


def decode(status: int, reason: str, text: str, answers_with: frozenset[int] = frozenset()) -> Any:
    """Turn an HTTP answer into JSON, or raise the matching :class:`Mem0APIError`."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
        if status < 400:
            raise Mem0APIError(
                status, "Invalid Response", f"expected JSON, got: {text[:200]!r}"
            ) from None
    if status >= 400 and not (status in answers_with and isinstance(body, dict)):
        raise api_error(status, reason, body, text)
    return body


def _log_path(session_id: str) -> str:
    return f"/api/sessions/{_segment(session_id)}/messages"


def append_messages(
    session_id: str,
    user_id: str,
    messages: Sequence[Mapping[str, Any]],
    agent_id: str | None,
) -> Call[AppendedMessages]:
    entries = [dict(m) for m in messages]
    body = _compact({"user_id": user_id, "agent_id": agent_id, "messages": entries})
    return Call("POST", _log_path(session_id), AppendedMessages.model_validate, json=body)


def get_messages(
    session_id: str,
    user_id: str,
    agent_id: str | None,
    limit: int | None,
    before: int | None,
    after: int | None,
) -> Call[MessageLog]:
    params = _compact(
        {"user_id": user_id, "agent_id": agent_id, "limit": limit, "before": before, "after": after}
    )
    return Call("GET", _log_path(session_id), MessageLog.model_validate, params=params)


def clear_messages(session_id: str, user_id: str, agent_id: str | None) -> Call[DeleteResult]:
    params = _compact({"user_id": user_id, "agent_id": agent_id})
    return Call("DELETE", _log_path(session_id), DeleteResult.model_validate, params=params)
