"""n8n's AI Agent with its built-in MCP Client Tool on /mcp: the shipped "AI Agent with MCP memory" workflow in a
real n8n (server mode), the model scripted to call add_memory and then search_memories."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.n8n.n8n_server import N8nServer, N8nUnavailable
from tests.n8n.operation_workflows import BEARER_CREDENTIAL, OPENAI_CREDENTIAL
from tests.support.api import Api
from tests.support.fixtures import unique_user

pytestmark = pytest.mark.e2e

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "n8n" / "ai-agent-with-mcp-memory.json"
EXAMPLE_URL = "http://localhost:3456/mcp"


@pytest.fixture(scope="module")
def n8n_mcp(live_service, fake_openai, tmp_path_factory: pytest.TempPathFactory) -> Iterator[N8nServer]:
    try:
        server = N8nServer(tmp_path_factory.mktemp("n8n-mcp-home"))
    except N8nUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    workflow = json.loads(WORKFLOW.read_text())
    [mcp_node] = [n for n in workflow["nodes"] if n["type"] == "@n8n/n8n-nodes-langchain.mcpClientTool"]
    assert mcp_node["parameters"]["endpointUrl"].startswith("=" + EXAMPLE_URL)
    # what a user does after the import: point the MCP Client Tool at their service
    mcp_node["parameters"]["endpointUrl"] = mcp_node["parameters"]["endpointUrl"].replace(
        EXAMPLE_URL, live_service.url + "/mcp")
    server.import_credentials([
        {**OPENAI_CREDENTIAL, "type": "openAiApi", "data": {"apiKey": "sk-test", "url": fake_openai.base_url}},
        {**BEARER_CREDENTIAL, "type": "httpBearerAuth", "data": {"token": live_service.api_key}}])
    server.import_workflows([workflow])
    server.start()
    server.activate(workflow["id"])
    yield server
    server.stop()


def tool_call(call_id: str, name: str, arguments: dict) -> dict:
    return {"content": None, "tool_calls": [{"id": call_id, "type": "function",
                                              "function": {"name": name, "arguments": json.dumps(arguments)}}]}


def test_agent_remembers_through_mcp_and_recalls_it(n8n_mcp, fake_openai, live_service):
    api, user = Api(live_service.url, live_service.api_key), unique_user("n8n-mcp")
    fake_openai.clear()
    fake_openai.queue_chat(tool_call("call_add_1", "add_memory", {"text": "The user's name is Dave",
                                                                  "type": "fact"}))
    fake_openai.queue_chat(tool_call("call_search_1", "search_memories", {"query": "What is the user's name?",
                                                                          "threshold": 0.3}))
    fake_openai.queue_chat({"content": "Nice to meet you, Dave."})

    response = n8n_mcp.webhook("mem0-mcp-agent", {"userId": user, "message": "Hi, my name is Dave."})
    assert response.status_code == 200, f"{response.text}\n{n8n_mcp.log()[-3000:]}"
    assert response.json() == {"output": "Nice to meet you, Dave."}

    # the memory is in the service, under the user the workflow passed in the MCP URL
    [memory] = api.get(f"/api/memories/user/{user}").json()["memories"]
    assert memory["content"] == "The user's name is Dave" and memory["type"] == "fact"

    calls = fake_openai.chat_requests()
    offered = {tool["function"]["name"] for tool in calls[0]["tools"]}
    assert {"add_memory", "search_memories", "list_memories", "forget_everything"} <= offered
    search_schema = next(t for t in calls[0]["tools"] if t["function"]["name"] == "search_memories")
    assert "query" in search_schema["function"]["parameters"]["properties"]
    # the model read back what it stored: the search result went into its last request
    tool_answers = [m for m in calls[-1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_answers] == ["call_add_1", "call_search_1"]
    assert memory["id"] in str(tool_answers[1]["content"]) and "relevance_score" in str(tool_answers[1]["content"])


def test_tool_errors_reach_the_model_and_the_run_goes_on(n8n_mcp, fake_openai, live_service):
    fake_openai.clear()
    fake_openai.queue_chat(tool_call("call_get_1", "get_memory", {"memory_id": "mem_does_not_exist"}))
    fake_openai.queue_chat({"content": "I could not find that memory."})

    response = n8n_mcp.webhook("mem0-mcp-agent", {"userId": unique_user("n8n-mcp"), "message": "Show memory 42"})
    assert response.status_code == 200, f"{response.text}\n{n8n_mcp.log()[-3000:]}"
    assert response.json() == {"output": "I could not find that memory."}
    [answer] = [m for m in fake_openai.chat_requests()[-1]["messages"] if m["role"] == "tool"]
    assert "Memory mem_does_not_exist not found" in str(answer["content"])
