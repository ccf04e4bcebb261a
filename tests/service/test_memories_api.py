"""The guide's REST API, through real HTTP, on every backend."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.support.fixtures import unique_user

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_create_returns_the_stored_memory(api):
    user = unique_user()
    response = api.post("/api/memories", json={
        "user_id": user, "content": "Пользователь предпочитает получать уведомления по email", "type": "preference",
        "session_id": "session456", "agent_id": "assistant789",
        "metadata": {"source": "user_settings", "timestamp": "2025-05-18T10:30:00Z"}})
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("mem_")
    assert body["user_id"] == user and body["type"] == "preference"
    assert body["content"] == "Пользователь предпочитает получать уведомления по email"
    assert body["session_id"] == "session456" and body["agent_id"] == "assistant789"
    assert body["metadata"] == {"source": "user_settings", "timestamp": "2025-05-18T10:30:00Z"}
    assert ISO_Z.match(body["created_at"]) and body["created_at"] == body["updated_at"]
    assert api.get(f"/api/memories/{body['id']}").json() == body


def test_type_defaults_to_fact_and_pattern_is_accepted(api):
    user = unique_user()
    assert api.create(user, "Проект X использует React")["type"] == "fact"
    assert api.create(user, "Пользователь обычно включает свет в 22:30", type="pattern")["type"] == "pattern"


def test_search_finds_paraphrases_across_languages_and_drops_unrelated(api):
    user = unique_user()
    email = api.create(user, "Пользователь предпочитает получать уведомления по email", type="preference")
    api.create(user, "Проект X использует стек технологий: React, Node.js, PostgreSQL", type="fact")
    api.create(user, "The user's favourite food is spicy Thai curry", type="preference")

    ru = api.search(user, "Какие предпочтения по уведомлениям у пользователя?", relevance_threshold=0.7, limit=5)
    assert [m["id"] for m in ru["memories"]] == [email["id"]]
    assert ru["total"] == 1
    assert 0.7 <= ru["memories"][0]["relevance_score"] <= 1.0

    en = api.search(user, "How does the user want to receive notifications?")
    assert en["memories"] and en["memories"][0]["id"] == email["id"]

    food = api.search(user, "Какую еду любит пользователь?")
    assert [m["content"] for m in food["memories"]] == ["The user's favourite food is spicy Thai curry"]


def test_search_results_are_sorted_and_respect_limit_and_threshold(api):
    user = unique_user()
    for text in ["Пользователь любит кофе по утрам", "Пользователь пьёт кофе без сахара", "Пользователь любит кофе с молоком",
                 "Пользователь живёт в Казани"]:
        api.create(user, text)
    everything = api.search(user, "кофе", relevance_threshold=0.0, limit=10)
    scores = [m["relevance_score"] for m in everything["memories"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    two = api.search(user, "кофе", relevance_threshold=0.0, limit=2)
    assert [m["id"] for m in two["memories"]] == [m["id"] for m in everything["memories"][:2]]
    strict = api.search(user, "кофе", relevance_threshold=0.99, limit=10)
    assert all(m["relevance_score"] >= 0.99 for m in strict["memories"])


def test_search_filters_by_type_session_and_agent(api):
    user = unique_user()
    pref = api.create(user, "User prefers email notifications", type="preference", session_id="s1", agent_id="a1")
    fact = api.create(user, "User gets email notifications daily", type="fact", session_id="s2", agent_id="a2")
    query = "email notifications"
    assert [m["id"] for m in api.search(user, query, types=["preference"], relevance_threshold=0)["memories"]] == [pref["id"]]
    assert [m["id"] for m in api.search(user, query, session_id="s2", relevance_threshold=0)["memories"]] == [fact["id"]]
    assert [m["id"] for m in api.search(user, query, agent_id="a1", relevance_threshold=0)["memories"]] == [pref["id"]]


def test_search_without_query_returns_recent_memories_of_the_scope(api):
    """The guide's Flowise class searches with user_id and session_id only."""
    user = unique_user()
    first = api.create(user, "first", session_id="s1")
    second = api.create(user, "second", session_id="s1")
    api.create(user, "other session", session_id="s2")
    body = api.search(user, session_id="s1", relevance_threshold=0.7, limit=5)
    assert [m["id"] for m in body["memories"]] == [second["id"], first["id"]]
    assert body["total"] == 2


def test_update_changes_content_metadata_and_what_search_finds(api):
    user = unique_user()
    memory = api.create(user, "Пользователь предпочитает получать уведомления по email", type="preference",
                        metadata={"source": "user_settings"})
    response = api.put(f"/api/memories/{memory['id']}", json={
        "content": "Пользователь предпочитает получать уведомления по SMS",
        "metadata": {"source": "user_settings", "updated_by": "system"}})
    assert response.status_code == 200
    updated = response.json()
    assert updated["content"].endswith("SMS") and updated["metadata"]["updated_by"] == "system"
    assert updated["created_at"] == memory["created_at"] and updated["updated_at"] > memory["updated_at"]
    assert updated["type"] == "preference"
    hits = api.search(user, "SMS", relevance_threshold=0.0)["memories"]
    assert hits and hits[0]["content"].endswith("SMS")
    assert api.get(f"/api/memories/{memory['id']}").json()["content"].endswith("SMS")

    retyped = api.put(f"/api/memories/{memory['id']}", json={"type": "fact"}).json()
    assert retyped["type"] == "fact" and retyped["content"] == updated["content"]
    assert api.search(user, "SMS", types=["preference"], relevance_threshold=0.0)["memories"] == []


