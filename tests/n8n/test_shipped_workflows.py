"""The guide's n8n examples, shipped in workflows/n8n/, imported unchanged and called like a user's app would."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import pytest

from tests.n8n.service_client import ServiceClient, new_user

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service(live_service) -> ServiceClient:
    return ServiceClient(live_service.url, live_service.api_key)


def test_save_user_preference_stores_a_preference_with_its_source(n8n, service):
    user = new_user()
    response = n8n.webhook("mem0-preferences", {"userId": user, "theme": "dark"})
    assert response.status_code == 201, f"{response.text}\n{n8n.log()[-3000:]}"
    memory = response.json()

    [stored] = service.memories_of(user)
    assert stored["id"] == memory["id"]
    assert stored["content"] == "The user prefers the dark theme"
    assert stored["type"] == "preference"
    assert stored["metadata"]["source"] == "user_settings"
    assert stored["metadata"]["timestamp"]


def test_personalized_reply_puts_the_relevant_memories_into_the_prompt(n8n, fake_openai, service):
    user = new_user()
    relevant = service.create(user, "The user prefers to be notified by e-mail", type="preference")
    service.create(new_user(), "The user prefers to be notified by SMS", type="preference")
    question = f"How should you notify me about my order? I prefer to be notified by e-mail. [{uuid.uuid4().hex[:8]}]"
    fake_openai.queue_chat({"content": "I will send you an e-mail."})

    response = n8n.webhook("mem0-personalized-reply", {"userId": user, "message": question})

    assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
    assert response.json() == {"reply": "I will send you an e-mail.", "memoriesUsed": [relevant["id"]]}
    prompt = next(r["body"]["messages"][-1]["content"] for r in reversed(fake_openai.requests)
                  if r["path"].endswith("/chat/completions") and question in str(r["body"]))
    assert "What you know about the user:\n- The user prefers to be notified by e-mail" in prompt
    assert "SMS" not in prompt


def test_personalized_reply_without_memories_asks_the_plain_question(n8n, fake_openai):
    question = f"What is the capital of Portugal? [{uuid.uuid4().hex[:8]}]"
    response = n8n.webhook("mem0-personalized-reply", {"userId": new_user(), "message": question})

    assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
    assert response.json()["memoriesUsed"] == []
    prompt = next(r["body"]["messages"][-1]["content"] for r in reversed(fake_openai.requests)
                  if r["path"].endswith("/chat/completions") and question in str(r["body"]))
    assert "What you know about the user" not in prompt
    assert prompt.startswith("The user asks: " + question)


def test_save_user_preference_with_plain_http_request_nodes(n8n, service):
    """The variant for n8n instances without community nodes: a Code node builds the guide's body, an HTTP
    Request node with a Bearer Auth credential sends it."""
    user = new_user()
    response = n8n.webhook("mem0-preferences-http", {"userId": user, "theme": "dark"})
    assert response.status_code == 201, f"{response.text}\n{n8n.log()[-3000:]}"

    [stored] = service.memories_of(user)
    assert stored["id"] == response.json()["id"]
    assert stored["content"] == "The user prefers the dark theme"
    assert stored["type"] == "preference"
    assert stored["metadata"]["source"] == "user_settings"
    assert stored["metadata"]["timestamp"].endswith("Z")


def test_retrieve_relevant_memories_returns_relevant_preferences_and_facts_only(n8n, service):
    user = new_user()
    preference = service.create(user, "The user prefers to be notified by e-mail", type="preference")
    fact = service.create(user, "The user gets notified about orders by e-mail", type="fact")
    service.create(user, "The user asked to be notified by e-mail about an order", type="interaction")
    service.create(user, "The user's cat is called Whiskers", type="fact")
    service.create(new_user(), "The user prefers to be notified by e-mail", type="preference")

    response = n8n.webhook("mem0-retrieve", {"userId": user,
                                             "message": "notify me by e-mail, I prefer to be notified by e-mail"})

    assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
    found = response.json()["memories"]
    assert {m["id"] for m in found} == {preference["id"], fact["id"]}
    assert all(m["relevance_score"] >= 0.7 for m in found)


def _last_chat_request(fake_openai, needle: str) -> dict:
    return next(r["body"] for r in reversed(fake_openai.requests)
                if r["path"].endswith("/chat/completions") and needle in str(r["body"]))


def test_fact_capture_stores_what_the_model_decided_to_remember(n8n, fake_openai, service):
    user = new_user()
    message = f"By the way, I am allergic to peanuts. [{uuid.uuid4().hex[:8]}]"
    fake_openai.queue_chat({"content": json.dumps({
        "should_remember": True, "content": "The user is allergic to peanuts", "type": "fact"})})

    response = n8n.webhook("mem0-capture-facts", {"userId": user, "message": message})

    assert response.status_code == 201, f"{response.text}\n{n8n.log()[-3000:]}"
    assert response.json()["remembered"] is True
    [stored] = service.memories_of(user)
    assert stored["id"] == response.json()["memory"]["id"]
    assert (stored["content"], stored["type"]) == ("The user is allergic to peanuts", "fact")
    assert stored["metadata"] == {"source": "conversation", "message": message}
    request = _last_chat_request(fake_openai, message)
    assert request["response_format"] == {"type": "json_object"}
    prompt = request["messages"][-1]["content"]
    assert '"should_remember": true/false' in prompt
    assert prompt.endswith("User message: " + message)


def test_fact_capture_keeps_a_preference_with_its_type(n8n, fake_openai, service):
    user = new_user()
    fake_openai.queue_chat({"content": json.dumps({
        "should_remember": True, "content": "The user prefers short answers", "type": "preference"})})

    response = n8n.webhook("mem0-capture-facts", {"userId": user, "message": "Please keep your answers short."})

    assert response.status_code == 201, f"{response.text}\n{n8n.log()[-3000:]}"
    [stored] = service.memories_of(user)
    assert (stored["content"], stored["type"]) == ("The user prefers short answers", "preference")


def test_fact_capture_stores_nothing_when_the_model_says_so(n8n, fake_openai, service):
    user = new_user()
    message = f"Hi, how are you today? [{uuid.uuid4().hex[:8]}]"
    fake_openai.queue_chat({"content": json.dumps({"should_remember": False, "content": "", "type": "fact"})})

    response = n8n.webhook("mem0-capture-facts", {"userId": user, "message": message})

    assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
    assert response.json() == {"remembered": False}
    assert _last_chat_request(fake_openai, message)
    assert service.memories_of(user) == []


def _created(memory: dict) -> datetime:
    return datetime.fromisoformat(memory["created_at"].replace("Z", "+00:00"))


def test_cleanup_deletes_memories_older_than_n_days_of_the_listed_users_only(n8n, service):
    """The schedule runs the same nodes as the manual trigger; N (olderThanDays) is a fraction of a day here
    so that the cutoff falls between memories written a few seconds apart (the API has no created_at override)."""
    first, second, other = new_user(), new_user(), new_user()
    old = [service.create(first, "The user lived in Lisbon"), service.create(first, "The user liked tea"),
           service.create(second, "The user drove a red car")]
    untouched = service.create(other, "The user studied law")
    time.sleep(3)
    recent = [service.create(first, "The user lives in Porto"), service.create(second, "The user rides a bike")]
    midpoint = _created(old[-1]) + (_created(recent[0]) - _created(old[-1])) / 2
    older_than_days = (datetime.now(timezone.utc) - midpoint).total_seconds() / 86400

    response = n8n.webhook("mem0-cleanup", {"userIds": [first, second], "olderThanDays": older_than_days})

    assert response.status_code == 200, f"{response.text}\n{n8n.log()[-3000:]}"
    assert [item["success"] for item in response.json()] == [True, True, True]
    assert [m["id"] for m in service.memories_of(first)] == [recent[0]["id"]]
    assert [m["id"] for m in service.memories_of(second)] == [recent[1]["id"]]
    assert [m["id"] for m in service.memories_of(other)] == [untouched["id"]]
    for memory in old:
        assert service.get(memory["id"]).status_code == 404

    again = n8n.webhook("mem0-cleanup", {"userIds": [first, second], "olderThanDays": older_than_days})
    assert again.status_code == 200, again.text
    assert again.json() == []
    assert len(service.memories_of(first)) + len(service.memories_of(second)) == 2
