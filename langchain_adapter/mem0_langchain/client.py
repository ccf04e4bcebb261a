"""Synchronous HTTP client for every endpoint of the Mem0 memory service."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ._version import __version__
from .errors import Mem0APIError, Mem0ConnectionError, api_error
from .models import (
    AuthCheck,
    DeleteResult,
    Health,
    Memory,
    MemoryPage,
    MemoryType,
    SearchResult,
)

DEFAULT_BASE_URL = "http://localhost:3456"
"""Where the service listens when ``MEM0_BASE_URL`` is not set (the guide's default port)."""

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
"""(connect, read) timeout in seconds."""

Timeout = float | tuple[float, float]

# Retry policy, shared by both clients. Requests that cannot change anything twice
# (GET, PUT, DELETE) are retried on any transient answer. POST (create, search) is
# retried only when the service says it did not act: 429 (slow down) or 503 (a backend
# is down); a 502/504 from a proxy or a read timeout may hide a stored memory, so those
# are not retried. Creates also carry an Idempotency-Key, so a service that honours it
# answers a repeated create with the first result. Failed connections are retried for
# every method: the request never reached the service.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_NOT_ACTED_ON = frozenset({429, 503})
IDEMPOTENCY_HEADER = "Idempotency-Key"


def should_retry(method: str, status_code: int) -> bool:
    """Whether an answer with this status may be retried for this method."""
    if method.upper() in _IDEMPOTENT:
        return status_code in _RETRY_STATUSES
    return status_code in _NOT_ACTED_ON


class _Retry(Retry):
    """urllib3 retries with the policy above (read errors stay limited to ``allowed_methods``)."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return should_retry(method, status_code)


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unset (None) values so the service applies its own defaults."""
    return {key: value for key, value in values.items() if value is not None}


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _segment(value: str) -> str:
    if not value:
        raise ValueError("identifiers used in a URL path must not be empty")
    return quote(value, safe="")


@dataclass(frozen=True)
class RequestSpec:
    """One HTTP request, built once and sent by either client."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


def add_request(
    content: str,
    user_id: str,
    type: MemoryType | None,
    session_id: str | None,
    agent_id: str | None,
    metadata: Mapping[str, Any] | None,
) -> RequestSpec:
    body = _compact(
        {
            "user_id": user_id,
            "content": content,
            "type": type,
            "session_id": session_id,
            "agent_id": agent_id,
            "metadata": dict(metadata) if metadata is not None else None,
        }
    )
    # A fresh key per call: retries of this call reuse it, a new call gets a new one.
    return RequestSpec(
        "POST", "/api/memories", json=body, headers={IDEMPOTENCY_HEADER: uuid.uuid4().hex}
    )


def search_request(
    query: str | None,
    user_id: str,
    relevance_threshold: float | None,
    limit: int | None,
    types: Sequence[MemoryType] | None,
    session_id: str | None,
    agent_id: str | None,
) -> RequestSpec:
    body = _compact(
        {
            "user_id": user_id,
            "query": query,
            "relevance_threshold": relevance_threshold,
            "limit": limit,
            "types": list(types) if types is not None else None,
            "session_id": session_id,
            "agent_id": agent_id,
        }
    )
    return RequestSpec("POST", "/api/memories/search", json=body)


def update_request(
    memory_id: str,
    content: str | None,
    metadata: Mapping[str, Any] | None,
    type: MemoryType | None,
) -> RequestSpec:
    body = _compact(
        {
            "content": content,
            "metadata": dict(metadata) if metadata is not None else None,
            "type": type,
        }
    )
    if not body:
        raise ValueError("update() needs at least one of content, metadata or type")
    return RequestSpec("PUT", f"/api/memories/{_segment(memory_id)}", json=body)


def list_request(
    user_id: str,
    type: MemoryType | None,
    session_id: str | None,
    agent_id: str | None,
    limit: int | None,
    offset: int | None,
    created_before: datetime | str | None,
    created_after: datetime | str | None,
    order: str | None,
) -> RequestSpec:
    params = _compact(
        {
            "type": type,
            "session_id": session_id,
            "agent_id": agent_id,
            "limit": limit,
            "offset": offset,
            "created_before": _iso(created_before),
            "created_after": _iso(created_after),
            "order": order,
        }
    )
    return RequestSpec("GET", f"/api/memories/user/{_segment(user_id)}", params=params or None)


def delete_all_request(
    user_id: str,
    session_id: str | None,
    agent_id: str | None,
    type: MemoryType | None,
) -> RequestSpec:
    params = _compact({"session_id": session_id, "agent_id": agent_id, "type": type})
    return RequestSpec("DELETE", f"/api/memories/user/{_segment(user_id)}", params=params or None)


class _ClientBase:
    """Configuration shared by :class:`Mem0Client` and the async client."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        timeout: Timeout,
        max_retries: int,
        backoff_factor: float,
    ) -> None:
        url = base_url or os.environ.get("MEM0_BASE_URL") or DEFAULT_BASE_URL
        self.base_url: str = url.rstrip("/")
        self.api_key: str | None = (
            api_key if api_key is not None else os.environ.get("MEM0_API_KEY")
        )
        self.timeout: Timeout = timeout
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor

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