def test_delete_really_deletes(api):
    user = unique_user()
    memory = api.create(user, "Пользователь не хочет получать push-уведомления", type="preference")
    response = api.delete(f"/api/memories/{memory['id']}")
    assert response.status_code == 200
    assert response.json()["success"] is True and response.json()["message"]
    assert api.get(f"/api/memories/{memory['id']}").status_code == 404
    assert api.search(user, "push-уведомления", relevance_threshold=0.0)["memories"] == []
    assert api.delete(f"/api/memories/{memory['id']}").status_code == 404


def test_list_is_newest_first_with_stable_pagination(api):
    user = unique_user()
    created = [api.create(user, f"memory number {i}", type="fact" if i % 2 else "interaction") for i in range(7)]
    page = api.get(f"/api/memories/user/{user}").json()
    assert page["total"] == 7 and page["limit"] == 10 and page["offset"] == 0
    assert [m["id"] for m in page["memories"]] == [m["id"] for m in reversed(created)]
    seen = []
    for offset in range(0, 7, 3):
        body = api.get(f"/api/memories/user/{user}", params={"limit": 3, "offset": offset}).json()
        assert body["limit"] == 3 and body["offset"] == offset and body["total"] == 7
        seen += [m["id"] for m in body["memories"]]
    assert seen == [m["id"] for m in reversed(created)]
    facts = api.get(f"/api/memories/user/{user}", params={"type": "fact"}).json()
    assert facts["total"] == 3 and {m["type"] for m in facts["memories"]} == {"fact"}
    oldest_first = api.get(f"/api/memories/user/{user}", params={"order": "asc", "limit": 2}).json()
    assert [m["id"] for m in oldest_first["memories"]] == [created[0]["id"], created[1]["id"]]


def test_list_created_before_supports_the_cleanup_recipe(api):
    user = unique_user()
    old = api.create(user, "an old memory")
    cutoff = (datetime.now(timezone.utc) + timedelta(milliseconds=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    import time

    time.sleep(0.02)
    api.create(user, "a new memory")
    body = api.get(f"/api/memories/user/{user}?created_before={cutoff}").json()
    assert [m["id"] for m in body["memories"]] == [old["id"]]
    assert api.get(f"/api/memories/user/{user}?created_before=2020-01-01T00:00:00Z").json()["total"] == 0


def test_exact_duplicate_returns_the_existing_memory(api):
    user = unique_user()
    first = api.post("/api/memories", json={"user_id": user, "content": "Likes  green tea", "type": "preference"})
    again = api.post("/api/memories", json={"user_id": user, "content": "likes green tea", "type": "preference"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other_session = api.post("/api/memories", json={"user_id": user, "content": "likes green tea", "session_id": "s9"})
    assert other_session.status_code == 201
    turns = [api.post("/api/memories", json={"user_id": user, "content": "ok", "type": "interaction"}) for _ in range(2)]
    assert [t.status_code for t in turns] == [201, 201], "repeated conversation turns are all kept"


def test_delete_all_memories_of_a_user(api):
    user, other = unique_user(), unique_user()
    for i in range(3):
        api.create(user, f"erase me {i}", session_id="s1" if i else "s2")
    keep = api.create(other, "erase me 0")
    narrowed = api.delete(f"/api/memories/user/{user}", params={"session_id": "s1"}).json()
    assert narrowed["deleted"] == 2
    body = api.delete(f"/api/memories/user/{user}").json()
    assert body == {"success": True, "deleted": 1, "message": body["message"]}
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 0
    assert api.search(user, "erase me", relevance_threshold=0.0)["memories"] == []
    assert api.get(f"/api/memories/{keep['id']}").status_code == 200


def test_users_never_see_each_other(api):
    alice, bob = unique_user("alice"), unique_user("bob")
    secret = api.create(alice, "Alice's bank PIN hint is her cat's birthday")
    api.create(bob, "Bob likes hiking")
    assert api.search(bob, "bank PIN hint cat birthday", relevance_threshold=0.0)["memories"][0]["user_id"] == bob
    assert all(m["user_id"] == bob for m in api.search(bob, "PIN", relevance_threshold=0.0)["memories"])
    assert all(m["user_id"] == bob for m in api.get(f"/api/memories/user/{bob}").json()["memories"])
    assert api.search(unique_user(), "bank PIN", relevance_threshold=0.0) == {"memories": [], "total": 0}
    assert api.get(f"/api/memories/{secret['id']}").json()["user_id"] == alice  # the admin key sees every user


def test_a_batch_keeps_its_order_in_lists(api):
    user = unique_user()
    turns = [f"turn {i}" for i in range(30)]
    api.post("/api/memories/batch", json={"memories": [{"user_id": user, "content": t, "type": "interaction"}
                                                       for t in turns]})
    oldest_first = api.get(f"/api/memories/user/{user}", params={"order": "asc", "limit": 100}).json()["memories"]
    assert [m["content"] for m in oldest_first] == turns
    newest_first = api.get(f"/api/memories/user/{user}", params={"limit": 100}).json()["memories"]
    assert [m["content"] for m in newest_first] == turns[::-1]
