"""The memory lifecycle: history, batch, expiry, sessions, GDPR export and erasure, filters, idempotency."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from tests.support.fixtures import unique_user


def test_history_records_every_change(api):
    user = unique_user()
    memory = api.create(user, "Пользователь живёт в Москве")
    api.put(f"/api/memories/{memory['id']}", json={"content": "Пользователь живёт в Казани"})
    api.delete(f"/api/memories/{memory['id']}")
    history = api.get(f"/api/memories/{memory['id']}/history").json()["history"]
    assert [h["event"] for h in history] == ["ADD", "UPDATE", "DELETE"]
    assert history[0]["new_content"] == "Пользователь живёт в Москве"
    assert (history[1]["old_content"], history[1]["new_content"]) == ("Пользователь живёт в Москве",
                                                                       "Пользователь живёт в Казани")
    assert history[2]["old_content"] == "Пользователь живёт в Казани"
    assert all(h["actor"] for h in history) and history[0]["created_at"] <= history[2]["created_at"]
    assert api.get("/api/memories/mem_unknown/history").status_code == 404


def test_gdpr_erasure_keeps_an_audit_trail_without_content(api):
    user = unique_user()
    memory = api.create(user, "Номер паспорта пользователя 1234 567890")
    api.create(user, "Пользователь любит чай")
    assert api.delete(f"/api/memories/user/{user}").json()["deleted"] == 2
    history = api.get(f"/api/memories/{memory['id']}/history").json()["history"]
    assert [h["event"] for h in history] == ["ADD", "DELETE"]
    assert all(h["old_content"] is None and h["new_content"] is None for h in history)
    single = api.create(user, "Секрет для стирания")
    api.delete(f"/api/memories/{single['id']}", params={"erase": "true"})
    assert all(h["old_content"] is None and h["new_content"] is None
               for h in api.get(f"/api/memories/{single['id']}/history").json()["history"])


def test_export_returns_everything_of_one_user(api):
    user = unique_user()
    created = [api.create(user, f"fact {i}", metadata={"i": i}) for i in range(3)]
    api.create(unique_user(), "someone else")
    body = api.get(f"/api/memories/user/{user}/export").json()
    assert body["user_id"] == user and body["total"] == 3
    assert [m["id"] for m in body["memories"]] == [m["id"] for m in created]
    assert [m["metadata"] for m in body["memories"]] == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_batch_stores_valid_items_and_reports_the_rest(api):
    user = unique_user()
    body = {"memories": [
        {"user_id": user, "content": "Любит горы", "type": "preference"},
        {"user_id": user, "content": ""},
        {"user_id": user, "content": "Работает в Яндексе", "type": "opinion"},
        {"content": "no user"},
        {"user_id": user, "content": "Любит горы", "type": "preference"},
        {"user_id": user, "content": "Has two kids"},
    ]}
    response = api.post("/api/memories/batch", json=body)
    assert response.status_code == 201
    result = response.json()
    assert [r["status"] for r in result["results"]] == [201, 400, 400, 400, 200, 201]
    assert (result["created"], result["existing"], result["failed"]) == (2, 1, 3)
    assert result["results"][2]["error"]["field"] == "type"
    assert result["results"][3]["error"]["field"] == "user_id"
    assert result["results"][4]["memory"]["id"] == result["results"][0]["memory"]["id"]
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 2
    assert api.search(user, "Сколько детей у пользователя?")["memories"][0]["content"] == "Has two kids"
    assert api.post("/api/memories/batch", json={"memories": []}).status_code == 400


def test_expired_memories_never_surface(api):
    user = unique_user()
    soon = api.create(user, "Временный код доступа 4242", ttl_seconds=1)
    assert soon["expires_at"] is not None
    past = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
    api.create(user, "Код домофона 1717", expires_at=past)
    keep = api.create(user, "Постоянный факт про коды")
    time.sleep(1.3)
    listed = api.get(f"/api/memories/user/{user}").json()
    assert [m["id"] for m in listed["memories"]] == [keep["id"]] and listed["total"] == 1
    found = api.search(user, "код доступа", relevance_threshold=0.0)["memories"]
    assert [m["id"] for m in found] == [keep["id"]]
    assert api.get(f"/api/memories/{soon['id']}").status_code == 404


def test_ending_a_session_removes_only_its_memories(api):
    user = unique_user()
    api.create(user, "turn 1", type="interaction", session_id="chat-1")
    api.create(user, "turn 2", type="interaction", session_id="chat-1")
    long_term = api.create(user, "Пользователь — врач")
    other = api.create(user, "turn in another chat", type="interaction", session_id="chat-2")
    response = api.delete("/api/sessions/chat-1", params={"user_id": user})
    assert response.status_code == 200 and response.json()["deleted"] == 2
    remaining = {m["id"] for m in api.get(f"/api/memories/user/{user}").json()["memories"]}
    assert remaining == {long_term["id"], other["id"]}
    assert api.delete("/api/sessions/chat-1").status_code == 400  # which user's session must be said


def test_list_filters_by_metadata_and_update_time(api):
    user = unique_user()
    a = api.create(user, "from n8n", metadata={"source": "n8n", "score": 85, "ok": True})
    api.create(user, "from flowise", metadata={"source": "flowise", "score": 85})
    by_source = api.get(f"/api/memories/user/{user}", params={"metadata": '{"source": "n8n"}'}).json()
    assert [m["id"] for m in by_source["memories"]] == [a["id"]]
    both = api.get(f"/api/memories/user/{user}", params={"metadata": '{"score": 85}'}).json()
    assert both["total"] == 2
    flagged = api.get(f"/api/memories/user/{user}", params={"metadata": '{"ok": true}'}).json()
    assert [m["id"] for m in flagged["memories"]] == [a["id"]]
    assert api.get(f"/api/memories/user/{user}", params={"metadata": "not json"}).status_code == 400
    cutoff = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.02)
    api.put(f"/api/memories/{a['id']}", json={"metadata": {"source": "n8n", "edited": True}})
    recent = api.get(f"/api/memories/user/{user}", params={"updated_after": cutoff}).json()
    assert [m["id"] for m in recent["memories"]] == [a["id"]]


def test_idempotency_key_makes_retries_safe(api):
    user = unique_user()
    headers = {"Idempotency-Key": f"retry-{user}"}
    first = api.post("/api/memories", json={"user_id": user, "content": "turn", "type": "interaction"}, headers=headers)
    again = api.post("/api/memories", json={"user_id": user, "content": "turn", "type": "interaction"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 1


def test_openapi_document_describes_every_route(api):
    doc = api.get("/api/openapi.json", auth=False).json()
    assert doc["openapi"].startswith("3.")
    for path, method in [("/api/memories", "post"), ("/api/memories/search", "post"), ("/api/memories/{memory_id}", "get"),
                         ("/api/memories/{memory_id}", "put"), ("/api/memories/{memory_id}", "delete"),
                         ("/api/memories/user/{user_id}", "get"), ("/api/health", "get"),
                         ("/api/memories/{memory_id}/history", "get"), ("/api/memories/batch", "post")]:
        assert method in doc["paths"][path], (path, method)
    create = doc["components"]["schemas"]["MemoryCreate"]
    assert {"user_id", "content", "type", "session_id", "agent_id", "metadata"} <= set(create["properties"])
    assert set(create["properties"]["type"]["$ref" if "$ref" in create["properties"]["type"] else "anyOf"] or []) != set()
