"""The Mem0 node in real n8n: every operation, called through a published workflow, against the live service."""

from __future__ import annotations

import json
import uuid

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


def _conversation() -> list[dict]:
    tag = uuid.uuid4().hex[:8]
    return [{"role": "user", "content": f"I moved to Porto last year and I always book window seats. [{tag}]"},
            {"role": "assistant", "content": f"Porto is lovely! Noted about the seats. [{tag}]"}]


def test_create_from_a_conversation_stores_the_facts_the_service_extracts(n8n, fake_openai, learning_service):
    service = ServiceClient(learning_service.url, learning_service.api_key)
    user, messages = new_user(), _conversation()
    fake_openai.queue_chat({"content": json.dumps({"facts": [
        {"content": "The user lives in Porto", "type": "fact"},
        {"content": "The user prefers window seats", "type": "preference"}]})})

    [answer] = run(n8n, "op-create-conversation", user_id=user, messages=messages, infer=True, session_id="trip-1")

    assert answer["extraction"]["status"] == "done", answer
    assert sorted((event["event"], event["content"]) for event in answer["results"]) == [
        ("ADD", "The user lives in Porto"), ("ADD", "The user prefers window seats")]
    extraction_input = json.dumps(fake_openai.chat_requests()[-1]["messages"])
    assert messages[0]["content"] in extraction_input and messages[1]["content"] in extraction_input
    stored = {m["content"]: m for m in service.memories_of(user)}
    assert set(stored) == {"The user lives in Porto", "The user prefers window seats"}
    assert stored["The user prefers window seats"]["type"] == "preference"
    assert {m["session_id"] for m in stored.values()} == {"trip-1"}


def test_create_from_a_conversation_without_extraction_keeps_each_message(n8n, fake_openai, learning_service):
    service = ServiceClient(learning_service.url, learning_service.api_key)
    user, messages = new_user(), _conversation()
    model_calls = len(fake_openai.chat_requests())

    [answer] = run(n8n, "op-create-conversation", user_id=user, messages=messages, infer=False)

    assert answer["extraction"]["status"] == "skipped", answer
    assert len(fake_openai.chat_requests()) == model_calls  # the service's model was not asked
    stored = service.memories_of(user, order="asc")
    assert [m["type"] for m in stored] == ["interaction", "interaction"]
    assert all(message["content"] in m["content"] for message, m in zip(messages, stored, strict=True))


def test_create_from_malformed_messages_names_the_field(n8n, learning_service):
    response = n8n.webhook("op-create-conversation", {"user_id": new_user(), "messages": [{"role": "user"}],
                                                      "infer": False})
    assert response.status_code == 502, response.text
    assert response.json()["error"] == "Bad Request: Missing required field: messages.0.content"


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


def test_search_with_the_rewrite_option_asks_the_services_chat_model(n8n, fake_openai, learning_service):
    """What the rewrites find is the service's business (tests/service/test_query_rewrite.py, with the bundled
    model); here: the option reaches the service, and its answer reaches the workflow."""
    service = ServiceClient(learning_service.url, learning_service.api_key)
    user = new_user()
    cat = service.create(user, "Anna has a cat named Barsik")
    fake_openai.queue_chat({"content": json.dumps({"queries": ["Does the user have pets?", "cat, dog, parrot"]})})

    [answer] = run(n8n, "op-search-rewrite", user_id=user, query="Есть ли у пользователя домашние животные?")

    assert answer["query_rewrite"] == {"status": "done", "queries": ["Does the user have pets?", "cat, dog, parrot"],
                                       "reason": None}
    assert [m["id"] for m in answer["memories"]] == [cat["id"]]
    assert fake_openai.chat_requests()[-1]["messages"][-1]["content"] == "Есть ли у пользователя домашние животные?"


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


def test_return_all_pages_through_more_than_one_page(n8n, service):
    user = new_user()
    ids = service.create_many(user, [f"Reading list entry {i}" for i in range(1003)])  # the node's pages hold 1000

    items = run(n8n, "op-list-all", user_id=user)
    assert [m["id"] for m in items] == ids[::-1]  # every memory once, one item each, newest first


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
