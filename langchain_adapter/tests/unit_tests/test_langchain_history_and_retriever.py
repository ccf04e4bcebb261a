"""Mem0ChatMessageHistory and Mem0Retriever against a mocked service."""

from __future__ import annotations

import json
from typing import Any

import http_mock
import pytest
from http_mock import matchers
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from mem0_langchain import Mem0ChatMessageHistory, Mem0Client, Mem0Retriever

BASE = "http://mem0.test"


def _turn(
    memory_json: Any, memory_id: str, role: str, content: str, at: str, **meta: Any
) -> dict[str, Any]:
    return memory_json(
        id=memory_id,
        content=content,
        type="interaction",
        session_id="s1",
        metadata={"role": role, "seq": 0, **meta},
        created_at=at,
    )


def test_add_messages_stores_one_session_memory_per_message_with_its_role(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    for _ in range(3):
        mocked.post(f"{BASE}/api/memories", json=memory_json(), status=201)
    history = Mem0ChatMessageHistory("user123", "s1", client=client, agent_id="bot")
    history.add_messages(
        [
            SystemMessage(content="Be brief"),
            HumanMessage(content="Hi, I am Ann"),
            AIMessage(content="Hello Ann"),
        ]
    )
    sent = [json.loads(call.request.body) for call in mocked.calls]
    seqs = [body["metadata"].pop("seq") for body in sent]
    assert seqs == sorted(seqs)
    assert sent == [
        {
            "user_id": "user123",
            "content": text,
            "type": "interaction",
            "session_id": "s1",
            "agent_id": "bot",
            "metadata": {"role": role, "source": "langchain"},
        }
        for role, text in (
            ("system", "Be brief"),
            ("user", "Hi, I am Ann"),
            ("assistant", "Hello Ann"),
        )
    ]


def test_tool_calls_survive_the_round_trip(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    call = AIMessage(
        content="", tool_calls=[{"name": "weather", "args": {"city": "Oslo"}, "id": "c1"}]
    )
    result = ToolMessage(content="-3C", tool_call_id="c1")
    mocked.post(f"{BASE}/api/memories", json=memory_json(), status=201)
    mocked.post(f"{BASE}/api/memories", json=memory_json(), status=201)
    history = Mem0ChatMessageHistory("user123", "s1", client=client)
    history.add_messages([call, result])
    stored = [json.loads(c.request.body) for c in mocked.calls]
    assert stored[0]["content"] == "(called tools: weather)"
    assert stored[1]["content"] == "-3C"
    assert [s["metadata"]["role"] for s in stored] == ["assistant", "tool"]

    mocked.get(
        f"{BASE}/api/memories/user/user123",
        json={
            "memories": [
                _turn(
                    memory_json,
                    "m1",
                    "assistant",
                    s["content"],
                    "2025-05-18T10:00:00Z",
                    message=s["metadata"]["message"],
                )
                if i == 0
                else _turn(
                    memory_json,
                    "m2",
                    "tool",
                    s["content"],
                    "2025-05-18T10:00:01Z",
                    message=s["metadata"]["message"],
                )
                for i, s in enumerate(stored)
            ],
            "total": 2,
            "limit": 100,
            "offset": 0,
        },
    )
    restored = history.messages
    assert isinstance(restored[0], AIMessage)
    assert restored[0].tool_calls[0]["args"] == {"city": "Oslo"}
    assert isinstance(restored[1], ToolMessage) and restored[1].tool_call_id == "c1"


def test_messages_are_read_oldest_first_and_skip_other_memories(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    same_tick = "2025-05-18T10:00:01Z"
    mocked.get(
        f"{BASE}/api/memories/user/user123",
        json={
            "memories": [
                _turn(memory_json, "m1", "user", "Hi, I am Ann", "2025-05-18T10:00:00Z"),
                # Saved in the same clock tick: the client-side sequence decides.
                {
                    **_turn(memory_json, "m3", "user", "Remember my dog Rex", same_tick),
                    "metadata": {"role": "user", "seq": 2},
                },
                {
                    **_turn(memory_json, "m2", "assistant", "Hello Ann", same_tick),
                    "metadata": {"role": "assistant", "seq": 1},
                },
            ],
            "total": 4,
            "limit": 3,
            "offset": 0,
        },
        match=[
            matchers.query_param_matcher(
                {
                    "type": "interaction",
                    "session_id": "s1",
                    "limit": "100",
                    "offset": "0",
                    "order": "asc",
                },
                strict_match=True,
            )
        ],
    )
    mocked.get(
        f"{BASE}/api/memories/user/user123",
        json={
            # An interaction written by something else (no role): not a chat turn.
            "memories": [
                memory_json(
                    id="m9", type="interaction", session_id="s1", content="User asked: x. Answer: y"
                )
            ],
            "total": 4,
            "limit": 100,
            "offset": 3,
        },
        match=[
            matchers.query_param_matcher(
                {
                    "type": "interaction",
                    "session_id": "s1",
                    "limit": "100",
                    "offset": "3",
                    "order": "asc",
                }
            )
        ],
    )
    history = Mem0ChatMessageHistory("user123", "s1", client=client)
    assert history.messages == [
        HumanMessage(content="Hi, I am Ann", id="m1"),
        AIMessage(content="Hello Ann", id="m2"),
        HumanMessage(content="Remember my dog Rex", id="m3"),
    ]


def test_max_messages_reads_only_the_latest(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.get(
        f"{BASE}/api/memories/user/user123",
        json={
            "memories": [
                _turn(memory_json, "m4", "assistant", "Rex is a good name", "2025-05-18T10:00:03Z"),
                _turn(memory_json, "m3", "user", "My dog is Rex", "2025-05-18T10:00:02Z"),
            ],
            "total": 4,
            "limit": 2,
            "offset": 0,
        },
        match=[
            matchers.query_param_matcher(
                {"type": "interaction", "session_id": "s1", "limit": "2", "order": "desc"},
                strict_match=True,
            )
        ],
    )
    history = Mem0ChatMessageHistory("user123", "s1", client=client, max_messages=2)
    assert [m.content for m in history.messages] == ["My dog is Rex", "Rex is a good name"]


def test_clear_deletes_only_the_chat_turns(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.get(
        f"{BASE}/api/memories/user/user123",
        json={
            "memories": [
                _turn(memory_json, "m1", "user", "hi", "2025-05-18T10:00:00Z"),
                memory_json(id="keep", type="interaction", session_id="s1"),
                _turn(memory_json, "m2", "assistant", "hello", "2025-05-18T10:00:01Z"),
            ],
            "total": 3,
            "limit": 100,
            "offset": 0,
        },
    )
    mocked.delete(f"{BASE}/api/memories/m1", json={"success": True, "message": "ok"})
    mocked.delete(f"{BASE}/api/memories/m2", json={"success": True, "message": "ok"})
    Mem0ChatMessageHistory("user123", "s1", client=client).clear()
    assert [c.request.method for c in mocked.calls] == ["GET", "DELETE", "DELETE"]


def test_history_needs_a_user_and_a_session(client: Mem0Client) -> None:
    with pytest.raises(ValueError, match="user_id and session_id"):
        Mem0ChatMessageHistory("user123", "", client=client)


def test_retriever_returns_documents_with_relevance_scores(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        json={
            "memories": [
                memory_json(id="m1", relevance_score=0.92, metadata={"source": "settings"}),
                memory_json(id="m2", content="No push notifications", relevance_score=0.85),
            ],
            "total": 2,
        },
        match=[
            matchers.json_params_matcher(
                {
                    "user_id": "user123",
                    "query": "How to notify the user?",
                    "types": ["preference"],
                    "relevance_threshold": 0.5,
                    "limit": 2,
                    "agent_id": "a1",
                },
                strict_match=True,
            )
        ],
    )
    retriever = Mem0Retriever(
        client=client,
        user_id="user123",
        agent_id="a1",
        types=["preference"],
        relevance_threshold=0.5,
        limit=2,
    )
    docs = retriever.invoke("How to notify the user?")
    assert docs[0] == Document(
        id="m1",
        page_content="Prefers email notifications",
        metadata={
            "id": "m1",
            "relevance_score": 0.92,
            "type": "preference",
            "user_id": "user123",
            "session_id": None,
            "agent_id": None,
            "created_at": "2025-05-18T10:30:05+00:00",
            "updated_at": "2025-05-18T10:30:05+00:00",
            "memory_metadata": {"source": "settings"},
        },
    )
    assert [d.metadata["relevance_score"] for d in docs] == [0.92, 0.85]


def test_retriever_leaves_defaults_to_the_service(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        json={"memories": [], "total": 0},
        match=[matchers.json_params_matcher({"user_id": "u", "query": "q"}, strict_match=True)],
    )
    assert Mem0Retriever(client=client, user_id="u").invoke("q") == []
