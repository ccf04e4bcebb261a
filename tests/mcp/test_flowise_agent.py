"""Flowise's Custom MCP tool on /mcp: the shipped chatflow "agent with MCP memory" in a real Flowise 3.1.2,
the model scripted to call add_memory and then search_memories."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from unittest import mock

import pytest
import requests

from tests.flowise.flowise_server import FlowiseServer, bind_flow, cache_dir, load_workflow
from tests.support.api import Api
from tests.support.fixtures import unique_user

pytestmark = pytest.mark.e2e

FLOWISE_VERSION = "3.1.2"
FLOW_FILE = "agent-with-mcp-memory.json"
EXAMPLE_URL = "http://localhost:3456/mcp"


@pytest.fixture(scope="module")
def flowise_mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowiseServer]:
    folder = cache_dir() / "flowise"
    if not (folder / f".installed-{FLOWISE_VERSION}").exists():
        pytest.fail(f"Flowise {FLOWISE_VERSION} is not installed in {folder}: run bash tests/flowise/install_flowise.sh",
                    pytrace=False)
    # Flowise refuses loopback and private addresses unless told otherwise, as for any self-hosted service
    with mock.patch.dict(os.environ, {"HTTP_SECURITY_CHECK": "false"}):
        server = FlowiseServer(folder, tmp_path_factory.mktemp("flowise-mcp-home")).start()
    yield server
    server.stop()


def create_variable(flowise: FlowiseServer, name: str, value: str) -> None:
    """A static variable, as created on Flowise's Variables page (the owner's login; API keys cannot)."""
    session = requests.Session()
    login = session.post(f"{flowise.base}/auth/login", timeout=30,
                         json={"email": "admin@example.com", "password": "Passw0rd!23"})
    assert login.status_code == 200, login.text
    created = session.post(f"{flowise.base}/variables", headers={"x-request-from": "internal"}, timeout=30,
                           json={"name": name, "value": value, "type": "static"})
    assert created.status_code in (200, 201), created.text


def tool_call(call_id: str, name: str, arguments: dict) -> dict:
    return {"content": "", "tool_calls": [{"id": call_id, "type": "function",
                                            "function": {"name": name, "arguments": json.dumps(arguments)}}]}


def test_agent_remembers_through_custom_mcp_and_recalls_it(flowise_mcp, fake_openai, live_service):
    api, user = Api(live_service.url, live_service.api_key), unique_user("flowise-mcp")
    key = api.post("/api/keys", json={"user_id": user, "name": "flowise agent"}).json()["key"]
    openai = flowise_mcp.create_credential("fake openai", "openAIApi", {"openAIApiKey": "sk-fake"})
    create_variable(flowise_mcp, "mem0ApiKey", key)
    shipped = load_workflow(FLOW_FILE)
    [mcp_node] = [n for n in shipped["nodes"] if n["data"]["name"] == "customMCP"]
    config = mcp_node["data"]["inputs"]["mcpServerConfig"]
    assert "{{$vars.mem0ApiKey}}" in config and EXAMPLE_URL in config
    flow = bind_flow(shipped, credentials={"openAIApi": openai}, inputs={
        # what a user does after the import: their model and their service's address
        "chatOpenAI": {"basepath": fake_openai.base_url, "streaming": False},
        "customMCP": {"mcpServerConfig": config.replace(EXAMPLE_URL, f"{live_service.url}/mcp")}})
    flow_id = flowise_mcp.import_chatflow(FLOW_FILE, flow)

    fake_openai.clear()
    fake_openai.queue_chat(tool_call("call_add_1", "add_memory", {"text": "The user's name is Dave"}))
    fake_openai.queue_chat(tool_call("call_search_1", "search_memories", {"query": "What is the user's name?",
                                                                          "threshold": 0.3}))
    fake_openai.queue_chat({"content": "Nice to meet you, Dave."})

    reply = flowise_mcp.predict(flow_id, "Hi, my name is Dave.", chat_id=f"c1-{user}")
    assert reply.json()["text"] == "Nice to meet you, Dave."

    [memory] = api.get(f"/api/memories/user/{user}").json()["memories"]
    assert memory["content"] == "The user's name is Dave"
    calls = fake_openai.chat_requests()
    offered = {tool["function"]["name"] for tool in calls[0]["tools"]}
    assert {"add_memory", "search_memories"} <= offered and "forget_everything" not in offered
    tool_answers = [m for m in calls[-1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_answers] == ["call_add_1", "call_search_1"]
    assert memory["id"] in str(tool_answers[1]["content"])
