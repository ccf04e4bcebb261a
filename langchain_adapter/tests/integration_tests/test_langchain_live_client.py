"""Mem0Client and AsyncMem0Client against the real service."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.support.service_process import free_port

from mem0_langchain import (
    AsyncMem0Client,
    Mem0AuthenticationError,
    Mem0BadRequestError,
    Mem0Client,
    Mem0ConnectionError,
    Mem0NotFoundError,
    Mem0PayloadTooLargeError,
)


def test_memory_lifecycle(mem0: Mem0Client, user_id: str) -> None:
    created = mem0.add(
        "Prefers email notifications",
        user_id=user_id,
        type="preference",
        session_id="s1",
        agent_id="helper",
        metadata={"source": "user_settings"},
    )
    assert created.id.startswith("mem_")
    assert (created.user_id, created.type, created.session_id, created.agent_id) == (
        user_id,
        "preference",
        "s1",
        "helper",
    )
    assert created.created_at is not None and created.created_at.tzinfo is not None

    fetched = mem0.get(created.id)
    assert fetched.content == "Prefers email notifications"
    assert fetched.metadata == {"source": "user_settings"}

    updated = mem0.update(
        created.id, content="Prefers email and SMS", metadata={"updated_by": "test"}
    )
    assert updated.content == "Prefers email and SMS"
    assert updated.metadata == {"updated_by": "test"}
    assert updated.updated_at is not None and updated.updated_at >= created.created_at

    assert mem0.delete(created.id).success is True
    with pytest.raises(Mem0NotFoundError) as raised:
        mem0.get(created.id)
    assert raised.value.status_code == 404
    assert raised.value.body["error"] == "Not Found"


def test_search_ranks_the_relevant_memory_first(mem0: Mem0Client, user_id: str) -> None:
    mem0.add("Prefers email notifications over push", user_id=user_id, type="preference")
    mem0.add("Has a dog called Rex", user_id=user_id, type="fact")
    mem0.add("Works as a nurse in Porto", user_id=user_id, type="fact")

    found = mem0.search(
        "What is the name of my dog?", user_id=user_id, relevance_threshold=0.0, limit=3
    )
    assert found.memories[0].content == "Has a dog called Rex"
    scores = [m.relevance_score or 0.0 for m in found.memories]
    assert scores == sorted(scores, reverse=True)

    only_preferences = mem0.search(
        "notifications", user_id=user_id, types=["preference"], relevance_threshold=0.0
    )
    assert [m.type for m in only_preferences.memories] == ["preference"]

    recent = mem0.search(user_id=user_id, limit=2)
    assert [m.content for m in recent.memories] == [
        "Works as a nurse in Porto",
        "Has a dog called Rex",
    ]


def test_listing_pages_filters_and_bulk_delete(mem0: Mem0Client, user_id: str) -> None:
    for n in range(5):
        mem0.add(f"turn {n}", user_id=user_id, type="interaction", session_id="chat")
    mem0.add("Lives in Lisbon", user_id=user_id, type="fact")

    page = mem0.get_all(user_id, session_id="chat", limit=2, offset=1, order="asc")
    assert (page.total, page.limit, page.offset) == (5, 2, 1)
    assert [m.content for m in page.memories] == ["turn 1", "turn 2"]

    everything = [
        m.content for m in mem0.iter_all(user_id, type="interaction", order="asc", page_size=2)
    ]
    assert everything == [f"turn {n}" for n in range(5)]

    assert mem0.delete_all(user_id, session_id="chat").deleted == 5
    assert [m.content for m in mem0.iter_all(user_id)] == ["Lives in Lisbon"]
    assert mem0.delete_all(user_id).deleted == 1
    assert mem0.get_all(user_id).total == 0


def test_service_endpoints(mem0: Mem0Client) -> None:
    assert mem0.health().status == "ok"
    assert mem0.check_auth().authenticated is True
    document = mem0.openapi()
    assert "/api/memories" in document["paths"]


def test_wrong_key_is_rejected(live_service: Any) -> None:
    client = Mem0Client(live_service.url, api_key="not-the-key")
    assert client.health().status == "ok"  # public
    with pytest.raises(Mem0AuthenticationError) as raised:
        client.check_auth()
    assert raised.value.status_code == 401


def test_validation_errors_name_the_field(mem0: Mem0Client, user_id: str) -> None:
    with pytest.raises(Mem0BadRequestError) as raised:
        mem0.add("   ", user_id=user_id)
    assert raised.value.field == "content"
    with pytest.raises(Mem0BadRequestError) as raised:
        mem0.search("q", user_id=user_id, relevance_threshold=1.5)
    assert raised.value.field == "relevance_threshold"


def test_async_client_round_trip(live_service: Any, user_id: str) -> None:
    async def scenario() -> None:
        async with AsyncMem0Client(live_service.url, api_key=live_service.api_key) as client:
            created = await client.add("Likes jazz", user_id=user_id, type="preference")
            found = await client.search("music taste", user_id=user_id, relevance_threshold=0.0)
            assert [m.id for m in found.memories] == [created.id]
            assert (
                await client.update(created.id, content="Likes jazz and blues")
            ).content == "Likes jazz and blues"
            assert [m.id async for m in client.iter_all(user_id)] == [created.id]
            assert (await client.delete_all(user_id)).deleted == 1
            with pytest.raises(Mem0NotFoundError):
                await client.get(created.id)

    asyncio.run(scenario())


def test_oversized_body_raises_payload_too_large(mem0: Mem0Client, user_id: str) -> None:
    # The service's default body limit is 1 MiB.
    with pytest.raises(Mem0PayloadTooLargeError) as raised:
        mem0.add("x" * (1024 * 1024 + 1), user_id=user_id)
    assert raised.value.status_code == 413
    assert raised.value.body["error"] == "Payload Too Large"


def test_a_stopped_service_raises_connection_error() -> None:
    client = Mem0Client(
        f"http://127.0.0.1:{free_port()}", api_key="k", max_retries=1, backoff_factor=0
    )
    with pytest.raises(Mem0ConnectionError, match="cannot reach the Mem0 service"):
        client.health()
