"""Every chatflow in workflows/flowise/ imported into the real Flowise and run with predictions."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.flowise.chatflows import FLOWS
from tests.flowise.flowise_server import WORKFLOWS, load_workflow

pytestmark = pytest.mark.e2e

# Each file must be run by a test below; a new file without a test fails here.
# agent-with-mcp-memory.json runs in tests/mcp/test_flowise_agent.py (a Flowise that may reach loopback MCP servers)
TESTED = {"chatbot-with-memory.json", "image-prompt-personalization.json", "agent-with-mem0-tools.json",
          "agent-with-mcp-memory.json"}


def _new_user(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _remember(live_service, user_id: str, content: str, type_: str = "fact", **extra) -> dict:
    r = requests.post(f"{live_service.url}/api/memories", headers=live_service.headers,
                      json={"user_id": user_id, "content": content, "type": type_, **extra}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def _memories(live_service, user_id: str, **params) -> list[dict]:
    r = requests.get(f"{live_service.url}/api/memories/user/{user_id}", headers=live_service.headers,
                     params={"order": "asc", "limit": 100, **params}, timeout=10)
    r.raise_for_status()
    return r.json()["memories"]


def _log(live_service, user_id: str, session_id: str) -> list[tuple[str, str]]:
    """(role, content) of a session's message log, oldest first."""
    r = requests.get(f"{live_service.url}/api/sessions/{session_id}/messages", headers=live_service.headers,
                     params={"user_id": user_id, "limit": 100}, timeout=10)
    r.raise_for_status()
    return [(m["role"], m["content"]) for m in r.json()["messages"]]


def _prompt_text(chat_request: dict) -> str:
    return "\n".join(f"{m['role']}: {m.get('content') or ''}" for m in chat_request["messages"])


def test_every_workflow_file_is_tested_and_known():
    files = {p.name for p in WORKFLOWS.glob("*.json")}
    assert files == TESTED == {spec.file for spec in FLOWS}


@pytest.mark.parametrize("file", sorted(TESTED))
def test_workflow_nodes_match_installed_flowise(flowise, file):
    """Node names, versions, inputs and connection points as the installed Flowise defines them."""
    flow = load_workflow(file)
    installed = {}
    for node in flow["nodes"]:
        data = node["data"]
        if data["name"] not in installed:
            installed[data["name"]] = flowise.get(f"nodes/{data['name']}")
        current = installed[data["name"]]
        assert data["version"] == current["version"], f"{data['name']}: file has v{data['version']}, Flowise v{current['version']}"
        current_inputs = {p["name"]: p["type"] for p in current.get("inputs") or []}
        file_inputs = {p["name"]: p["type"] for p in data["inputParams"] + data["inputAnchors"] if p["type"] != "credential"}
        assert file_inputs == current_inputs, f"{data['name']}: inputs differ from the installed Flowise"
        assert set(data["inputs"]) <= set(current_inputs), data["name"]
        if current.get("credential"):
            cred = next(p for p in data["inputParams"] if p["type"] == "credential")
            assert cred["credentialNames"] == current["credential"]["credentialNames"]
    handles = {a["id"] for n in flow["nodes"] for a in n["data"]["inputAnchors"] + n["data"]["inputParams"]}
    outputs = {o["id"] for n in flow["nodes"] for a in n["data"]["outputAnchors"] for o in a.get("options", [a])}
    for edge in flow["edges"]:
        assert edge["targetHandle"] in handles and edge["sourceHandle"] in outputs, edge["id"]


def test_chatbot_with_memory(flowise, import_workflow, live_service, fake_openai):
    flow_id = import_workflow("chatbot-with-memory.json")
    user, other = _new_user("fw-chat"), _new_user("fw-chat-other")
    _remember(live_service, user, "My favourite colour is teal", "preference")
    chat1, chat2 = f"c1-{user}", f"c2-{user}"

    r1 = flowise.predict(flow_id, "What is my favourite colour?", chat_id=chat1, override_config={"userId": user})
    r2 = flowise.predict(flow_id, "And which colour did I ask about?", chat_id=chat1, override_config={"userId": user})

    first, second = fake_openai.chat_requests()[-2:]
    # Long-term memory reached the model as context, before the question.
    assert "My favourite colour is teal" in _prompt_text(first)
    assert first["messages"][-1] == {"role": "user", "content": "What is my favourite colour?"}
    assert first["stream"] is False
    # The second turn carries the first one as history, read back from the service.
    contents = [m.get("content") for m in second["messages"]]
    assert contents[-3:] == ["What is my favourite colour?", r1.json()["text"], "And which colour did I ask about?"]
    # Every turn is in the session's message log of the user, in order; no memory is made of them.
    assert _memories(live_service, user, session_id=chat1) == []
    assert _log(live_service, user, chat1) == [
        ("user", "What is my favourite colour?"), ("assistant", r1.json()["text"]),
        ("user", "And which colour did I ask about?"), ("assistant", r2.json()["text"])]

    # A new chat of the same user starts without history but still knows the long-term memories.
    flowise.predict(flow_id, "Remind me of my favourite colour", chat_id=chat2, override_config={"userId": user})
    third = fake_openai.chat_requests()[-1]
    assert "teal" in _prompt_text(third)
    assert "And which colour did I ask about?" not in [m.get("content") for m in third["messages"][-2:]]

    # Another user never sees them.
    flowise.predict(flow_id, "What is my favourite colour?", chat_id=f"c-{other}", override_config={"userId": other})
    assert "teal" not in _prompt_text(fake_openai.chat_requests()[-1])


