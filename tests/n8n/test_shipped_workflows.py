"""The guide's n8n examples, shipped in workflows/n8n/, imported unchanged and called like a user's app would."""

from __future__ import annotations

import uuid

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
