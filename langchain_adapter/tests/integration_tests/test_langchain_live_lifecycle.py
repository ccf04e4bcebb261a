"""The client's newer endpoints, and Mem0Memory(infer=True), against real services."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from mem0_langchain import (
    Mem0AuthenticationError,
    Mem0BadRequestError,
    Mem0Client,
    Mem0Memory,
    Mem0NotFoundError,
    Mem0PermissionError,
)


def test_conversation_without_inference_keeps_each_turn(mem0: Mem0Client, user_id: str) -> None:
    result = mem0.add_conversation(
        [{"role": "user", "content": "I am Ann"}, {"role": "assistant", "content": "Hi Ann"}],
        user_id=user_id,
        infer=False,
        session_id="chat",
    )
    assert result.extraction.status == "skipped"
    assert [(e.event, e.type, e.metadata["role"]) for e in result.results] == [
        ("ADD", "interaction", "user"),
        ("ADD", "interaction", "assistant"),
    ]


def test_batch_history_export_and_session_end(mem0: Mem0Client, user_id: str) -> None:
    batch = mem0.add_batch(
        [
            {"user_id": user_id, "content": "Likes tea", "type": "preference"},
            {"user_id": user_id, "content": "   "},
            {
                "user_id": user_id,
                "content": "Asked about trains",
                "type": "interaction",
                "session_id": "trip",
            },
        ]
    )
    assert (batch.created, batch.failed) == (2, 1)
    assert batch.results[1].status == 400 and batch.results[1].error is not None
    tea = batch.results[0].memory
    assert tea is not None

    mem0.update(tea.id, content="Likes green tea")
    assert [(e.event, e.new_content) for e in mem0.history(tea.id)] == [
        ("ADD", "Likes tea"),
        ("UPDATE", "Likes green tea"),
    ]

    exported = mem0.export(user_id)
    assert sorted(m.content for m in exported.memories) == ["Asked about trains", "Likes green tea"]

    assert mem0.end_session("trip", user_id=user_id).deleted == 1
    assert [m.content for m in mem0.iter_all(user_id)] == ["Likes green tea"]


def test_expiry_metadata_filter_and_erase(mem0: Mem0Client, user_id: str) -> None:
    later = datetime.now(timezone.utc) + timedelta(days=1)
    note = mem0.add("Temporary note", user_id=user_id, expires_at=later, metadata={"source": "n8n"})
    assert note.expires_at is not None and abs(note.expires_at - later) < timedelta(seconds=1)
    mem0.add("Permanent note", user_id=user_id, metadata={"source": "flowise"})

    from_n8n = mem0.get_all(user_id, metadata={"source": "n8n"})
    assert [m.content for m in from_n8n.memories] == ["Temporary note"]

    with pytest.raises(Mem0BadRequestError) as raised:
        mem0.add("x", user_id=user_id, ttl_seconds=0)
    assert raised.value.field == "ttl_seconds"

    mem0.delete(note.id, erase=True)
    with pytest.raises(Mem0NotFoundError):
        mem0.get(note.id)


def test_readiness(mem0: Mem0Client) -> None:
    ready = mem0.ready()
    assert ready.status == "ok" and ready.failing == []
    assert set(ready.checks) >= {"record_store", "vector_index", "embedder"}


def test_scoped_read_only_key(mem0: Mem0Client, live_service: Any, user_id: str) -> None:
    mem0.add("Likes jazz", user_id=user_id, type="preference")
    created = mem0.create_key(user_id=user_id, access="read", name="reporting")
    reader = Mem0Client(live_service.url, api_key=created.key)
    assert reader.check_auth().role == "scoped"
    assert [m.content for m in reader.iter_all(user_id)] == ["Likes jazz"]
    with pytest.raises(Mem0PermissionError):
        reader.add("Likes rock", user_id=user_id)
    with pytest.raises(Mem0PermissionError):
        reader.get_all(user_id + "-someone-else")

    assert created.id in [k.id for k in mem0.list_keys().keys]
    mem0.revoke_key(created.id)
    with pytest.raises(Mem0AuthenticationError):
        reader.check_auth()


@pytest.fixture
def llm_mem0(service_factory: Any, fake_openai: Any) -> Mem0Client:
    """A dedicated service whose chat model is the local fake OpenAI server."""
    service = service_factory(
        env={
            "OPENAI_API_KEY": "sk-fake",
            "OPENAI_BASE_URL": fake_openai.base_url,
            "MEM0_EMBEDDER": "local",
            "MEM0_OPENAI_TIMEOUT": "2",
        }
    )
    fake_openai.clear()
    return Mem0Client(service.url, api_key=service.api_key)


def _facts(*items: tuple[str, str]) -> dict[str, str]:
    return {"content": json.dumps({"facts": [{"content": c, "type": t} for c, t in items]})}


def test_memory_with_infer_loads_the_extracted_facts(
    llm_mem0: Mem0Client, fake_openai: Any
) -> None:
    user_id = f"lc-{secrets.token_hex(6)}"
    fake_openai.queue_chat(_facts(("Is vegetarian", "preference"), ("Lives in Porto", "fact")))
    memory = Mem0Memory(client=llm_mem0, user_id=user_id, infer=True, relevance_threshold=0.3)
    memory.save_context(
        {"input": "I'm vegetarian and I just moved to Porto."}, {"output": "Welcome to Porto!"}
    )
    # The model saw the exchange.
    prompt = fake_openai.chat_requests()[0]["messages"][-1]["content"]
    assert "I'm vegetarian and I just moved to Porto." in prompt and "Welcome to Porto!" in prompt

    stored = {(m.type, m.content) for m in llm_mem0.iter_all(user_id)}
    assert stored == {("preference", "Is vegetarian"), ("fact", "Lives in Porto")}
    assert (
        "- Is vegetarian"
        in memory.load_memory_variables({"input": "What food do I eat?"})["history"]
    )


def test_memory_with_infer_keeps_the_exchange_when_the_model_fails(
    llm_mem0: Mem0Client, fake_openai: Any
) -> None:
    user_id = f"lc-{secrets.token_hex(6)}"
    for _ in range(2):  # the service asks twice before giving up
        fake_openai.queue_chat({"content": "not json at all"})
    memory = Mem0Memory(client=llm_mem0, user_id=user_id, infer=True)
    memory.save_context({"input": "My cat is Tom"}, {"output": "Nice name"})
    [kept] = list(llm_mem0.iter_all(user_id))
    assert kept.type == "interaction"
    assert "My cat is Tom" in kept.content
    assert kept.metadata["extraction"] == "pending"
