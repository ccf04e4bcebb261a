"""Appending to a session's log with learn=true: the turns are logged and what they teach becomes memories."""

from __future__ import annotations

import json

from tests.support.fixtures import unique_user


def test_learn_logs_the_turns_and_extracts_facts_from_what_was_said(llm_api, fake_openai):
    user = unique_user()
    fake_openai.queue_chat({"content": json.dumps({"facts": [{"content": "The user lives in Porto", "type": "fact"}]})})
    response = llm_api.post("/api/sessions/chat-1/messages", json={"user_id": user, "learn": True, "messages": [
        {"role": "system", "content": "You are a travel assistant."},
        {"role": "user", "content": "I moved to Porto last year."},
        {"role": "assistant", "content": "Porto is lovely!"}]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert [m["seq"] for m in body["messages"]] == [1, 2, 3]
    assert body["learned"]["extraction"]["status"] == "done"
    assert [(r["event"], r["content"], r["session_id"]) for r in body["learned"]["results"]] == [
        ("ADD", "The user lives in Porto", "chat-1")]
    prompt = fake_openai.chat_requests()[0]["messages"][-1]["content"]
    assert "I moved to Porto last year." in prompt and "travel assistant" not in prompt  # only what was said
    found = llm_api.search(user, "Where does the user live?")["memories"]
    assert found and found[0]["content"] == "The user lives in Porto"

    plain = llm_api.post("/api/sessions/chat-1/messages", json={"user_id": user, "messages": [
        {"role": "user", "content": "Thanks!"}]}).json()
    assert plain["learned"] is None and plain["messages"][0]["seq"] == 4
    assert len(fake_openai.chat_requests()) == 1  # no learning unless asked
