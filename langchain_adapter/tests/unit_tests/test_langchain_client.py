"""Mem0Client: the exact requests it sends and how it reports every kind of failure."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import http_mock
import httpx
import pytest
from http_mock import matchers

from mem0_langchain import (
    Mem0APIError,
    Mem0AuthenticationError,
    Mem0BadRequestError,
    Mem0Client,
    Mem0ConnectionError,
    Mem0NotFoundError,
    Mem0PayloadTooLargeError,
    Mem0PermissionError,
    Mem0UnavailableError,
    __version__,
)

BASE = "http://mem0.test"
KEY = "test-key-123"
HEADERS = {
    "Authorization": f"Bearer {KEY}",
    "Accept": "application/json",
    "User-Agent": f"mem0-langchain/{__version__}",
}


def _sent_json(rsps: http_mock.RequestsMock, index: int = 0) -> Any:
    body = rsps.calls[index].request.body
    return json.loads(body) if body else None


# -- every endpoint: URL, method, headers, body -----------------------------------


def test_add_sends_the_memory_and_returns_a_typed_memory(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    sent = {
        "user_id": "user123",
        "content": "Prefers email notifications",
        "type": "preference",
        "session_id": "s1",
        "agent_id": "a1",
        "metadata": {"source": "user_settings"},
    }
    mocked.post(
        f"{BASE}/api/memories",
        json=memory_json(session_id="s1", agent_id="a1", metadata={"source": "user_settings"}),
        status=201,
        match=[
            matchers.json_params_matcher(sent, strict_match=True),
            matchers.header_matcher({**HEADERS, "Content-Type": "application/json"}),
        ],
    )
    memory = client.add(
        "Prefers email notifications",
        user_id="user123",
        type="preference",
        session_id="s1",
        agent_id="a1",
        metadata={"source": "user_settings"},
    )
    assert memory.id == "mem_1"
    assert memory.type == "preference"
    assert memory.metadata == {"source": "user_settings"}
    assert memory.created_at == datetime(2025, 5, 18, 10, 30, 5, tzinfo=timezone.utc)


def test_add_leaves_unset_fields_to_the_service(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories",
        json=memory_json(type="fact", metadata=None),
        status=201,
        match=[matchers.json_params_matcher({"user_id": "u", "content": "c"}, strict_match=True)],
    )
    memory = client.add("c", user_id="u")
    # A null metadata in the answer reads as an empty dict.
    assert memory.metadata == {}


def test_search_sends_every_filter_and_returns_scored_memories(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    sent = {
        "user_id": "user123",
        "query": "how to notify?",
        "relevance_threshold": 0.5,
        "limit": 3,
        "types": ["preference", "fact"],
        "session_id": "s1",
        "agent_id": "a1",
    }
    mocked.post(
        f"{BASE}/api/memories/search",
        json={"memories": [memory_json(relevance_score=0.92)], "total": 1},
        match=[
            matchers.json_params_matcher(sent, strict_match=True),
            matchers.header_matcher(HEADERS),
        ],
    )
    result = client.search(
        "how to notify?",
        user_id="user123",
        relevance_threshold=0.5,
        limit=3,
        types=("preference", "fact"),
        session_id="s1",
        agent_id="a1",
    )
    assert result.total == 1
    assert result.memories[0].relevance_score == pytest.approx(0.92)


def test_search_asks_for_a_rewrite_and_reads_what_became_of_it(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        json={
            "memories": [memory_json(relevance_score=0.86)],
            "total": 1,
            "query_rewrite": {
                "status": "done",
                "queries": ["Does the user have pets?", "cat, dog"],
                "reason": None,
            },
        },
        match=[
            matchers.json_params_matcher(
                {"user_id": "u", "query": "домашние животные?", "rewrite_query": True},
                strict_match=True,
            )
        ],
    )
    result = client.search("домашние животные?", user_id="u", rewrite_query=True)
    assert result.query_rewrite is not None and result.query_rewrite.status == "done"
    assert result.query_rewrite.queries == ["Does the user have pets?", "cat, dog"]
    mocked.post(
        f"{BASE}/api/memories/search",
        json={"memories": [], "total": 0},
        match=[matchers.json_params_matcher({"user_id": "u", "query": "q"}, strict_match=True)],
    )
    assert client.search("q", user_id="u").query_rewrite is None


def test_search_without_query_sends_only_the_user(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        json={"memories": [], "total": 0},
        match=[matchers.json_params_matcher({"user_id": "u"}, strict_match=True)],
    )
    assert client.search(user_id="u").memories == []


def test_get_update_delete_address_the_memory_by_id(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    mocked.get(
        f"{BASE}/api/memories/mem_1", json=memory_json(), match=[matchers.header_matcher(HEADERS)]
    )
    mocked.put(
        f"{BASE}/api/memories/mem_1",
        json=memory_json(content="email and SMS", type="fact", metadata={"by": "me"}),
        match=[
            matchers.json_params_matcher(
                {"content": "email and SMS", "metadata": {"by": "me"}, "type": "fact"},
                strict_match=True,
            ),
            matchers.header_matcher(HEADERS),
        ],
    )
    mocked.delete(
        f"{BASE}/api/memories/mem_1",
        json={"success": True, "message": "Memory deleted"},
        match=[matchers.header_matcher(HEADERS)],
    )
    assert client.get("mem_1").content == "Prefers email notifications"
    updated = client.update("mem_1", content="email and SMS", metadata={"by": "me"}, type="fact")
    assert (updated.content, updated.type, updated.metadata) == (
        "email and SMS",
        "fact",
        {"by": "me"},
    )
    deleted = client.delete("mem_1")
    assert deleted.success is True and deleted.message == "Memory deleted"
    assert mocked.calls[0].request.body is None
    assert mocked.calls[2].request.body is None


def test_update_with_nothing_to_change_is_refused_before_sending(client: Mem0Client) -> None:
    with pytest.raises(ValueError, match="at least one of"):
        client.update("mem_1")


def test_ids_with_reserved_characters_are_escaped_in_the_path(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.get(
        f"{BASE}/api/memories/user/a%2Fb%20c%3F",
        json={"memories": [], "total": 0, "limit": 10, "offset": 0},
    )
    client.get_all("a/b c?")
    assert mocked.calls[0].request.path_url == "/api/memories/user/a%2Fb%20c%3F"


def test_empty_ids_are_refused(client: Mem0Client) -> None:
    with pytest.raises(ValueError):
        client.get("")


def test_get_all_sends_filters_as_query_parameters(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    before = datetime(2025, 5, 18, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    mocked.get(
        f"{BASE}/api/memories/user/user123",
        json={"memories": [memory_json()], "total": 7, "limit": 1, "offset": 2},
        match=[
            matchers.query_param_matcher(
                {
                    "type": "preference",
                    "session_id": "s1",
                    "agent_id": "a1",
                    "limit": "1",
                    "offset": "2",
                    "created_before": "2025-05-18T10:00:00Z",
                    "created_after": "2025-05-01T00:00:00Z",
                    "order": "asc",
                },
                strict_match=True,
            ),
            matchers.header_matcher(HEADERS),
        ],
    )
    page = client.get_all(
        "user123",
        type="preference",
        session_id="s1",
        agent_id="a1",
        limit=1,
        offset=2,
        created_before=before,
        created_after=datetime(2025, 5, 1),  # naive: taken as UTC
        order="asc",
    )
    assert (page.total, page.limit, page.offset, len(page.memories)) == (7, 1, 2, 1)


def test_get_all_without_filters_sends_no_query_string(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.get(
        f"{BASE}/api/memories/user/u", json={"memories": [], "total": 0, "limit": 10, "offset": 0}
    )
    client.get_all("u")
    assert mocked.calls[0].request.url == f"{BASE}/api/memories/user/u"


def test_iter_all_walks_every_page(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    for offset, ids in ((0, ["m1", "m2"]), (2, ["m3"])):
        mocked.get(
            f"{BASE}/api/memories/user/u",
            json={
                "memories": [memory_json(id=i) for i in ids],
                "total": 3,
                "limit": 2,
                "offset": offset,
            },
            match=[
                matchers.query_param_matcher(
                    {"limit": "2", "offset": str(offset), "order": "asc"}, strict_match=True
                )
            ],
        )
    assert [m.id for m in client.iter_all("u", page_size=2, order="asc")] == ["m1", "m2", "m3"]


def test_delete_all_of_a_user_or_of_part_of_it(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.delete(
        f"{BASE}/api/memories/user/u",
        json={"success": True, "deleted": 4, "message": "4 memories deleted"},
        match=[
            matchers.query_param_matcher({}, strict_match=True),
            matchers.header_matcher(HEADERS),
        ],
    )
    mocked.delete(
        f"{BASE}/api/memories/user/u",
        json={"success": True, "deleted": 1, "message": "1 memory deleted"},
        match=[matchers.query_param_matcher({"session_id": "s1"}, strict_match=True)],
    )
    mocked.delete(
        f"{BASE}/api/memories/user/u",
        json={"success": True, "deleted": 2, "message": "2 memories deleted"},
        match=[
            matchers.query_param_matcher(
                {"session_id": "s1", "agent_id": "a1", "type": "interaction"}, strict_match=True
            )
        ],
    )
    assert client.delete_all("u").deleted == 4
    assert client.delete_all("u", session_id="s1").deleted == 1
    assert client.delete_all("u", session_id="s1", agent_id="a1", type="interaction").deleted == 2


def test_health_auth_check_and_openapi(mocked: http_mock.RequestsMock, client: Mem0Client) -> None:
    mocked.get(
        f"{BASE}/api/health",
        json={"status": "ok", "version": "1.2.3", "timestamp": "2025-05-18T10:30:05Z"},
    )
    mocked.get(
        f"{BASE}/api/auth/check",
        json={"authenticated": True},
        match=[matchers.header_matcher(HEADERS)],
    )
    mocked.get(f"{BASE}/api/openapi.json", json={"openapi": "3.0.3", "paths": {}})
    health = client.health()
    assert (health.status, health.version) == ("ok", "1.2.3")
    assert client.check_auth().authenticated is True
    assert client.openapi()["openapi"] == "3.0.3"


# -- configuration ---------------------------------------------------------------


def test_base_url_and_key_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, mocked: http_mock.RequestsMock
) -> None:
    monkeypatch.setenv("MEM0_BASE_URL", "http://env-host:9999/")
    monkeypatch.setenv("MEM0_API_KEY", "env-key")
    mocked.get(
        "http://env-host:9999/api/auth/check",
        json={"authenticated": True},
        match=[matchers.header_matcher({"Authorization": "Bearer env-key"})],
    )
    assert Mem0Client().check_auth().authenticated


def test_without_a_key_no_authorization_header_is_sent(
    monkeypatch: pytest.MonkeyPatch, mocked: http_mock.RequestsMock
) -> None:
    monkeypatch.delenv("MEM0_API_KEY", raising=False)
    mocked.get(f"{BASE}/api/health", json={"status": "ok"})
    Mem0Client(BASE).health()
    assert "Authorization" not in mocked.calls[0].request.headers


def test_repr_never_shows_the_key() -> None:
    text = repr(Mem0Client(BASE, api_key="super-secret"))
    assert "super-secret" not in text and BASE in text


def test_timeout_is_passed_to_every_request(
    mocked: http_mock.RequestsMock, memory_json: Any
) -> None:
    mocked.get(f"{BASE}/api/memories/mem_1", json=memory_json())
    with Mem0Client(BASE, api_key=KEY, timeout=(1.5, 7.0)) as client:
        client.get("mem_1")
    timeout = mocked.calls[0].request.timeout
    assert timeout == {"connect": 1.5, "read": 7.0, "write": 7.0, "pool": 7.0}


# -- error paths -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_cls", "error"),
    [
        (400, Mem0BadRequestError, "Bad Request"),
        (401, Mem0AuthenticationError, "Unauthorized"),
        (403, Mem0PermissionError, "Forbidden"),
        (404, Mem0NotFoundError, "Not Found"),
        (413, Mem0PayloadTooLargeError, "Payload Too Large"),
        (409, Mem0APIError, "Conflict"),
    ],
)
def test_error_answers_raise_typed_errors_carrying_the_api_json(
    mocked: http_mock.RequestsMock,
    client: Mem0Client,
    status: int,
    error_cls: type[Mem0APIError],
    error: str,
) -> None:
    body = {"error": error, "message": "something is wrong", "field": "content"}
    mocked.post(f"{BASE}/api/memories", json=body, status=status)
    with pytest.raises(error_cls) as raised:
        client.add("x", user_id="u")
    exc = raised.value
    assert exc.status_code == status
    assert (exc.error, exc.message, exc.field) == (error, "something is wrong", "content")
    assert exc.body == body
    assert f"{status} {error}: something is wrong (field: content)" == str(exc)


def test_validation_error_names_the_field(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        status=400,
        json={
            "error": "Bad Request",
            "message": "relevance_threshold must be between 0 and 1",
            "field": "relevance_threshold",
        },
    )
    with pytest.raises(Mem0BadRequestError) as raised:
        client.search("q", user_id="u", relevance_threshold=3)
    assert raised.value.field == "relevance_threshold"
    assert _sent_json(mocked)["relevance_threshold"] == 3


def test_wrong_key_on_auth_check_raises_authentication_error(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.get(
        f"{BASE}/api/auth/check",
        status=401,
        json={"error": "Unauthorized", "message": "Invalid API key"},
    )
    with pytest.raises(Mem0AuthenticationError, match="Invalid API key") as raised:
        client.check_auth()
    assert raised.value.field is None


def test_missing_memory_raises_not_found(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.get(
        f"{BASE}/api/memories/mem_missing",
        status=404,
        json={"error": "Not Found", "message": "Memory mem_missing not found"},
    )
    with pytest.raises(Mem0NotFoundError, match="mem_missing"):
        client.get("mem_missing")


def test_non_json_error_body_is_reported_with_its_text(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories",
        status=502,
        body="<html>Bad gateway from the proxy</html>",
        content_type="text/html",
    )
    with pytest.raises(Mem0UnavailableError) as raised:
        client.add("x", user_id="u")
    assert raised.value.status_code == 502
    assert raised.value.error == "Bad Gateway"
    assert "Bad gateway from the proxy" in raised.value.message
    assert raised.value.body == {}


def test_non_json_success_body_is_an_error(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.get(f"{BASE}/api/health", status=200, body="OK", content_type="text/plain")
    with pytest.raises(Mem0APIError, match="expected JSON"):
        client.health()


def test_unavailable_backend_on_a_read_is_retried_then_succeeds(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    down = {"error": "Service Unavailable", "message": "vector store is down"}
    mocked.get(f"{BASE}/api/memories/mem_1", status=503, json=down)
    mocked.get(f"{BASE}/api/memories/mem_1", json=memory_json())
    assert client.get("mem_1").id == "mem_1"
    assert len(mocked.calls) == 2


def test_unavailable_backend_raises_once_retries_are_spent(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    down = {"error": "Service Unavailable", "message": "vector store is down"}
    for _ in range(3):  # the first try and max_retries=2 retries
        mocked.get(f"{BASE}/api/memories/user/u", status=503, json=down)
    with pytest.raises(Mem0UnavailableError) as raised:
        client.get_all("u")
    assert raised.value.body == down
    assert len(mocked.calls) == 3


def test_a_create_behind_a_failing_proxy_is_not_retried(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    # A 502 may come after the service stored the memory: retrying could store it twice.
    mocked.post(f"{BASE}/api/memories", status=502, body="bad gateway")
    with pytest.raises(Mem0UnavailableError):
        client.add("x", user_id="u")
    assert len(mocked.calls) == 1


def test_a_create_refused_with_503_is_retried_under_the_same_idempotency_key(
    mocked: http_mock.RequestsMock, client: Mem0Client, memory_json: Any
) -> None:
    down = {"error": "Service Unavailable", "message": "embedder is down"}
    mocked.post(f"{BASE}/api/memories", status=503, json=down)
    mocked.post(f"{BASE}/api/memories", status=201, json=memory_json(id="m1"))
    mocked.post(f"{BASE}/api/memories", status=201, json=memory_json(id="m2"))
    assert client.add("x", user_id="u").id == "m1"
    assert client.add("y", user_id="u").id == "m2"
    keys = [call.request.headers["Idempotency-Key"] for call in mocked.calls]
    assert keys[0] == keys[1]  # the retry of one call
    assert keys[2] != keys[0]  # a new call
    assert all(len(key) == 32 for key in keys)


def test_a_search_refused_with_503_is_retried(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    down = {"error": "Service Unavailable", "message": "vector store is down"}
    mocked.post(f"{BASE}/api/memories/search", status=503, json=down)
    mocked.post(f"{BASE}/api/memories/search", json={"memories": [], "total": 0})
    assert client.search("q", user_id="u").total == 0
    assert "Idempotency-Key" not in mocked.calls[1].request.headers


def test_unreachable_service_raises_connection_error(client: Mem0Client) -> None:
    with http_mock.RequestsMock() as rsps:
        rsps.get(f"{BASE}/api/health", body=httpx.ConnectError("connection refused"))
        with pytest.raises(Mem0ConnectionError, match="cannot reach the Mem0 service"):
            client.health()


def test_read_timeout_raises_connection_error(client: Mem0Client) -> None:
    with http_mock.RequestsMock() as rsps:
        rsps.post(f"{BASE}/api/memories/search", body=httpx.ReadTimeout("read timed out"))
        with pytest.raises(Mem0ConnectionError, match="timed out"):
            client.search("q", user_id="u")


def test_rate_limited_search_is_retried_after_retry_after(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.post(
        f"{BASE}/api/memories/search",
        status=429,
        headers={"Retry-After": "0"},
        json={"error": "Too Many Requests", "message": "rate limit exceeded"},
    )
    mocked.post(f"{BASE}/api/memories/search", json={"memories": [], "total": 0})
    assert client.search("q", user_id="u").total == 0
    assert len(mocked.calls) == 2


def test_auth_check_reports_the_key_role(
    mocked: http_mock.RequestsMock, client: Mem0Client
) -> None:
    mocked.get(f"{BASE}/api/auth/check", json={"authenticated": True, "role": "scoped"})
    assert client.check_auth().role == "scoped"
