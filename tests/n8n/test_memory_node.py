"""The Mem0 node in real n8n: every operation, called through a published workflow, against the live service."""

from __future__ import annotations

import pytest

from tests.n8n.service_client import ServiceClient, new_user

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service(live_service) -> ServiceClient:
    return ServiceClient(live_service.url, live_service.api_key)


def run(n8n, path: str, **body) -> list[dict]:
    response = n8n.webhook(path, body)
    assert response.status_code == 200, f"{response.status_code} {response.text}\n{n8n.log()[-3000:]}"
    items = response.json()
    return items if isinstance(items, list) else [items]


def test_create_stores_every_field_in_the_service(n8n, service):
    user = new_user()
    [memory] = run(n8n, "op-create", user_id=user, content="Prefers e-mail notifications", type="preference",
                   session_id="s-42", agent_id="support-bot", metadata={"source": "user_settings", "priority": 2})

    assert memory["id"].startswith("mem_")
    stored = service.get(memory["id"]).json()
    assert stored["user_id"] == user
    assert stored["content"] == "Prefers e-mail notifications"
    assert stored["type"] == "preference"
    assert stored["session_id"] == "s-42"
    assert stored["agent_id"] == "support-bot"
    assert stored["metadata"] == {"source": "user_settings", "priority": 2}


def test_create_with_only_the_required_fields_is_a_fact(n8n, service):
    user = new_user()
    [memory] = run(n8n, "op-create-minimal", user_id=user, content="Lives in Lisbon")
    assert memory["type"] == "fact"
    assert [m["content"] for m in service.memories_of(user)] == ["Lives in Lisbon"]


def test_search_returns_the_relevant_memory_with_its_score(n8n, service):
    user = new_user()
    wanted = service.create(user, "The user prefers to be notified by e-mail", type="preference")
    service.create(user, "The user's dog is called Rex", type="fact")
    service.create(new_user(), "The user prefers to be notified by e-mail", type="preference")  # someone else

    [answer] = run(n8n, "op-search", user_id=user, query="How does the user want to be notified? e-mail?",
                   relevance_threshold=0.3, limit=5, types=["preference", "fact"])

    assert answer["total"] == len(answer["memories"]) >= 1
    top = answer["memories"][0]
    assert top["id"] == wanted["id"]
    assert 0 <= top["relevance_score"] <= 1
    assert all(m["user_id"] == user for m in answer["memories"])


def test_search_types_filter_excludes_other_types(n8n, service):
    user = new_user()
    service.create(user, "The user prefers green tea", type="preference")
    fact = service.create(user, "The user drinks green tea every morning", type="fact")

    [answer] = run(n8n, "op-search", user_id=user, query="green tea", relevance_threshold=0.0, limit=5,
                   types=["fact"])

    assert [m["id"] for m in answer["memories"]] == [fact["id"]]


def test_search_split_into_items_gives_one_item_per_memory(n8n, service):
    user = new_user()
    created = {service.create(user, f"The user visited city number {i}")["id"] for i in range(3)}
    items = run(n8n, "op-search-items", user_id=user, query="Which cities did the user visit?")
    assert {item["id"] for item in items} == created
    assert all("relevance_score" in item for item in items)


def test_get_update_and_delete_a_memory(n8n, service):
    user = new_user()
    memory = service.create(user, "Prefers e-mail", type="preference", metadata={"source": "form"})

    [fetched] = run(n8n, "op-get", id=memory["id"])
    assert fetched["content"] == "Prefers e-mail" and fetched["type"] == "preference"

    [updated] = run(n8n, "op-update", id=memory["id"], content="Prefers e-mail and SMS",
                    metadata={"source": "form", "updated_by": "n8n"})
    assert updated["content"] == "Prefers e-mail and SMS"
    stored = service.get(memory["id"]).json()
    assert stored["content"] == "Prefers e-mail and SMS"
    assert stored["metadata"] == {"source": "form", "updated_by": "n8n"}
    assert stored["type"] == "preference"  # not among the update fields: unchanged

    [deleted] = run(n8n, "op-delete", id=memory["id"])
    assert deleted["success"] is True
    assert service.get(memory["id"]).status_code == 404


def test_list_pages_through_a_users_memories_in_the_chosen_order(n8n, service):
    user = new_user()
    ids = [service.create(user, f"Memory number {i}")["id"] for i in range(5)]

    oldest_first = run(n8n, "op-list", user_id=user, limit=2, order="asc", offset=0)
    assert [m["id"] for m in oldest_first] == ids[:2]
    next_page = run(n8n, "op-list", user_id=user, limit=2, order="asc", offset=2)
    assert [m["id"] for m in next_page] == ids[2:4]
    newest_first = run(n8n, "op-list", user_id=user, limit=5, order="desc", offset=0)
    assert [m["id"] for m in newest_first] == ids[::-1]


def test_list_filters_by_session_and_type(n8n, service):
    user = new_user()
    kept = service.create(user, "Asked about invoices", type="interaction", session_id="s1")
    service.create(user, "Prefers dark mode", type="preference", session_id="s1")
    service.create(user, "Asked about refunds", type="interaction", session_id="s2")

    [answer] = run(n8n, "op-list-session", user_id=user, session_id="s1", type="interaction")
    assert [m["id"] for m in answer["memories"]] == [kept["id"]]
    assert answer["total"] == 1


def test_delete_all_of_a_session_keeps_the_users_other_memories(n8n, service):
    user = new_user()
    service.create(user, "Chat line 1", type="interaction", session_id="old-chat")
    service.create(user, "Chat line 2", type="interaction", session_id="old-chat")
    kept = service.create(user, "Prefers dark mode", type="preference")

    [answer] = run(n8n, "op-delete-all", user_id=user, session_id="old-chat")
    assert answer["success"] is True and answer["deleted"] == 2
    assert [m["id"] for m in service.memories_of(user)] == [kept["id"]]

    [answer] = run(n8n, "op-delete-all", user_id=user, session_id="")
    assert answer["deleted"] == 1
    assert service.memories_of(user) == []


def test_a_rejected_field_is_named_in_the_error(n8n):
    response = n8n.webhook("op-create-minimal", {"user_id": new_user(), "content": ""})
    assert response.status_code == 502, response.text
    error = str(response.json()["error"])
    assert error.startswith("Bad Request: ") and "content" in error, error


def test_missing_memory_fails_the_node_with_the_services_message(n8n):
    response = n8n.webhook("op-get", {"id": "mem_does_not_exist"})
    assert response.status_code == 502, response.text
    error = str(response.json()["error"])
    assert "Memory mem_does_not_exist not found" in error, error


def test_wrong_api_key_fails_with_an_authorization_error(n8n):
    response = n8n.webhook("op-wrong-key", {"user_id": new_user()})
    assert response.status_code == 502, response.text
    error = str(response.json()["error"])
    assert error.startswith("Unauthorized: "), error
