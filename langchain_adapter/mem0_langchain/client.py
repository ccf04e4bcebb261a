"""Synchronous HTTP client for every endpoint of the Mem0 memory service."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from langchain_core.messages import BaseMessage

from . import _api
from ._api import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    ClientConfig,
    MetadataFilter,
    RetryPolicy,
    Timeout,
    When,
    connection_error,
    httpx_timeout,
    should_retry,
)
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

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "Mem0Client", "RetryPolicy", "should_retry"]

T = TypeVar("T")


class Mem0Client(ClientConfig):
    """Client for the Mem0 HTTP API, built on an :class:`httpx.Client`.

    Every method maps to one endpoint and returns a typed pydantic model. Errors
    answered by the service raise :class:`~mem0_langchain.Mem0APIError` (or a
    subclass per status) carrying the API's error JSON; network failures raise
    :class:`~mem0_langchain.Mem0ConnectionError`.

    Args:
        base_url: e.g. ``"http://localhost:3456"``; defaults to ``$MEM0_BASE_URL``.
        api_key: the service's key; defaults to ``$MEM0_API_KEY``.
        timeout: seconds, or a ``(connect, read)`` pair (default 5 s / 30 s).
        max_retries: retries for failed connections, for 429/502/503/504 answers
            to GET, PUT and DELETE, and for 429/503 answers to POST (see :class:`RetryPolicy`).
        backoff_factor: exponential backoff between retries, in seconds.
        http_client: a ready ``httpx.Client`` to send through (its own timeout applies;
            the retry policy still does).

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
        timeout: Timeout | None = None,
        max_retries: int = 3,
        backoff_factor: float = 0.3,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, max_retries, backoff_factor)
        self._owns_client = http_client is None
        if http_client is None:
            http_client = httpx.Client(timeout=httpx_timeout(self.timeout))
        self.http_client = http_client

    # -- plumbing -------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        answers_with: frozenset[int] = frozenset(),
    ) -> Any:
        """Send one request and return the decoded JSON answer, raising on errors.

        For endpoints this client does not wrap yet: ``client.request("GET", "/api/...")``.
        """
        url = self.base_url + path
        attempt = 0
        while True:
            try:
                response = self.http_client.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={**self.headers, **(headers or {})},
                )
            except httpx.HTTPError as exc:
                delay = self.retry.after_error(method, attempt, exc)
                if delay is None:
                    raise connection_error(method, url, exc) from exc
            else:
                delay = self.retry.after_answer(method, attempt, response)
                if delay is None:
                    return _api.decode(
                        response.status_code, response.reason_phrase, response.text, answers_with
                    )
                response.close()
            time.sleep(delay)
            attempt += 1

    def _call(self, call: _api.Call[T]) -> T:
        body = self.request(
            call.method,
            call.path,
            params=call.params,
            json=call.json,
            headers=call.headers,
            answers_with=call.answers_with,
        )
        return call.parse(body)

    def close(self) -> None:
        """Close the underlying httpx client (only if this client created it)."""
        if self._owns_client:
            self.http_client.close()

    def __enter__(self) -> Mem0Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- creating -------------------------------------------------------------

    def add(
        self,
        content: str,
        *,
        user_id: str,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        expires_at: When = None,
        ttl_seconds: int | None = None,
    ) -> Memory:
        """Store a memory (``POST /api/memories``).

        The service's default type is ``fact``; an exact duplicate of a non-interaction
        memory in the same scope returns the existing memory. ``expires_at`` (or
        ``ttl_seconds``) makes the service forget it then.
        """
        return self._call(
            _api.add(
                content, user_id, type, session_id, agent_id, metadata, expires_at, ttl_seconds
            )
        )

    def add_conversation(
        self,
        messages: Sequence[BaseMessage | Mapping[str, Any]],
        *,
        user_id: str,
        infer: bool | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        expires_at: When = None,
        ttl_seconds: int | None = None,
    ) -> ConversationResult:
        """Let the service learn from a conversation (``POST /api/memories`` with ``messages``).

        ``messages`` are ``{"role": ..., "content": ...}`` dicts or LangChain messages. With
        ``infer`` (the service's default) its chat model extracts facts and preferences and
        reconciles them with what is known (ADD / UPDATE / DELETE events); with
        ``infer=False`` each message is stored as an ``interaction`` with its role.
        """
        return self._call(
            _api.add_conversation(
                messages, user_id, infer, session_id, agent_id, metadata, expires_at, ttl_seconds
            )
        )

    def add_batch(self, memories: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Store up to 1000 memories in one request (``POST /api/memories/batch``).

        Each item is shaped like :meth:`add`'s body (``user_id``, ``content``, ``type``, ...)
        and validated on its own: check ``failed`` and each item's ``status``/``error``.
        """
        return self._call(_api.add_batch(memories))

    # -- reading --------------------------------------------------------------

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
        rewrite_query: bool | None = None,
    ) -> SearchResult:
        """Find the memories most relevant to ``query`` (``POST /api/memories/search``).

        Without a query the service returns the most recent memories of the scope.
        Unset arguments take the service's defaults (threshold 0.7, limit 5).
        ``rewrite_query=True`` also matches the service's chat model's alternatives of the
        query (its translation, the specific words an answer would use); the answer's
        ``query_rewrite`` says whether it was done.
        """
        return self._call(
            _api.search(
                query,
                user_id,
                relevance_threshold,
                limit,
                types,
                session_id,
                agent_id,
                rewrite_query,
            )
        )

    def get(self, memory_id: str) -> Memory:
        """Fetch one memory by id (``GET /api/memories/{id}``)."""
        return self._call(_api.get(memory_id))

    def history(self, memory_id: str) -> list[HistoryEvent]:
        """Every change of a memory, oldest first (``GET /api/memories/{id}/history``)."""
        return self._call(_api.history(memory_id))

    def get_all(
        self,
        user_id: str,
        *,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        created_before: When = None,
        created_after: When = None,
        updated_after: When = None,
        metadata: MetadataFilter | None = None,
        order: str | None = None,
    ) -> MemoryPage:
        """One page of a user's memories (``GET /api/memories/user/{user_id}``).

        Newest first unless ``order="asc"``; the service's default page size is 10
        (at most 1000). ``metadata`` keeps memories whose metadata has all these plain
        values. Naive datetimes are taken as UTC.
        """
        return self._call(
            _api.get_all(
                user_id,
                type,
                session_id,
                agent_id,
                limit,
                offset,
                created_before,
                created_after,
                updated_after,
                metadata,
                order,
            )
        )

    def iter_all(
        self,
        user_id: str,
        *,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        metadata: MetadataFilter | None = None,
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
                metadata=metadata,
                limit=page_size,
                offset=offset,
                order=order,
            )
            yield from page.memories
            offset += len(page.memories)
            if not page.memories or offset >= page.total:
                return

    def export(self, user_id: str) -> Export:
        """Everything kept about a user, oldest first (``GET /api/memories/user/{id}/export``)."""
        return self._call(_api.export(user_id))

    # -- changing and deleting ------------------------------------------------

    def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        type: MemoryType | None = None,
        expires_at: When = None,
        ttl_seconds: int | None = None,
    ) -> Memory:
        """Change a memory's content, metadata, type or expiry (``PUT /api/memories/{id}``)."""
        return self._call(_api.update(memory_id, content, metadata, type, expires_at, ttl_seconds))

    def delete(self, memory_id: str, *, erase: bool = False) -> DeleteResult:
        """Delete one memory (``DELETE /api/memories/{id}``); ``erase=True`` also scrubs
        its content from the memory's history."""
        return self._call(_api.delete(memory_id, erase))

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
        return self._call(_api.delete_all(user_id, session_id, agent_id, type))

    def append_messages(
        self,
        session_id: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        user_id: str,
        agent_id: str | None = None,
    ) -> AppendedMessages:
        """Append messages (``{"role", "content", "name"?, "created_at"?, "metadata"?}``) to a
        session's log (``POST /api/sessions/{session_id}/messages``); the service numbers them."""
        return self._call(_api.append_messages(session_id, user_id, messages, agent_id))

    def get_messages(
        self,
        session_id: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        limit: int | None = None,
        before: int | None = None,
        after: int | None = None,
    ) -> MessageLog:
        """A window of a session's log, oldest first (``GET /api/sessions/{session_id}/messages``):
        the last ``limit`` messages, or those ``before`` / ``after`` a ``seq``."""
        return self._call(_api.get_messages(session_id, user_id, agent_id, limit, before, after))

    def clear_messages(
        self, session_id: str, *, user_id: str, agent_id: str | None = None
    ) -> DeleteResult:
        """Clear a session's log; its memories stay
        (``DELETE /api/sessions/{session_id}/messages``)."""
        return self._call(_api.clear_messages(session_id, user_id, agent_id))

    def end_session(self, session_id: str, *, user_id: str) -> DeleteResult:
        """End a session: its memories go, the user's long-term memories stay
        (``DELETE /api/sessions/{session_id}``)."""
        return self._call(_api.end_session(session_id, user_id))

    # -- service --------------------------------------------------------------

    def health(self) -> Health:
        """Service status (``GET /api/health``, no key needed)."""
        return self._call(_api.health())

    def ready(self) -> Readiness:
        """Whether every backend answers (``GET /api/ready``, no key needed); a service that
        is not ready answers with ``status="unavailable"`` and the ``failing`` checks."""
        return self._call(_api.ready())

    def check_auth(self) -> AuthCheck:
        """Validate the API key (``GET /api/auth/check``).

        Raises:
            Mem0AuthenticationError: the key is missing or wrong.
        """
        return self._call(_api.check_auth())

    def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI 3 document (``GET /api/openapi.json``)."""
        return self._call(_api.openapi())

    # -- API keys (admin key only) --------------------------------------------

    def list_users(
        self, *, prefix: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> UserPage:
        """The users that have memories, by id, with their counts and last activity
        (``GET /api/users``, admin key only); ``prefix`` narrows to ids starting with it."""
        return self._call(_api.list_users(prefix, limit, offset))

    def create_key(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        access: str | None = None,
        name: str | None = None,
    ) -> CreatedApiKey:
        """Create a key bound to a user and/or agent (``POST /api/keys``).

        ``access`` is ``"read"`` or ``"read_write"`` (the default). The secret is in the
        result's ``key`` and is never shown again.
        """
        return self._call(_api.create_key(user_id, agent_id, access, name))

    def list_keys(self, *, include_revoked: bool = False) -> ApiKeyList:
        """The scoped keys, without their secrets (``GET /api/keys``)."""
        return self._call(_api.list_keys(include_revoked))

    def revoke_key(self, key_id: str) -> RevokedApiKey:
        """Revoke a scoped key (``DELETE /api/keys/{id}``)."""
        return self._call(_api.revoke_key(key_id))
