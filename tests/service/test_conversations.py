"""Learning from conversations with a chat model (a local fake OpenAI-compatible server scripted per test)."""

from __future__ import annotations

import json
import time

from tests.support.fixtures import unique_user

CONVERSATION = [{"role": "user", "content": "Привет! Меня зовут Ольга, я живу в Казани и не ем мясо."},
                {"role": "assistant", "content": "Приятно познакомиться, Ольга!"}]


def facts(*items: tuple[str, str]) -> dict:
    return {"content": json.dumps({"facts": [{"content": c, "type": t} for c, t in items]}, ensure_ascii=False)}


def test_facts_are_extracted_in_the_conversations_language(llm_api, fake_openai):
    user = unique_user()
    fake_openai.queue_chat(facts(("Пользователя зовут Ольга", "fact"), ("Живёт в Казани", "fact"),
                                 ("Не ест мясо", "preference")))
    response = llm_api.post("/api/memories", json={"user_id": user, "messages": CONVERSATION, "session_id": "s1"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["extraction"]["status"] == "done"
    assert [(r["event"], r["content"]) for r in body["results"]] == [
        ("ADD", "Пользователя зовут Ольга"), ("ADD", "Живёт в Казани"), ("ADD", "Не ест мясо")]
    assert body["results"][2]["type"] == "preference"
    prompt = fake_openai.chat_requests()[0]["messages"]
    assert "Меня зовут Ольга" in prompt[-1]["content"] and "SAME LANGUAGE" in prompt[0]["content"]
    found = llm_api.search(user, "Where does the user live?")["memories"]
    assert found and found[0]["content"] == "Живёт в Казани"


def test_new_facts_are_reconciled_with_existing_memories(llm_api, fake_openai):
    user = unique_user()
    city = llm_api.create(user, "Пользователь живёт в Казани")
    meat = llm_api.create(user, "Пользователь не ест мясо", type="preference")
    fake_openai.queue_chat(facts(("Пользователь переехал в Москву", "fact"), ("Пользователь снова ест мясо", "preference"),
                                 ("Пользователь не ест мясо", "preference"), ("У пользователя есть кошка", "fact")))
    fake_openai.queue_chat({"content": json.dumps({"decisions": [
        {"event": "UPDATE", "id": city["id"], "content": "Пользователь живёт в Москве", "type": "fact"},
        {"event": "DELETE", "id": meat["id"]},
        {"event": "NONE", "id": "mem_made_up_by_the_model"},
        {"event": "ADD", "id": None, "content": "У пользователя есть кошка", "type": "fact"}]}, ensure_ascii=False)})
    body = llm_api.post("/api/memories", json={"user_id": user, "messages": [
        {"role": "user", "content": "Я переехал в Москву, снова ем мясо и завёл кошку"}]}).json()
    events = {(r["event"], r["content"]) for r in body["results"]}
    assert events == {("ADD", "У пользователя есть кошка"), ("UPDATE", "Пользователь живёт в Москве"),
                      ("DELETE", "Пользователь не ест мясо")}
    update = next(r for r in body["results"] if r["event"] == "UPDATE")
    assert update["id"] == city["id"] and update["previous_content"] == "Пользователь живёт в Казани"
    assert llm_api.get(f"/api/memories/{meat['id']}").status_code == 404
    reconcile_prompt = fake_openai.chat_requests()[1]["messages"][-1]["content"]
    assert city["id"] in reconcile_prompt and meat["id"] in reconcile_prompt
    assert [h["actor"] for h in llm_api.get(f"/api/memories/{city['id']}/history").json()["history"]] == ["api", "llm"]


def test_junk_from_the_model_is_retried_then_the_conversation_is_kept(llm_api, fake_openai):
    user = unique_user()
    fake_openai.queue_chat({"content": "Sure! Here are the facts: Olga, Kazan"})
    fake_openai.queue_chat({"content": '{"facts": "not a list"}'})
    response = llm_api.post("/api/memories", json={"user_id": user, "messages": CONVERSATION})
    assert response.status_code == 201
    body = response.json()
    assert body["extraction"]["status"] == "deferred" and body["extraction"]["reason"]
    assert len(fake_openai.chat_requests()) == 2, "one retry, no more"
    kept = body["results"][0]
    assert kept["type"] == "interaction" and kept["metadata"]["extraction"] == "pending"
    assert "Меня зовут Ольга" in kept["content"]
    assert llm_api.get(f"/api/memories/user/{user}").json()["total"] == 1, "nothing stored half-way"


def test_a_retry_that_succeeds_stores_the_facts(llm_api, fake_openai):
    user = unique_user()
    fake_openai.queue_chat({"content": "not json"})
    fake_openai.queue_chat(facts(("Пользователя зовут Ольга", "fact")))
    body = llm_api.post("/api/memories", json={"user_id": user, "messages": CONVERSATION}).json()
    assert body["extraction"]["status"] == "done"
    assert [r["content"] for r in body["results"]] == ["Пользователя зовут Ольга"]


def test_model_outage_keeps_the_conversation(llm_api, fake_openai):
    user = unique_user()
    for _ in range(3):  # the client's own retries of a 500, then our handling
        fake_openai.queue_error("/chat/completions", 500)
    body = llm_api.post("/api/memories", json={"user_id": user, "messages": CONVERSATION}).json()
    assert body["extraction"]["status"] == "deferred"
    assert "500" in body["extraction"]["reason"]
    assert body["results"][0]["metadata"]["extraction"] == "pending"


def test_model_timeout_is_retried_once_then_deferred(llm_api, fake_openai):
    user = unique_user()
    for _ in range(6):
        fake_openai.queue_error("/chat/completions", 0, 3)  # sleeps past MEM0_OPENAI_TIMEOUT=2
    started = time.monotonic()
    body = llm_api.post("/api/memories", json={"user_id": user, "messages": CONVERSATION}).json()
    assert body["extraction"]["status"] == "deferred" and "timeout" in body["extraction"]["reason"]
    assert time.monotonic() - started < 30


def test_infer_false_stores_each_turn_as_an_interaction(llm_api, fake_openai):
    user = unique_user()
    body = llm_api.post("/api/memories", json={"user_id": user, "messages": CONVERSATION, "infer": False,
                                               "session_id": "s1"}).json()
    assert body["extraction"]["status"] == "skipped"
    assert [(r["type"], r["metadata"]["role"]) for r in body["results"]] == [("interaction", "user"),
                                                                            ("interaction", "assistant")]
    assert fake_openai.chat_requests() == []


def test_nothing_worth_remembering_adds_nothing(llm_api, fake_openai):
    user = unique_user()
    fake_openai.queue_chat({"content": '{"facts": []}'})
    response = llm_api.post("/api/memories", json={"user_id": user, "messages": [{"role": "user", "content": "Привет"}]})
    assert response.status_code == 200
    assert response.json() == {"results": [], "extraction": {"status": "done", "reason": None}}


def test_infer_without_a_model_says_what_to_configure(api):
    response = api.post("/api/memories", json={"user_id": unique_user(), "messages": CONVERSATION})
    assert response.status_code == 400
    assert response.json()["field"] == "infer" and "OPENAI_API_KEY" in response.json()["message"]
    stored = api.post("/api/memories", json={"user_id": unique_user(), "messages": CONVERSATION, "infer": False})
    assert stored.status_code == 201


def test_messages_validation(api):
    user = unique_user()
    assert api.post("/api/memories", json={"user_id": user, "messages": []}).json()["field"] == "messages"
    assert api.post("/api/memories", json={"user_id": user, "messages": [{"role": "user"}]}).json()["field"] == \
        "messages.0.content"
    both = api.post("/api/memories", json={"user_id": user, "content": "x", "messages": CONVERSATION})
    assert both.status_code == 400 and "either" in both.json()["message"]


def test_idle_sessions_expire_and_the_sweeper_says_so(service_factory):
    from tests.support.api import Api

    service = service_factory(env={"MEM0_SESSION_TTL": "1", "MEM0_SWEEP_INTERVAL": "0.3"})
    api = Api(service.url, service.api_key)
    user = unique_user()
    api.create(user, "short-lived turn", type="interaction", session_id="chat-1")
    keep = api.create(user, "Long-term fact")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and api.get(f"/api/memories/user/{user}").json()["total"] != 1:
        time.sleep(0.3)
    assert [m["id"] for m in api.get(f"/api/memories/user/{user}").json()["memories"]] == [keep["id"]]
    while time.monotonic() < deadline and "idle-session memories removed" not in service.log():
        time.sleep(0.2)  # the sweeper logs after its run completes
    assert "idle-session memories removed" in service.log()
