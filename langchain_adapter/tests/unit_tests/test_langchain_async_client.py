"""AsyncMem0Client: same requests as the sync client, answered by httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mem0_langchain import (
    AsyncMem0Client,
    Mem0BadRequestError,
    Mem0ConnectionError,
    Mem0UnavailableError,
)

BASE = "http://mem0.test"
KEY = "test-key-123"


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> AsyncMem0Client:
    return AsyncMem0Client(
        BASE,
        api_key=KEY,
        backoff_factor=0,
        max_retries=2,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


def test_every_call_sends_the_same_requests_as_the_sync_client(memory_json: Any) -> None:
    seen: list[tuple[str, str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert request.headers["Accept"] == "application/json"
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, str(request.url), body))
        path = request.url.path
        if path == "/api/memories/search":
            return httpx.Response(
                200, json={"memories": [memory_json(relevance_score=0.8)], "total": 1}
            )
        if path.startswith("/api/memories/user/") and request.method == "GET":
            return httpx.Response(
                200, json={"memories": [memory_json()], "total": 1, "limit": 100, "offset": 0}
            )
        if path.startswith("/api/memories/user/"):
            return httpx.Response(200, json={"success": True, "deleted": 1, "message": "ok"})
        if path == "/api/health":
            return httpx.Response(200, json={"status": "ok", "version": "1"})
        if path == "/api/auth/check":
            return httpx.Response(200, json={"authenticated": True})
        if path == "/api/openapi.json":
            return httpx.Response(200, json={"openapi": "3.0.3"})
        if request.method == "DELETE":
            return httpx.Response(200, json={"success": True, "message": "deleted"})
        return httpx.Response(201 if request.method == "POST" else 200, json=memory_json())

    async def scenario() -> None:
        async with _client(handler) as client:
            assert (
                await client.add("c", user_id="u", type="fact", metadata={"k": 1})
            ).id == "mem_1"
            hits = await client.search("q", user_id="u", limit=2, types=["fact"])
            assert hits.memories[0].relevance_score == pytest.approx(0.8)
            await client.get("mem_1")
            await client.update("mem_1", content="new")
            await client.delete("mem_1")
            assert [m.id async for m in client.iter_all("u", session_id="s")] == ["mem_1"]
            assert (await client.delete_all("u", session_id="s")).deleted == 1
            assert (await client.health()).status == "ok"
            assert (await client.check_auth()).authenticated
            assert (await client.openapi())["openapi"] == "3.0.3"

    asyncio.run(scenario())
    assert seen == [
        (
            "POST",
            f"{BASE}/api/memories",
            {"user_id": "u", "content": "c", "type": "fact", "metadata": {"k": 1}},
        ),
        (
            "POST",
            f"{BASE}/api/memories/search",
            {"user_id": "u", "query": "q", "limit": 2, "types": ["fact"]},
        ),
        ("GET", f"{BASE}/api/memories/mem_1", None),
        ("PUT", f"{BASE}/api/memories/mem_1", {"content": "new"}),
        ("DELETE", f"{BASE}/api/memories/mem_1", None),
        ("GET", f"{BASE}/api/memories/user/u?session_id=s&limit=100&offset=0", None),
        ("DELETE", f"{BASE}/api/memories/user/u?session_id=s", None),
        ("GET", f"{BASE}/api/health", None),
        ("GET", f"{BASE}/api/auth/check", None),
        ("GET", f"{BASE}/api/openapi.json", None),
    ]


def test_error_answer_raises_with_the_api_json() -> None:
    body = {"error": "Bad Request", "message": "content is required", "field": "content"}

    async def scenario() -> None:
        client = _client(lambda request: httpx.Response(400, json=body))
        with pytest.raises(Mem0BadRequestError) as raised:
            await client.add("", user_id="u")
        assert (raised.value.field, raised.value.body) == ("content", body)

    asyncio.run(scenario())


def test_retries_follow_the_same_policy_as_the_sync_client(memory_json: Any) -> None:
    calls: list[tuple[str, int, str | None]] = []
    answers = {
        "GET": [503, 502, 200],  # reads: retried on any transient answer
        "POST": [503, 201, 502],  # creates: retried on 503, not after a proxy's 502
    }

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers[request.method].pop(0)
        calls.append((request.method, status, request.headers.get("Idempotency-Key")))
        if status >= 500:
            return httpx.Response(status, json={"error": "Service Unavailable", "message": "down"})
        return httpx.Response(status, json=memory_json())

    async def scenario() -> None:
        client = _client(handler)
        assert (await client.get("mem_1")).id == "mem_1"
        assert (await client.add("x", user_id="u")).id == "mem_1"
        with pytest.raises(Mem0UnavailableError):
            await client.add("y", user_id="u")

    asyncio.run(scenario())
    assert [(method, status) for method, status, _ in calls] == [
        ("GET", 503),
        ("GET", 502),
        ("GET", 200),
        ("POST", 503),
        ("POST", 201),
        ("POST", 502),
    ]
    keys = [key for method, _, key in calls if method == "POST"]
    assert keys[0] == keys[1] != keys[2]


def test_connection_failure_raises_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def scenario() -> None:
        with pytest.raises(Mem0ConnectionError, match="cannot reach"):
            await _client(handler).health()

    asyncio.run(scenario())


def test_rate_limited_requests_wait_as_the_service_asks(
    memory_json: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    answers = [
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "Too Many Requests"}),
        httpx.Response(429, json={"error": "Too Many Requests", "message": "slow down"}),
        httpx.Response(200, json={"memories": [], "total": 0}),
    ]

    async def scenario() -> None:
        client = _client(lambda request: answers.pop(0))
        assert (await client.search("q", user_id="u")).total == 0

    asyncio.run(scenario())
    assert waited == [7.0, 0.0]  # the service's Retry-After, then the backoff (factor 0 here)
