"""Flowise's Custom MCP tool on /mcp: the shipped chatflow "agent with MCP memory" in a real Flowise 3.1.2,
the model scripted to call add_memory and then search_memories."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from unittest import mock

import pytest

from tests.flowise.flowise_server import FlowiseServer, bind_flow, cache_dir, load_workflow
from tests.support.api import Api
from tests.support.fixtures import unique_user

pytestmark = pytest.mark.e2e

FLOWISE_VERSION = "3.1.2"
FLOW_FILE = "agent-with-mcp-memory.json"


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


def tool_call(call_id: str, name: str, arguments: dict) -> dict:
    return {"content": "", "tool_calls": [{"id": call_id, "type": "function",
                                            "function": {"name": name, "arguments": json.dumps(arguments)}}]}


def test_agent_remembers_through_custom_mcp_and_recalls_it(flowise_mcp, fake_openai, live_service):
    api, user = Api(live_service.url, live_service.api_key), unique_user("flowise-mcp")
    key = api.post("/api/keys", json={"user_id": user, "name": "flowise agent"}).json()["key"]
    openai = flowise_mcp.create_credential("fake openai", "openAIApi", {"openAIApiKey": "sk-fake"})
    flow = bind_flow(load_workflow(FLOW_FILE), credentials={"openAIApi": openai}, inputs={
        # what a user does after the import: their model, their service address and key
        "chatOpenAI": {"basepath": fake_openai.base_url, "streaming": False},
        "customMCP": {"mcpServerConfig": json.dumps({"url": f"{live_service.url}/mcp",
                                                     "headers": {"Authorization": f"Bearer {key}"}})}})
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
