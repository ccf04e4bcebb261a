"""Mem0RememberTool and Mem0RecallTool: what a model's tool call sends and gets back."""

from __future__ import annotations

import json
from typing import Any

import http_mock
from http_mock import matchers
from langchain_core.messages import ToolMessage

from mem0_langchain import Mem0Client, Mem0RecallTool, Mem0RememberTool

BASE = "http://mem0.test"


def test_remember_stores_into_the_applications_scope_not_the_models(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories",
        status=201,
        json=memory_json(content="Is allergic to peanuts", type="fact"),
        match=[
            matchers.json_params_matcher(
                {
                    "user_id": "user123",
                    "content": "Is allergic to peanuts",
                    "type": "fact",
                    "agent_id": "chef",
                    "metadata": {"source": "langchain-tool"},
                },
                strict_match=True,
            )
        ],
    )
    tool = Mem0RememberTool(client=client, user_id="user123", agent_id="chef")
    # A model's tool call; a user_id it slips in is not part of the schema and is ignored.
    message = tool.invoke(
        {
            "type": "tool_call",
            "id": "call-1",
            "name": "remember",
            "args": {"content": "Is allergic to peanuts", "user_id": "someone-else"},
        }
    )
    assert isinstance(message, ToolMessage)
    assert message.tool_call_id == "call-1"
    assert message.content == "Remembered (fact): Is allergic to peanuts"


def test_remember_schema_offers_only_content_and_type(client: Mem0Client) -> None:
    schema = Mem0RememberTool(client=client, user_id="u").tool_call_schema.model_json_schema()
    assert set(schema["properties"]) == {"content", "type"}
    assert schema["properties"]["type"]["enum"] == ["fact", "preference", "pattern"]
    assert schema["required"] == ["content"]


def test_recall_lists_relevant_memories(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        json={
            "memories": [
                memory_json(content="Is allergic to peanuts", type="fact", relevance_score=0.8),
                memory_json(content="Likes spicy food", type="preference", relevance_score=0.75),
            ],
            "total": 2,
        },
        match=[
            matchers.json_params_matcher(
                {
                    "user_id": "user123",
                    "query": "food restrictions",
                    "types": ["fact", "preference"],
                    "limit": 3,
                },
                strict_match=True,
            )
        ],
    )
    tool = Mem0RecallTool(client=client, user_id="user123", types=["fact", "preference"], limit=3)
    assert tool.invoke({"query": "food restrictions"}) == (
        "- (fact) Is allergic to peanuts\n- (preference) Likes spicy food"
    )


def test_recall_says_so_when_nothing_is_relevant(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(f"{BASE}/api/memories/search", json={"memories": [], "total": 0})
    tool = Mem0RecallTool(client=client, user_id="user123")
    assert (
        tool.invoke({"query": "favourite band"}) == "Nothing relevant is remembered about the user."
    )
    assert json.loads(mocked.calls[0].request.body)["query"] == "favourite band"
