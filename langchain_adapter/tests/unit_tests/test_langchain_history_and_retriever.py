"""Mem0ChatMessageHistory and Mem0Retriever against a mocked service."""

from __future__ import annotations

import json
from typing import Any

import http_mock
import pytest
from http_mock import matchers
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from mem0_langchain import Mem0ChatMessageHistory, Mem0Client, Mem0Retriever

BASE = "http://mem0.test"


LOG = f"{BASE}/api/sessions/s1/messages"


def _logged(seq: int, role: str, content: str, **metadata: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "role": role,
        "content": content,
        "metadata": metadata,
        "created_at": "2025-05-18T10:00:00Z",
        "stored_at": "2025-05-18T10:00:00Z",
    }


def test_add_messages_appends_to_the_session_log_in_one_request(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(LOG, json={"session_id": "s1", "user_id": "user123", "messages": []}, status=201)
    history = Mem0ChatMessageHistory("user123", "s1", client=client, agent_id="bot")
    history.add_messages(
        [
            SystemMessage(content="Be brief"),
            HumanMessage(content="Hi, I am Ann"),
            AIMessage(content="Hello Ann"),
        ]
    )
    assert [json.loads(call.request.body) for call in mocked.calls] == [
        {
            "user_id": "user123",
            "agent_id": "bot",
            "messages": [
                {"role": role, "content": text, "metadata": {"source": "langchain"}}
                for role, text in (
                    ("system", "Be brief"),
                    ("user", "Hi, I am Ann"),
                    ("assistant", "Hello Ann"),
                )
            ],
        }
    ]


def test_max_messages_reads_the_last_window_of_the_log(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.get(
        LOG,
        json={
            "session_id": "s1",
            "user_id": "user123",
            "messages": [
                _logged(3, "user", "My dog is Rex"),
                _logged(4, "assistant", "Rex is a good name"),
            ],
            "total": 4,
            "has_more": True,
            "next_before": 3,
        },
        match=[
            matchers.query_param_matcher({"user_id": "user123", "limit": "2"}, strict_match=True)
        ],
    )
    history = Mem0ChatMessageHistory("user123", "s1", client=client, max_messages=2)
    assert [m.content for m in history.messages] == ["My dog is Rex", "Rex is a good name"]
    assert len(mocked.calls) == 1  # a full window needs no look at older formats


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