class Mem0Client(_ClientBase):
    """Client for the Mem0 HTTP API, built on a :class:`requests.Session`.

    Every method maps to one endpoint and returns a typed pydantic model. Errors
    answered by the service raise :class:`~mem0_langchain.Mem0APIError` (or a
    subclass per status) carrying the API's error JSON; network failures raise
    :class:`~mem0_langchain.Mem0ConnectionError`.

    Args:
        base_url: e.g. ``"http://localhost:3456"``; defaults to ``$MEM0_BASE_URL``.
        api_key: the service's key; defaults to ``$MEM0_API_KEY``.
        timeout: seconds, or a ``(connect, read)`` pair.
        max_retries: retries for failed connections, for 429/502/503/504 answers
            to GET, PUT and DELETE, and for 429/503 answers to POST (see ``should_retry``).
        backoff_factor: exponential backoff between retries, in seconds.
        session: a ready ``requests.Session`` to use as is (no retry adapter is mounted).

    Example:
        .. code-block:: python

            from mem0_langchain import Mem0Client

            client = Mem0Client("http://localhost:3456", api_key="secret")
            client.add("Prefers email notifications", user_id="u1", type="preference")
            hits = client.search("how to notify?", user_id="u1").memories
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff_factor: float = 0.3,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, max_retries, backoff_factor)
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            retry = _Retry(
                total=max_retries,
                connect=max_retries,
                read=max_retries,
                status=max_retries,
                other=0,
                backoff_factor=backoff_factor,
                status_forcelist=sorted(_RETRY_STATUSES),
                allowed_methods=_IDEMPOTENT,
                raise_on_status=False,
                respect_retry_after_header=True,
            )
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session

    # -- plumbing -------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON answer, raising on errors."""
        url = self.base_url + path
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                headers={**self.headers, **(headers or {})},
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise Mem0ConnectionError(f"{method} {url} timed out: {exc}") from exc
        except requests.RequestException as exc:
            raise Mem0ConnectionError(f"cannot reach the Mem0 service at {url}: {exc}") from exc
        return _decode(response.status_code, response.reason, response.text)

    def _send(self, spec: RequestSpec) -> Any:
        return self.request(
            spec.method, spec.path, params=spec.params, json=spec.json, headers=spec.headers
        )

    def close(self) -> None:
        """Close the underlying session (only if this client created it)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Mem0Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- memories -------------------------------------------------------------

    def add(
        self,
        content: str,
        *,
        user_id: str,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Memory:
        """Store a memory (``POST /api/memories``); the service's default type is ``fact``."""
        spec = add_request(content, user_id, type, session_id, agent_id, metadata)
        return Memory.model_validate(self._send(spec))

    def search(
        self,
        query: str | None = None,
        *,
        user_id: str,
        relevance_threshold: float | None = None,
        limit: int | None = None,
        types: Sequence[MemoryType] | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
    ) -> SearchResult:
        """Find the memories most relevant to ``query`` (``POST /api/memories/search``).

        Without a query the service returns the most recent memories of the scope.
        Unset arguments take the service's defaults (threshold 0.7, limit 5).
        """
        spec = search_request(
            query, user_id, relevance_threshold, limit, types, session_id, agent_id
        )
        return SearchResult.model_validate(self._send(spec))

    def get(self, memory_id: str) -> Memory:
        """Fetch one memory by id (``GET /api/memories/{id}``)."""
        return Memory.model_validate(self.request("GET", f"/api/memories/{_segment(memory_id)}"))

    def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        type: MemoryType | None = None,
    ) -> Memory:
        """Change a memory's content, metadata or type (``PUT /api/memories/{id}``)."""
        return Memory.model_validate(self._send(update_request(memory_id, content, metadata, type)))

    def delete(self, memory_id: str) -> DeleteResult:
        """Delete one memory (``DELETE /api/memories/{id}``)."""
        return DeleteResult.model_validate(
            self.request("DELETE", f"/api/memories/{_segment(memory_id)}")
        )

    def get_all(
        self,
        user_id: str,
        *,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        created_before: datetime | str | None = None,
        created_after: datetime | str | None = None,
        order: str | None = None,
    ) -> MemoryPage:
        """One page of a user's memories (``GET /api/memories/user/{user_id}``).

        Newest first unless ``order="asc"``; the service's default page size is 10
        (at most 1000). Naive datetimes are taken as UTC.
        """
        spec = list_request(
            user_id,
            type,
            session_id,
            agent_id,
            limit,
            offset,
            created_before,
            created_after,
            order,
        )
        return MemoryPage.model_validate(self._send(spec))

    def iter_all(
        self,
        user_id: str,
        *,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        order: str | None = None,
        page_size: int = 100,
    ) -> Iterator[Memory]:
        """Yield every memory of a user (optionally filtered), page by page."""
        offset = 0
        while True:
            page = self.get_all(
                user_id,
                type=type,
                session_id=session_id,
                agent_id=agent_id,
                limit=page_size,
                offset=offset,
                order=order,
            )
            yield from page.memories
            offset += len(page.memories)
            if not page.memories or offset >= page.total:
                return

    def delete_all(
        self,
        user_id: str,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        type: MemoryType | None = None,
    ) -> DeleteResult:
        """Delete all memories of a user, or only those of a session, agent or type
        (``DELETE /api/memories/user/{user_id}``); ``deleted`` tells how many went."""
        spec = delete_all_request(user_id, session_id, agent_id, type)
        return DeleteResult.model_validate(self._send(spec))

    # -- service --------------------------------------------------------------

    def health(self) -> Health:
        """Service status (``GET /api/health``, no key needed)."""
        return Health.model_validate(self.request("GET", "/api/health"))

    def check_auth(self) -> AuthCheck:
        """Validate the API key (``GET /api/auth/check``).

        Raises:
            Mem0AuthenticationError: the key is missing or wrong.
        """
        return AuthCheck.model_validate(self.request("GET", "/api/auth/check"))

    def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI 3 document (``GET /api/openapi.json``)."""
        document: dict[str, Any] = self.request("GET", "/api/openapi.json")
        return document


def _decode(status: int, reason: str, text: str) -> Any:
    """Turn an HTTP answer into JSON, or raise the matching error."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
        if status < 400:
            raise Mem0APIError(
                status, "Invalid Response", f"expected JSON, got: {text[:200]!r}"
            ) from None
    if status >= 400:
        raise api_error(status, reason, body, text)
    return body
