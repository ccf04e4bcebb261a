"""Asynchronous HTTP client for the Mem0 memory service, on httpx (a LangChain dependency)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from .client import (
    DEFAULT_TIMEOUT,
    RequestSpec,
    Timeout,
    _ClientBase,
    _decode,
    _segment,
    add_request,
    delete_all_request,
    list_request,
    search_request,
    should_retry,
    update_request,
)
from .errors import Mem0ConnectionError
from .models import (
    AuthCheck,
    DeleteResult,
    Health,
    Memory,
    MemoryPage,
    MemoryType,
    SearchResult,
)


class AsyncMem0Client(_ClientBase):
    """The async twin of :class:`~mem0_langchain.Mem0Client`: same methods, awaited.

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
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff_factor: float = 0.3,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, max_retries, backoff_factor)
        self._owns_client = http_client is None
        if http_client is None:
            connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
            http_client = httpx.AsyncClient(
                # The transport retries failed connections, whatever the method.
                transport=httpx.AsyncHTTPTransport(retries=max_retries),
                timeout=httpx.Timeout(read, connect=connect),
            )
        self.http_client = http_client

    async def request(
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
        attempt = 0
        while True:
            try:
                response = await self.http_client.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={**self.headers, **(headers or {})},
                )
            except httpx.TimeoutException as exc:
                raise Mem0ConnectionError(f"{method} {url} timed out: {exc}") from exc
            except httpx.HTTPError as exc:
                raise Mem0ConnectionError(f"cannot reach the Mem0 service at {url}: {exc}") from exc
            if not should_retry(method, response.status_code) or attempt >= self.max_retries:
                return _decode(response.status_code, response.reason_phrase, response.text)
            await asyncio.sleep(_delay(response, self.backoff_factor * (2**attempt)))
            attempt += 1

    async def _send(self, spec: RequestSpec) -> Any:
        return await self.request(
            spec.method, spec.path, params=spec.params, json=spec.json, headers=spec.headers
        )

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
    ) -> Memory:
        """See :meth:`Mem0Client.add`."""
        spec = add_request(content, user_id, type, session_id, agent_id, metadata)
        return Memory.model_validate(await self._send(spec))

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
    ) -> SearchResult:
        """See :meth:`Mem0Client.search`."""
        spec = search_request(
            query, user_id, relevance_threshold, limit, types, session_id, agent_id
        )
        return SearchResult.model_validate(await self._send(spec))

    async def get(self, memory_id: str) -> Memory:
        """See :meth:`Mem0Client.get`."""
        path = f"/api/memories/{_segment(memory_id)}"
        return Memory.model_validate(await self.request("GET", path))

    async def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        type: MemoryType | None = None,
    ) -> Memory:
        """See :meth:`Mem0Client.update`."""
        spec = update_request(memory_id, content, metadata, type)
        return Memory.model_validate(await self._send(spec))

    async def delete(self, memory_id: str) -> DeleteResult:
        """See :meth:`Mem0Client.delete`."""
        path = f"/api/memories/{_segment(memory_id)}"
        return DeleteResult.model_validate(await self.request("DELETE", path))

    async def get_all(
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
        """See :meth:`Mem0Client.get_all`."""
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
        return MemoryPage.model_validate(await self._send(spec))

    async def iter_all(
        self,
        user_id: str,
        *,
        type: MemoryType | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
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
                limit=page_size,
                offset=offset,
                order=order,
            )
            for memory in page.memories:
                yield memory
            offset += len(page.memories)
            if not page.memories or offset >= page.total:
                return

    async def delete_all(
        self,
        user_id: str,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        type: MemoryType | None = None,
    ) -> DeleteResult:
        """See :meth:`Mem0Client.delete_all`."""
        spec = delete_all_request(user_id, session_id, agent_id, type)
        return DeleteResult.model_validate(await self._send(spec))

    async def health(self) -> Health:
        """See :meth:`Mem0Client.health`."""
        return Health.model_validate(await self.request("GET", "/api/health"))

    async def check_auth(self) -> AuthCheck:
        """See :meth:`Mem0Client.check_auth`."""
        return AuthCheck.model_validate(await self.request("GET", "/api/auth/check"))

    async def openapi(self) -> dict[str, Any]:
        """See :meth:`Mem0Client.openapi`."""
        document: dict[str, Any] = await self.request("GET", "/api/openapi.json")
        return document


def _delay(response: httpx.Response, backoff: float) -> float:
    """Seconds to wait before a retry: the service's Retry-After when it sends one."""
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return backoff
