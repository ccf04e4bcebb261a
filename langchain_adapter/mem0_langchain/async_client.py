"""Asynchronous HTTP client for the Mem0 memory service, on httpx (a LangChain dependency)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from langchain_core.messages import BaseMessage

from . import _api
from ._api import ClientConfig, MetadataFilter, Timeout, When, connection_error, httpx_timeout
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


class AsyncMem0Client(ClientConfig):
    """The async twin of :class:`~mem0_langchain.Mem0Client`: the same methods, awaited,
    with the same retry policy.

    Example:
        .. code-block:: python

            async with AsyncMem0Client("http://localhost:3456", api_key="secret") as client:
                await client.add("Likes jazz", user_id="u1", type="preference")
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: Timeout | None = None,
        max_retries: int = 3,
        backoff_factor: float = 0.3,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, max_retries, backoff_factor)
        self._owns_client = http_client is None
        if http_client is None:
            http_client = httpx.AsyncClient(timeout=httpx_timeout(self.timeout))
        self.http_client = http_client
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client_for_this_loop(self) -> httpx.AsyncClient:
        # An httpx client's pooled connections belong to the event loop that opened them. A
        # script that calls asyncio.run() once per step would reuse a connection of a closed
        # loop, so a client this object made is replaced when the loop changes.
        loop = asyncio.get_running_loop()
        if self._owns_client and self._loop is not None and self._loop is not loop:
            self.http_client = httpx.AsyncClient(timeout=httpx_timeout(self.timeout))
        self._loop = loop
        return self.http_client

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        answers_with: frozenset[int] = frozenset(),
    ) -> Any:
        """Send one request and return the decoded JSON answer, raising on errors."""
        url = self.base_url + path
        attempt = 0
        while True:
            try:
                response = await self._client_for_this_loop().request(
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
                await response.aclose()
            await asyncio.sleep(delay)
            attempt += 1

    async def _call(self, call: _api.Call[T]) -> T:
        body = await self.request(
            call.method,
            call.path,
            params=call.params,
            json=call.json,
            headers=call.headers,
            answers_with=call.answers_with,
        )
        return call.parse(body)

    async def aclose(self) -> None:
        """Close the underlying httpx client (only if this client created it)."""
        if self._owns_client:
            await self.http_client.aclose()

    async def __aenter__(self) -> AsyncMem0Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def add(
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
        """See :meth:`Mem0Client.add`."""
        return await self._call(
            _api.add(
                content, user_id, type, session_id, agent_id, metadata, expires_at, ttl_seconds
            )
        )

    async def add_conversation(
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
        """See :meth:`Mem0Client.add_conversation`."""
        return await self._call(
            _api.add_conversation(
                messages, user_id, infer, session_id, agent_id, metadata, expires_at, ttl_seconds
            )
        )

    async def add_batch(self, memories: Sequence[Mapping[str, Any]]) -> BatchResult:
        """See :meth:`Mem0Client.add_batch`."""
        return await self._call(_api.add_batch(memories))

    async def search(
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
        """See :meth:`Mem0Client.search`."""
        return await self._call(
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

    async def get(self, memory_id: str) -> Memory:
        """See :meth:`Mem0Client.get`."""
        return await self._call(_api.get(memory_id))

    async def history(self, memory_id: str) -> list[HistoryEvent]:
        """See :meth:`Mem0Client.history`."""
        return await self._call(_api.history(memory_id))

    async def get_all(
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
        """See :meth:`Mem0Client.get_all`."""
        return await self._call(
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

    async def iter_all(
        self,
        user_id: str,
        *,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        metadata: MetadataFilter | None = None,
        order: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Memory]:
        """See :meth:`Mem0Client.iter_all`."""
        offset = 0
        while True:
            page = await self.get_all(
                user_id,
                type=type,
                session_id=session_id,
                agent_id=agent_id,
                metadata=metadata,
                limit=page_size,
                offset=offset,
                order=order,
            )
            for memory in page.memories:
                yield memory
            offset += len(page.memories)
            if not page.memories or offset >= page.total:
                return

    async def export(self, user_id: str) -> Export:
        """See :meth:`Mem0Client.export`."""
        return await self._call(_api.export(user_id))

    async def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        type: MemoryType | None = None,
        expires_at: When = None,
        ttl_seconds: int | None = None,
    ) -> Memory:
        """See :meth:`Mem0Client.update`."""
        return await self._call(
            _api.update(memory_id, content, metadata, type, expires_at, ttl_seconds)
        )

    async def delete(self, memory_id: str, *, erase: bool = False) -> DeleteResult:
        """See :meth:`Mem0Client.delete`."""
        return await self._call(_api.delete(memory_id, erase))

    async def delete_all(
        self,
        user_id: str,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        type: MemoryType | None = None,
    ) -> DeleteResult:
        """See :meth:`Mem0Client.delete_all`."""
        return await self._call(_api.delete_all(user_id, session_id, agent_id, type))

    async def append_messages(
        self,
        session_id: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        user_id: str,
        agent_id: str | None = None,
    ) -> AppendedMessages:
        """See :meth:`Mem0Client.append_messages`."""
        return await self._call(_api.append_messages(session_id, user_id, messages, agent_id))

    async def get_messages(
        self,
        session_id: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        limit: int | None = None,
        before: int | None = None,
        after: int | None = None,
    ) -> MessageLog:
        """See :meth:`Mem0Client.get_messages`."""
        call = _api.get_messages(session_id, user_id, agent_id, limit, before, after)
        return await self._call(call)

    async def clear_messages(
        self, session_id: str, *, user_id: str, agent_id: str | None = None
    ) -> DeleteResult:
        """See :meth:`Mem0Client.clear_messages`."""
        return await self._call(_api.clear_messages(session_id, user_id, agent_id))

    async def end_session(self, session_id: str, *, user_id: str) -> DeleteResult:
        """See :meth:`Mem0Client.end_session`."""
        return await self._call(_api.end_session(session_id, user_id))

    async def health(self) -> Health:
        """See :meth:`Mem0Client.health`."""
        return await self._call(_api.health())

    async def ready(self) -> Readiness:
        """See :meth:`Mem0Client.ready`."""
        return await self._call(_api.ready())

    async def check_auth(self) -> AuthCheck:
        """See :meth:`Mem0Client.check_auth`."""
        return await self._call(_api.check_auth())

    async def openapi(self) -> dict[str, Any]:
        """See :meth:`Mem0Client.openapi`."""
        return await self._call(_api.openapi())

    async def list_users(
        self, *, prefix: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> UserPage:
        """See :meth:`Mem0Client.list_users`."""
        return await self._call(_api.list_users(prefix, limit, offset))

    async def create_key(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        access: str | None = None,
        name: str | None = None,
    ) -> CreatedApiKey:
        """See :meth:`Mem0Client.create_key`."""
        return await self._call(_api.create_key(user_id, agent_id, access, name))

    async def list_keys(self, *, include_revoked: bool = False) -> ApiKeyList:
        """See :meth:`Mem0Client.list_keys`."""
        return await self._call(_api.list_keys(include_revoked))

    async def revoke_key(self, key_id: str) -> RevokedApiKey:
        """See :meth:`Mem0Client.revoke_key`."""
        return await self._call(_api.revoke_key(key_id))