def test_image_prompt_personalization(flowise, import_workflow, live_service, fake_openai):
    flow_id = import_workflow("image-prompt-personalization.json")
    user, newcomer = _new_user("fw-img"), _new_user("fw-img-new")
    _remember(live_service, user, "Prefers watercolour illustrations for images", "preference")
    _remember(live_service, user, "Likes muted pastel colours in pictures", "preference")
    _remember(live_service, user, "Works as an architect in Porto", "fact")
    fake_openai.queue_chat({"content": "A lighthouse at dusk, watercolour, muted pastel palette"})

    r = flowise.predict(flow_id, "a lighthouse at dusk", chat_id=f"c-{user}", override_config={"userId": user})

    assert r.json()["text"] == "A lighthouse at dusk, watercolour, muted pastel palette"
    prompt = _prompt_text(fake_openai.chat_requests()[-1])
    assert "Request: a lighthouse at dusk" in prompt
    assert "- Prefers watercolour illustrations for images" in prompt
    assert "- Likes muted pastel colours in pictures" in prompt
    assert "architect" not in prompt  # only preferences shape the image

    flowise.predict(flow_id, "a cat on a sofa", chat_id=f"c-{newcomer}", override_config={"userId": newcomer})
    prompt = _prompt_text(fake_openai.chat_requests()[-1])
    assert "Style preferences of the user:\nNeutral style" in prompt


def test_agent_with_mem0_tools(flowise, import_workflow, live_service, fake_openai):
    flow_id = import_workflow("agent-with-mem0-tools.json")
    user = _new_user("fw-agent")
    save_call = {"id": "call_save_1", "type": "function",
                 "function": {"name": "mem0_save",
                              "arguments": json.dumps({"content": "The user is vegetarian", "type": "preference"})}}
    fake_openai.queue_chat({"content": "", "tool_calls": [save_call]})
    fake_openai.queue_chat({"content": "Got it, I will remember that you are vegetarian."})

    r = flowise.predict(flow_id, "Please remember that I am vegetarian.", chat_id=f"a1-{user}",
                        override_config={"userId": user})

    assert r.json()["text"] == "Got it, I will remember that you are vegetarian."
    saved = [m for m in _memories(live_service, user) if m["type"] != "interaction"]
    assert [(m["content"], m["type"]) for m in saved] == [("The user is vegetarian", "preference")]
    tools = {t["function"]["name"] for t in fake_openai.chat_requests()[-2]["tools"]}
    assert tools == {"mem0_search", "mem0_save"}

    # A new chat: the agent searches and the found memory is handed back to the model.
    search_call = {"id": "call_search_1", "type": "function",
                   "function": {"name": "mem0_search", "arguments": json.dumps({"query": "Is the user vegetarian?"})}}
    fake_openai.queue_chat({"content": "", "tool_calls": [search_call]})
    fake_openai.queue_chat({"content": "You are vegetarian, so here is a lentil curry."})

    r = flowise.predict(flow_id, "What should I cook tonight?", chat_id=f"a2-{user}", override_config={"userId": user})

    assert r.json()["text"] == "You are vegetarian, so here is a lentil curry."
    after_tool = fake_openai.chat_requests()[-1]["messages"]
    tool_messages = [m for m in after_tool if m["role"] == "tool"]
    assert tool_messages and "The user is vegetarian" in tool_messages[-1]["content"]
    # The conversation itself went through Mem0 Memory.
    assert [content for _, content in _log(live_service, user, f"a2-{user}")] == [
        "What should I cook tonight?", "You are vegetarian, so here is a lentil curry."]
