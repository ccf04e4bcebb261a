"""The guide's curl examples and integration payloads, replayed literally (only the host and key change)."""

from __future__ import annotations

import json

from tests.support.api import Api

# Bodies exactly as the guide prints them.
CREATE_FULL = """{
  "user_id": "user123",
  "content": "Пользователь предпочитает получать уведомления по email",
  "type": "preference",
  "session_id": "session456",
  "agent_id": "assistant789",
  "metadata": {
    "source": "user_settings",
    "timestamp": "2025-05-18T10:30:00Z"
  }
}"""
SEARCH_FULL = """{
  "user_id": "user123",
  "query": "Какие предпочтения по уведомлениям у пользователя?",
  "relevance_threshold": 0.7,
  "limit": 5,
  "types": ["preference", "fact"],
  "session_id": "session456",
  "agent_id": "assistant789"
}"""
UPDATE = """{
  "content": "Пользователь предпочитает получать уведомления по email и SMS",
  "metadata": {
    "source": "user_settings",
    "timestamp": "2025-05-19T15:45:00Z",
    "updated_by": "system"
  }
}"""
EXAMPLES = [
    """{"user_id": "user123", "content": "Пользователь предпочитает получать технические детали в ответах", "type": "preference"}""",
    """{"user_id": "user123", "content": "Пользователь интересуется темами: искусственный интеллект, программирование, наука о данных", "type": "preference"}""",
    """{"user_id": "user123", "content": "Пользователь просмотрел статью 'Введение в нейронные сети'", "type": "interaction", "metadata": {"item_id": "article_12345", "category": "artificial_intelligence"}}""",
    """{"user_id": "student123", "content": "Пользователь имеет средний уровень знаний в программировании на Python", "type": "fact"}""",
    """{"user_id": "student123", "content": "Пользователь успешно завершил модуль 'Основы функционального программирования'", "type": "interaction", "metadata": {"module_id": "python_functional", "completion_date": "2025-05-15T14:30:00Z", "score": 85}}""",
    """{"user_id": "team_project_x", "content": "Проект X использует стек технологий: React, Node.js, PostgreSQL", "type": "fact"}""",
    """{"user_id": "team_project_x", "content": "Команда решила использовать Redux для управления состоянием приложения", "type": "interaction", "metadata": {"meeting_date": "2025-05-10T10:00:00Z", "participants": ["user1", "user2", "user3"]}}""",
    """{"user_id": "home_user1", "content": "Пользователь предпочитает температуру 22°C в гостиной вечером", "type": "preference"}""",
    """{"user_id": "home_user1", "content": "Пользователь обычно включает свет в спальне в 22:30", "type": "pattern", "metadata": {"device": "bedroom_light", "action": "turn_on", "time": "22:30", "frequency": "daily"}}""",
]


def raw(api: Api, method: str, path: str, body: str | None = None):
    """Like curl -d: the body goes out byte for byte."""
    return api.request(method, path, data=body.encode() if body else None,
                       headers={"Content-Type": "application/json"} if body else None)


def test_api_reference_round_trip(service_factory):
    service = service_factory()
    api = Api(service.url, service.api_key)
    created = raw(api, "POST", "/api/memories", CREATE_FULL)
    assert created.status_code == 201
    memory = created.json()
    assert {"id", "user_id", "content", "type", "created_at", "updated_at"} <= set(memory)

    found = raw(api, "POST", "/api/memories/search", SEARCH_FULL).json()
    assert found["total"] == 1 and found["memories"][0]["id"] == memory["id"]
    assert {"id", "content", "type", "relevance_score", "created_at"} <= set(found["memories"][0])

    got = api.get(f"/api/memories/{memory['id']}").json()
    assert got["metadata"] == {"source": "user_settings", "timestamp": "2025-05-18T10:30:00Z"}

    updated = raw(api, "PUT", f"/api/memories/{memory['id']}", UPDATE).json()
    assert updated["content"].endswith("email и SMS") and updated["type"] == "preference"
    assert updated["metadata"]["updated_by"] == "system"

    listed = api.get("/api/memories/user/user123").json()
    assert set(listed) == {"memories", "total", "limit", "offset"} and listed["total"] == 1

    deleted = api.delete(f"/api/memories/{memory['id']}").json()
    assert deleted["success"] is True and deleted["message"]


def test_usage_examples_all_store(service_factory):
    service = service_factory()
    api = Api(service.url, service.api_key)
    for body in EXAMPLES:
        response = raw(api, "POST", "/api/memories", body)
        assert response.status_code == 201, (body, response.text)
        assert response.json()["type"] == json.loads(body)["type"]
    docker = raw(api, "POST", "/api/memories/search", """{
       "user_id": "user123",
       "query": "Как настроить Docker?",
       "relevance_threshold": 0.7,
       "limit": 5
     }""")
    assert docker.status_code == 200
    hits = api.search("home_user1", "Во сколько пользователь включает свет в спальне?")["memories"]
    assert hits[0]["type"] == "pattern" and hits[0]["metadata"]["device"] == "bedroom_light"
    # The guide's n8n search payload and the Flowise class's query-less search.
    n8n = api.search("user123", "Что интересует пользователя?", relevance_threshold=0.7, limit=5,
                     types=["preference", "fact"])
    assert n8n["memories"] and all(m["type"] in ("preference", "fact") for m in n8n["memories"])
    flowise = api.post("/api/memories/search", json={"user_id": "user123", "session_id": None,
                                                     "relevance_threshold": 0.7, "limit": 5})
    assert flowise.status_code == 200 and flowise.json()["total"] == 3
    # The recommendations example reads metadata.item_id of interactions from the user's list.
    interactions = [m for m in api.get("/api/memories/user/user123").json()["memories"] if m["type"] == "interaction"]
    assert [m["metadata"]["item_id"] for m in interactions] == ["article_12345"]


def test_memories_survive_a_restart(service_factory):
    service = service_factory()
    api = Api(service.url, service.api_key)
    memory = api.create("user123", "Пользователь предпочитает получать уведомления по email", type="preference")
    service.restart()
    assert api.get(f"/api/memories/{memory['id']}").json() == memory
    assert api.search("user123", "уведомления")["memories"][0]["id"] == memory["id"]


def test_generated_key_is_kept_in_the_data_directory(tmp_path):
    from tests.support.service_process import ServiceProcess

    service = ServiceProcess(tmp_path / "data", api_key="")
    service.start()
    try:
        key = (tmp_path / "data" / "api_key").read_text().strip()
        assert len(key) >= 32
        assert "API key:" in service.log() and key in service.log()
        api = Api(service.url, key)
        assert api.get("/api/auth/check").status_code == 200
        service.restart()
        assert api.get("/api/auth/check").status_code == 200, "the same key after a restart"
    finally:
        service.stop()
