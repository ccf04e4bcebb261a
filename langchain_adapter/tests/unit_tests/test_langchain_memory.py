"""Mem0Memory: what it stores, what it loads, and how it is configured."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from typing import Any

import http_mock
import pytest
from http_mock import matchers
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from mem0_langchain import Mem0Client, Mem0Memory, Mem0UnavailableError

BASE = "http://mem0.test"


def _memory(client: Mem0Client, **kwargs: Any) -> Mem0Memory:
    return Mem0Memory(client=client, user_id="user123", **kwargs)


def test_save_context_stores_the_exchange_as_an_interaction(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(f"{BASE}/api/memories", json=memory_json(), status=201)
    _memory(client, session_id="s1", agent_id="a1").save_context(
        {"input": "I live in Lisbon"}, {"output": "Noted!"}
    )
    sent = json.loads(mocked.calls[0].request.body)
    timestamp = sent["metadata"].pop("timestamp")
    assert timestamp.endswith("Z")
    assert sent == {
        "user_id": "user123",
        "content": "User asked: I live in Lisbon. Answer: Noted!",
        "type": "interaction",
        "session_id": "s1",
        "agent_id": "a1",
        "metadata": {"source": "langchain", "input": "I live in Lisbon", "output": "Noted!"},
    }


def test_save_context_uses_the_configured_keys_and_template(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(f"{BASE}/api/memories", json=memory_json(), status=201)
    memory = _memory(
        client,
        input_key="question",
        output_key="answer",
        memory_type="fact",
        exchange_template="Q: {input} / A: {output}",
    )
    memory.save_context(
        {"question": "Favourite colour?", "language": "en"},
        {"answer": AIMessage(content="Green"), "sources": []},
    )
    sent = json.loads(mocked.calls[0].request.body)
    assert (sent["content"], sent["type"]) == ("Q: Favourite colour? / A: Green", "fact")


def test_ambiguous_keys_are_reported_clearly(client: Mem0Client) -> None:
    memory = _memory(client)
    with pytest.raises(ValueError, match="set input_key"):
        memory.save_context({"a": "1", "b": "2"}, {"output": "x"})
    with pytest.raises(ValueError, match="set output_key"):
        memory.save_context({"input": "1"}, {"x": "1", "y": "2"})


def test_load_searches_the_scope_with_the_input_as_query(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        json={
            "memories": [
                memory_json(
                    id="m1",
                    content="User asked: I live in Lisbon. Answer: Noted!",
                    relevance_score=0.9,
                ),
                memory_json(id="m2", content="Prefers email", relevance_score=0.8),
            ],
            "total": 2,
        },
        match=[
            matchers.json_params_matcher(
                {
                    "user_id": "user123",
                    "query": "Where do I live?",
                    "session_id": "s1",
                    "relevance_threshold": 0.6,
                    "limit": 2,
                    "types": ["interaction", "fact"],
                },
                strict_match=True,
            )
        ],
    )
    memory = _memory(
        client,
        session_id="s1",
        relevance_threshold=0.6,
        limit=2,
        search_types=["interaction", "fact"],
    )
    loaded = memory.load_memory_variables({"input": "Where do I live?"})
    assert loaded == {
        "history": (
            "Previous context:\n- User asked: I live in Lisbon. Answer: Noted!\n- Prefers email\n"
        )
    }


def test_default_load_matches_the_guide_request(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    # The guide's loadMemoryVariables: user, session, threshold 0.7, limit 5.
    mocked.post(
        f"{BASE}/api/memories/search",
        json={"memories": [], "total": 0},
        match=[
            matchers.json_params_matcher(
                {"user_id": "user123", "session_id": "s1", "relevance_threshold": 0.7, "limit": 5},
                strict_match=True,
            )
        ],
    )
    memory = _memory(client, session_id="s1", query_from_input=False)
    assert memory.load_memory_variables({"input": "hi"}) == {"history": ""}


def test_load_can_return_messages_in_time_order(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    later = memory_json(
        id="m2",
        content="User asked: And my dog? Answer: Rex.",
        type="interaction",
        metadata={"input": "And my dog?", "output": "Rex."},
        created_at="2025-05-18T10:31:00Z",
        relevance_score=0.95,
    )
    earlier = memory_json(
        id="m1",
        content="User asked: My name? Answer: Ann.",
        type="interaction",
        metadata={"input": "My name?", "output": "Ann."},
        created_at="2025-05-18T10:30:00Z",
        relevance_score=0.9,
    )
    fact = memory_json(
        id="m3", content="Likes jazz", type="preference", created_at="2025-05-19T00:00:00Z"
    )
    mocked.post(
        f"{BASE}/api/memories/search", json={"memories": [later, earlier, fact], "total": 3}
    )
    memory = _memory(client, return_messages=True, memory_key="chat_history")
    assert memory.memory_variables == ["chat_history"]
    assert memory.load_memory_variables({"input": "hello"}) == {
        "chat_history": [
            HumanMessage(content="My name?"),
            AIMessage(content="Ann."),
            HumanMessage(content="And my dog?"),
            AIMessage(content="Rex."),
            SystemMessage(content="Likes jazz"),
        ]
    }


def test_clear_deletes_the_session(mocked: http_mock.RequestsMock, client: Mem0Client) -> None:
    mocked.delete(
        f"{BASE}/api/memories/user/user123",
        json={"success": True, "deleted": 3, "message": "deleted"},
        match=[matchers.query_param_matcher({"session_id": "s1"}, strict_match=True)],
    )
    _memory(client, session_id="s1").clear()


def test_clear_with_an_agent_deletes_only_that_agents_memories(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.delete(
        f"{BASE}/api/memories/user/user123",
        json={"success": True, "deleted": 2, "message": "deleted"},
        match=[matchers.query_param_matcher({"agent_id": "a1"}, strict_match=True)],
    )
    _memory(client, agent_id="a1").clear()


def test_service_errors_raise_by_default(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        status=503,
        json={"error": "Service Unavailable", "message": "vector store down"},
    )
    with pytest.raises(Mem0UnavailableError):
        _memory(client).load_memory_variables({"input": "x"})


def test_fail_silently_logs_and_goes_on(
    mocked: http_mock.RequestsMock, client: Mem0Client, caplog: pytest.LogCaptureFixture
) -> None:
    down = {"error": "Service Unavailable", "message": "vector store down"}
    mocked.post(f"{BASE}/api/memories/search", status=503, json=down)
    mocked.post(f"{BASE}/api/memories", status=503, json=down)
    memory = _memory(client, fail_silently=True, return_messages=True)
    with caplog.at_level(logging.WARNING, logger="mem0_langchain.memory"):
        assert memory.load_memory_variables({"input": "x"}) == {"history": []}
        memory.save_context({"input": "x"}, {"output": "y"})
    assert caplog.text.count("vector store down") == 2


def test_missing_langchain_classic_gives_an_actionable_import_error() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["langchain_classic"] = None  # as if it were not installed
        sys.modules["langchain_classic.base_memory"] = None
        import mem0_langchain
        client = mem0_langchain.Mem0Client  # the rest of the package still works
        try:
            from mem0_langchain import Mem0Memory
        except ImportError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "pip install 'mem0-langchain[classic]'" in done.stdout


def test_a_very_long_exchange_keeps_its_text_only_in_the_content(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    # The service caps metadata at 16 KiB; the content has no such cap.
    mocked.post(f"{BASE}/api/memories", json=memory_json(), status=201)
    long_answer = "word " * 4000
    _memory(client).save_context({"input": "Summarise the book"}, {"output": long_answer})
    sent = json.loads(mocked.calls[0].request.body)
    assert sent["content"].endswith(long_answer)
    assert set(sent["metadata"]) == {"source", "timestamp"}


def test_query_less_load_accepts_memories_without_scores(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        json={"memories": [memory_json(content="Likes jazz", relevance_score=None)], "total": 1},
    )
    loaded = _memory(client, query_from_input=False).load_memory_variables({})
    assert loaded == {"history": "Previous context:\n- Likes jazz\n"}


def test_infer_lets_the_service_learn_from_the_exchange(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories",
        status=201,
        json={"results": [], "extraction": {"status": "done"}},
        match=[
            matchers.json_params_matcher(
                {
                    "user_id": "user123",
                    "messages": [
                        {"role": "user", "content": "I am vegetarian"},
                        {"role": "assistant", "content": "Noted"},
                    ],
                    "infer": True,
                    "session_id": "s1",
                    "metadata": {"source": "langchain"},
                },
                strict_match=True,
            )
        ],
    )
    _memory(client, session_id="s1", infer=True).save_context(
        {"input": "I am vegetarian"}, {"output": "Noted"}
    )


def test_infer_skips_empty_sides_and_empty_exchanges(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories",
        status=201,
        json={"results": [], "extraction": {"status": "done"}},
    )
    memory = _memory(client, infer=True)
    memory.save_context({"input": "I am vegetarian"}, {"output": ""})
    memory.save_context({"input": " "}, {"output": ""})  # nothing to learn: no request
    assert json.loads(mocked.calls[0].request.body)["messages"] == [
        {"role": "user", "content": "I am vegetarian"}
    ]
    assert len(mocked.calls) == 1


def test_a_very_long_input_is_searched_by_its_beginning(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    # The service refuses queries over 4000 characters; a pasted document must not break the chain.
    mocked.post(f"{BASE}/api/memories/search", json={"memories": [], "total": 0})
    document = "Summarise this: " + "lorem ipsum " * 1000
    _memory(client).load_memory_variables({"input": document})
    assert json.loads(mocked.calls[0].request.body)["query"] == document[:4000]
