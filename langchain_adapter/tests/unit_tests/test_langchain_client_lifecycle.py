"""Mem0Client: conversations, batches, history, export, sessions, expiry, readiness and keys."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import http_mock
import pytest
from http_mock import matchers
from langchain_core.messages import AIMessage, HumanMessage

from mem0_langchain import Mem0Client, Mem0PermissionError

BASE = "http://mem0.test"


def _sent(rsps: http_mock.RequestsMock, index: int = 0) -> Any:
    return json.loads(rsps.calls[index].request.body)


def test_add_conversation_sends_messages_and_reads_the_events(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories",
        status=201,
        json={
            "results": [
                {**memory_json(id="m1", content="Lives in Porto"), "event": "ADD"},
                {
                    **memory_json(id="m0", content="Works as a nurse in Porto"),
                    "event": "UPDATE",
                    "previous_content": "Works as a nurse",
                },
            ],
            "extraction": {"status": "done"},
        },
        match=[
            matchers.json_params_matcher(
                {
                    "user_id": "user123",
                    "messages": [
                        {"role": "user", "content": "I moved to Porto"},
                        {"role": "assistant", "content": "Porto is lovely"},
                        {"role": "user", "content": "Still a nurse"},
                    ],
                    "infer": True,
                    "session_id": "s1",
                    "metadata": {"source": "chat"},
                },
                strict_match=True,
            )
        ],
    )
    result = client.add_conversation(
        [
            HumanMessage(content="I moved to Porto"),
            AIMessage(content="Porto is lovely"),
            {"role": "user", "content": "Still a nurse"},
        ],
        user_id="user123",
        infer=True,
        session_id="s1",
        metadata={"source": "chat"},
    )
    assert result.extraction.status == "done"
    assert [(e.event, e.content) for e in result.results] == [
        ("ADD", "Lives in Porto"),
        ("UPDATE", "Works as a nurse in Porto"),
    ]
    assert result.results[1].previous_content == "Works as a nurse"
    assert "Idempotency-Key" in mocked.calls[0].request.headers


def test_add_batch_reports_each_item(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories/batch",
        status=201,
        json={
            "results": [
                {"index": 0, "status": 201, "memory": memory_json(id="m1")},
                {
                    "index": 1,
                    "status": 400,
                    "error": {
                        "error": "Bad Request",
                        "message": "must not be empty",
                        "field": "content",
                    },
                },
            ],
            "created": 1,
            "existing": 0,
            "failed": 1,
        },
        match=[
            matchers.json_params_matcher(
                {
                    "memories": [
                        {"user_id": "u", "content": "Likes tea", "type": "preference"},
                        {"user_id": "u", "content": " "},
                    ]
                },
                strict_match=True,
            )
        ],
    )
    result = client.add_batch(
        [
            {"user_id": "u", "content": "Likes tea", "type": "preference", "session_id": None},
            {"user_id": "u", "content": " "},
        ]
    )
    assert (result.created, result.existing, result.failed) == (1, 0, 1)
    assert result.results[0].memory is not None and result.results[0].memory.id == "m1"
    assert result.results[1].error == {
        "error": "Bad Request",
        "message": "must not be empty",
        "field": "content",
    }


def test_history_export_and_session_end(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.get(
        f"{BASE}/api/memories/m1/history",
        json={
            "history": [
                {
                    "memory_id": "m1",
                    "event": "ADD",
                    "old_content": None,
                    "new_content": "Likes tea",
                    "actor": "api",
                    "created_at": "2025-05-18T10:00:00Z",
                },
                {
                    "memory_id": "m1",
                    "event": "UPDATE",
                    "old_content": "Likes tea",
                    "new_content": "Likes green tea",
                    "actor": "llm",
                    "created_at": "2025-05-18T11:00:00Z",
                },
            ]
        },
    )
    mocked.get(
        f"{BASE}/api/memories/user/u/export",
        json={
            "user_id": "u",
            "exported_at": "2025-05-19T00:00:00Z",
            "total": 1,
            "memories": [memory_json()],
        },
    )
    mocked.delete(
        f"{BASE}/api/sessions/s1",
        json={"success": True, "deleted": 3, "message": "Session s1 ended: 3 memories removed"},
        match=[matchers.query_param_matcher({"user_id": "u"}, strict_match=True)],
    )
    events = client.history("m1")
    assert [(e.event, e.new_content, e.actor) for e in events] == [
        ("ADD", "Likes tea", "api"),
        ("UPDATE", "Likes green tea", "llm"),
    ]
    assert events[1].created_at == datetime(2025, 5, 18, 11, tzinfo=timezone.utc)
    exported = client.export("u")
    assert (exported.user_id, exported.total, len(exported.memories)) == ("u", 1, 1)
    assert client.end_session("s1", user_id="u").deleted == 3


def test_expiry_erase_and_metadata_filter(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    expires = "2025-06-01T00:00:00Z"
    mocked.post(f"{BASE}/api/memories", status=201, json=memory_json(expires_at=expires))
    mocked.put(f"{BASE}/api/memories/m1", json=memory_json(expires_at=None))
    mocked.delete(
        f"{BASE}/api/memories/m1",
        json={"success": True, "message": "Memory deleted successfully"},
        match=[matchers.query_param_matcher({"erase": "true"}, strict_match=True)],
    )
    mocked.get(
        f"{BASE}/api/memories/user/u",
        json={"memories": [], "total": 0, "limit": 10, "offset": 0},
        match=[
            matchers.query_param_matcher(
                {
                    "metadata": '{"source": "n8n", "draft": false}',
                    "updated_after": "2025-05-01T00:00:00Z",
                },
                strict_match=True,
            )
        ],
    )
    created = client.add("Temporary note", user_id="u", ttl_seconds=3600)
    assert created.expires_at == datetime(2025, 6, 1, tzinfo=timezone.utc)
    client.update("m1", expires_at=datetime(2025, 7, 1, 12, 30))
    client.delete("m1", erase=True)
    client.get_all(
        "u", metadata={"source": "n8n", "draft": False}, updated_after="2025-05-01T00:00:00Z"
    )
    assert _sent(mocked, 0)["ttl_seconds"] == 3600
    assert _sent(mocked, 1) == {"expires_at": "2025-07-01T12:30:00Z"}


def test_readiness_reads_the_failing_checks_from_a_503(
    mocked: http_mock.RequestsMock, memory_json: Any
) -> None:
    not_ready = {
        "error": "Service Unavailable",
        "message": "vector_index unavailable: timeout",
        "status": "unavailable",
        "checks": {"record_store": {"status": "ok"}, "vector_index": {"status": "error"}},
        "failing": ["vector_index"],
    }
    mocked.get(f"{BASE}/api/ready", json={"status": "ok", "checks": {}, "failing": []})
    mocked.get(f"{BASE}/api/ready", status=503, json=not_ready)
    client = Mem0Client(BASE, api_key="k", max_retries=0)
    assert client.ready().status == "ok"
    not_now = client.ready()
    assert (not_now.status, not_now.failing) == ("unavailable", ["vector_index"])


def test_scoped_keys_are_created_listed_and_revoked(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    key = {
        "id": "key_1",
        "prefix": "m0k_ab",
        "name": "n8n flow",
        "user_id": "u",
        "agent_id": None,
        "access": "read",
        "created_at": "2025-05-18T10:00:00Z",
        "revoked_at": None,
    }
    mocked.post(
        f"{BASE}/api/keys",
        status=201,
        json={**key, "key": "m0k_abcdef"},
        match=[
            matchers.json_params_matcher(
                {"user_id": "u", "access": "read", "name": "n8n flow"}, strict_match=True
            )
        ],
    )
    mocked.get(
        f"{BASE}/api/keys",
        json={"keys": [key], "total": 1},
        match=[matchers.query_param_matcher({"include_revoked": "true"}, strict_match=True)],
    )
    mocked.delete(
        f"{BASE}/api/keys/key_1",
        json={
            "success": True,
            "message": "revoked",
            "key": {**key, "revoked_at": "2025-05-19T00:00:00Z"},
        },
    )
    created = client.create_key(user_id="u", access="read", name="n8n flow")
    assert (created.key, created.access) == ("m0k_abcdef", "read")
    assert client.list_keys(include_revoked=True).keys[0].id == "key_1"
    revoked = client.revoke_key("key_1")
    assert revoked.key is not None and revoked.key.revoked_at is not None


def test_a_key_needs_a_scope(client: Mem0Client) -> None:
    with pytest.raises(ValueError, match="user_id, an agent_id or both"):
        client.create_key(access="read")


def test_a_read_only_key_writing_gets_a_permission_error(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories",
        status=403,
        json={"error": "Forbidden", "message": "This API key is read-only"},
    )
    with pytest.raises(Mem0PermissionError, match="read-only"):
        client.add("x", user_id="u")
