"""The Mem0 components inside a real Flowise: listed by its API, and Mem0 Memory driving a real chain."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.flowise.flowise_server import free_port

pytestmark = pytest.mark.e2e


def test_components_and_credential_are_listed(flowise):
    nodes = {n["name"]: n for n in flowise.get("nodes")}
    assert nodes["mem0Memory"]["label"] == "Mem0 Memory"
    assert nodes["mem0Memory"]["category"] == "Memory"
    assert "BaseChatMemory" in nodes["mem0Memory"]["baseClasses"]
    assert nodes["mem0Search"]["category"] == nodes["mem0Save"]["category"] == "Tools"
    assert {o["name"] for o in nodes["mem0Search"]["outputs"]} == {"tool", "text"}
    for name in ("mem0Memory", "mem0Search", "mem0Save"):
        assert nodes[name]["credential"]["credentialNames"] == ["mem0Api"]
        icon = requests.get(f"{flowise.base}/node-icon/{name}", headers=flowise.headers, timeout=10)
        assert icon.status_code == 200 and b"<svg" in icon.content

    creds = {c["name"]: c for c in flowise.get("components-credentials")}
    assert creds["mem0Api"]["label"] == "Mem0 API"
    assert [(i["name"], i["type"]) for i in creds["mem0Api"]["inputs"]] == [("baseUrl", "string"), ("apiKey", "password")]


def _turns(live_service, user_id, session_id):
    """(role, content) of the session's message log, oldest first."""
    r = requests.get(f"{live_service.url}/api/sessions/{session_id}/messages", headers=live_service.headers,
                     params={"user_id": user_id, "limit": 50}, timeout=10)
    r.raise_for_status()
    return [(m["role"], m["content"]) for m in r.json()["messages"]]


def test_user_id_from_override_config_when_enabled(flowise, import_workflow, live_service, fake_openai):
    """overrideConfig.userId reaches Mem0 Memory once the chatflow allows overriding that input."""
    api_config = {"overrideConfig": {"status": True, "nodes": {"Mem0 Memory": [{"name": "userId", "enabled": True}]},
                                     "variables": []}}
    flow_id = import_workflow("chatbot-with-memory.json", inputs={"mem0Memory": {"userId": ""}}, api_config=api_config)
    user, chat = f"fw-ovr-{uuid.uuid4().hex[:8]}", f"chat-{uuid.uuid4().hex[:8]}"

    flowise.predict(flow_id, "Hello, I am testing overrides.", chat_id=chat, override_config={"userId": user})

    assert [role for role, _ in _turns(live_service, user, chat)] == ["user", "assistant"]
    # Without the override the chat id is the user id, so nothing is mixed into another user's memories.
    other_chat = f"chat-{uuid.uuid4().hex[:8]}"
    flowise.predict(flow_id, "No user id this time.", chat_id=other_chat)
    assert _turns(live_service, other_chat, other_chat)[0] == ("user", "No user id this time.")


@pytest.mark.parametrize("problem", ["wrong key", "service down"])
def test_service_errors_fail_the_prediction_visibly(flowise, import_workflow, live_service, problem):
    if problem == "wrong key":
        data, expected = {"baseUrl": live_service.url, "apiKey": "not-a-key"}, "Mem0 service answered 401"
    else:
        closed = f"http://127.0.0.1:{free_port()}"
        data, expected = {"baseUrl": closed, "apiKey": live_service.api_key}, f"Mem0 service unreachable at {closed}"
    bad = flowise.create_credential(problem, "mem0Api", data)
    flow_id = import_workflow("chatbot-with-memory.json")
    # Point this chatflow's Mem0 Memory at the broken credential (the model credential stays valid).
    flow = json.loads(flowise.get(f"chatflows/{flow_id}")["flowData"])
    for node in flow["nodes"]:
        if node["data"]["name"] == "mem0Memory":
            node["data"]["credential"] = bad
            node["data"]["inputs"]["credential"] = bad
    r = requests.put(f"{flowise.base}/chatflows/{flow_id}", json={"flowData": json.dumps(flow)},
                     headers=flowise.headers, timeout=30)
    assert r.status_code == 200, r.text

    r = flowise.predict(flow_id, "Will this be remembered?", chat_id="c-bad", expect_ok=False)

    assert r.status_code == 500
    assert expected in r.text


def test_clearing_a_chat_in_flowise_deletes_its_session_memories(flowise, import_workflow, live_service):
    """Flowise's "clear chat" (DELETE /chatmessage) empties the session in the service, long-term memories stay."""
    flow_id = import_workflow("chatbot-with-memory.json")
    user, chat, kept_chat = f"fw-clear-{uuid.uuid4().hex[:8]}", f"chat-{uuid.uuid4().hex[:8]}", f"chat-{uuid.uuid4().hex[:8]}"
    r = requests.post(f"{live_service.url}/api/memories", headers=live_service.headers, timeout=10,
                      json={"user_id": user, "content": "Speaks Portuguese", "type": "fact"})
    assert r.status_code == 201
    flowise.predict(flow_id, "First message", chat_id=chat, override_config={"userId": user})
    flowise.predict(flow_id, "Another chat", chat_id=kept_chat, override_config={"userId": user})
    assert len(_turns(live_service, user, chat)) == 2

    r = requests.delete(f"{flowise.base}/chatmessage/{flow_id}", params={"chatId": chat}, headers=flowise.headers,
                        timeout=30)

    assert r.status_code == 200, r.text
    assert _turns(live_service, user, chat) == []
    assert len(_turns(live_service, user, kept_chat)) == 2
    everything = requests.get(f"{live_service.url}/api/memories/user/{user}", headers=live_service.headers,
                              timeout=10).json()["memories"]
    assert "Speaks Portuguese" in [m["content"] for m in everything]


def test_turns_stored_by_the_earlier_version_are_still_the_chats_history(flowise, import_workflow, live_service,
                                                                          fake_openai):
    """The earlier Mem0 Memory kept each turn as an interaction memory (role, source and sequence in metadata)."""
    flow_id = import_workflow("chatbot-with-memory.json")
    user, chat = f"fw-old-{uuid.uuid4().hex[:8]}", f"chat-{uuid.uuid4().hex[:8]}"
    for sequence, (role, text) in enumerate([("user", "My cat is called Mia."), ("assistant", "Mia is a nice name.")]):
        r = requests.post(f"{live_service.url}/api/memories", headers=live_service.headers, timeout=10, json={
            "user_id": user, "session_id": chat, "type": "interaction", "content": text,
            "metadata": {"role": role, "source": "flowise", "sequence": sequence + 1}})
        assert r.status_code == 201, r.text

    flowise.predict(flow_id, "What is my cat called?", chat_id=chat, override_config={"userId": user})

    contents = [m.get("content") for m in fake_openai.chat_requests()[-1]["messages"]]
    assert contents[-3:] == ["My cat is called Mia.", "Mia is a nice name.", "What is my cat called?"]
    assert [role for role, _ in _turns(live_service, user, chat)] == ["user", "assistant"]  # new turns: the log
