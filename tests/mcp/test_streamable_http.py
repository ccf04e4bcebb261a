"""The MCP endpoint at /mcp through the official SDK's client, on both storage backends."""

from __future__ import annotations

import json

import pytest
import requests
from mcp.shared.exceptions import MCPError

from tests.mcp.client import ALL_TOOLS, READ_TOOLS, answer, error_text, http_client, tool_names
from tests.support.api import Api
from tests.support.fixtures import unique_user


def make_key(api: Api, **body) -> str:
    response = api.post("/api/keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()["key"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_initialize_and_list_tools(backend_service, mode):
    async with http_client(backend_service, backend_service.api_key, user=unique_user(), mode=mode) as client:
        assert client.server_info.name == "mem0-service"
        assert "search_memories" in (client.instructions or "")
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert list(tools) == ALL_TOOLS
    search = tools["search_memories"]
    assert search.input_schema["required"] == ["query"]
    assert {"query", "limit", "threshold", "types", "session_id"} <= set(search.input_schema["properties"])
    assert search.annotations.read_only_hint is True and tools["delete_memory"].annotations.destructive_hint is True
    # the user comes from the key or the configuration, never from the model, unless the server allows it
    assert all("user_id" not in tool.input_schema["properties"] for tool in tools.values())


async def test_prompt_tells_the_model_how_to_use_its_memory(backend_service):
    api = Api(backend_service.url, backend_service.api_key)
    read_only = make_key(api, user_id=unique_user(), access="read")
    async with http_client(backend_service, backend_service.api_key) as client:
        assert [p.name for p in (await client.list_prompts()).prompts] == ["use_memory"]
        [message] = (await client.get_prompt("use_memory")).messages
        assert "search_memories" in message.content.text and "add_memory" in message.content.text
    async with http_client(backend_service, read_only) as client:
        [message] = (await client.get_prompt("use_memory")).messages
        assert "search_memories" in message.content.text and "add_memory" not in message.content.text


async def test_every_tool_round_trip_shows_in_the_http_api(backend_service):
    api, user = Api(backend_service.url, backend_service.api_key), unique_user()
    async with http_client(backend_service, backend_service.api_key, user=user) as client:
        added = answer(await client.call_tool("add_memory", {"text": "Prefers window seats on long flights",
                                                             "type": "preference"}))
        assert added["results"][0]["event"] == "ADD" and added["extraction"]["status"] == "skipped"
        memory_id = added["results"][0]["id"]
        again = answer(await client.call_tool("add_memory", {"text": "Prefers window seats on long flights"}))
        assert again["results"][0] == {**added["results"][0], "event": "NONE"}
        answer(await client.call_tool("add_memory", {"text": "Lives in Lisbon"}))
        learned = answer(await client.call_tool("add_memory", {"messages": [
            {"role": "user", "content": "I am training for a marathon"}, {"role": "assistant", "content": "Great!"}]}))
        assert [r["event"] for r in learned["results"]] == ["ADD", "ADD"]  # no chat model: turns kept as given
        assert {r["type"] for r in learned["results"]} == {"interaction"}

        found = answer(await client.call_tool("search_memories", {"query": "Which seat does the user like on planes?",
                                                                  "threshold": 0.3}))
        assert found["memories"][0]["id"] == memory_id and 0 < found["memories"][0]["relevance_score"] <= 1
        page = answer(await client.call_tool("list_memories", {"limit": 2}))
        assert page["total"] == 4 and len(page["memories"]) == 2
        assert [m["content"] for m in page["memories"]] == ["Great!", "I am training for a marathon"]  # newest first
        assert answer(await client.call_tool("get_memory", {"memory_id": memory_id}))["type"] == "preference"
        updated = answer(await client.call_tool("update_memory", {"memory_id": memory_id,
                                                                  "text": "Prefers aisle seats on long flights"}))
        assert updated["content"] == "Prefers aisle seats on long flights"
        assert answer(await client.call_tool("delete_memory", {"memory_id": memory_id}))["success"] is True

    listed = api.get(f"/api/memories/user/{user}").json()
    assert listed["total"] == 3 and memory_id not in {m["id"] for m in listed["memories"]}
    history = api.get(f"/api/memories/{memory_id}/history").json()["history"]
    assert [e["event"] for e in history] == ["ADD", "UPDATE", "DELETE"] and history[1]["actor"] == "mcp"

    async with http_client(backend_service, backend_service.api_key, user=user) as client:
        assert error_text(await client.call_tool("forget_everything", {"confirm": False})).startswith("Nothing was")
        assert answer(await client.call_tool("forget_everything", {"confirm": True}))["deleted"] == 3
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 0


async def test_errors_come_back_as_tool_errors_with_the_services_message(backend_service):
    async with http_client(backend_service, backend_service.api_key, user=unique_user()) as client:
        assert error_text(await client.call_tool("get_memory", {"memory_id": "mem_missing"})) == \
            "Memory mem_missing not found"
        assert error_text(await client.call_tool("search_memories", {"query": "x", "limit": 1000})) == \
            "Invalid value for field 'limit': Input should be less than or equal to 100"
        assert error_text(await client.call_tool("search_memories", {"query": "x", "limit": True})) == \
            "Invalid value for field 'limit': must be a number, not true"
        assert error_text(await client.call_tool("search_memories", {})) == "Missing required field: query"
        assert error_text(await client.call_tool("add_memory", {})) == "Missing required field: text (or messages)"
        assert "must not be empty" in error_text(await client.call_tool("add_memory", {"text": "   "}))
        assert error_text(await client.call_tool("update_memory", {"memory_id": "mem_missing"})).startswith(
            "Missing required field: text")
        with pytest.raises(MCPError, match="Unknown tool: remember_everything"):
            await client.call_tool("remember_everything", {})
        # the connection survives every one of them
        assert await tool_names(client) == ALL_TOOLS

    async with http_client(backend_service, backend_service.api_key) as client:  # admin key, no user configured
        assert "X-Mem0-User-Id" in error_text(await client.call_tool("list_memories", {}))
    async with http_client(backend_service, backend_service.api_key, user="not a valid id") as client:
        assert "Invalid user id" in error_text(await client.call_tool("list_memories", {}))


async def test_user_bound_key_cannot_cross_users(backend_service):
    api = Api(backend_service.url, backend_service.api_key)
    alice, bob = unique_user("alice"), unique_user("bob")
    bobs = api.create(bob, "Bob's locker code is 4711")
    key = make_key(api, user_id=alice)
    # the X-Mem0-User-Id header cannot move a bound key to another user either
    async with http_client(backend_service, key, user=bob) as client:
        tools = (await client.list_tools()).tools
        assert [t.name for t in tools] == ALL_TOOLS
        assert all("user_id" not in t.input_schema["properties"] for t in tools)
        added = answer(await client.call_tool("add_memory", {"text": "Alice's locker code is 1234"}))
        assert added["results"][0]["user_id"] == alice
        found = answer(await client.call_tool("search_memories", {"query": "locker code", "threshold": 0.0}))
        assert [m["user_id"] for m in found["memories"]] == [alice]
        assert error_text(await client.call_tool("get_memory", {"memory_id": bobs["id"]})) == \
            f"Memory {bobs['id']} not found"
        assert "not found" in error_text(await client.call_tool("delete_memory", {"memory_id": bobs["id"]}))
        assert error_text(await client.call_tool("list_memories", {"user_id": bob})) == \
            f"This API key is limited to user_id '{alice}'"
        assert answer(await client.call_tool("forget_everything", {"confirm": True}))["deleted"] == 1
    assert api.get(f"/api/memories/{bobs['id']}").status_code == 200


async def test_read_only_key_sees_no_write_tools(backend_service):
    api, user = Api(backend_service.url, backend_service.api_key), unique_user()
    kept = api.create(user, "Speaks Portuguese and English")
    key = make_key(api, user_id=user, access="read")
    async with http_client(backend_service, key) as client:
        assert await tool_names(client) == READ_TOOLS
        assert answer(await client.call_tool("get_memory", {"memory_id": kept["id"]}))["content"] == kept["content"]
        # a client that calls a hidden tool anyway gets the service's refusal, and nothing changes
        assert error_text(await client.call_tool("delete_memory", {"memory_id": kept["id"]})) == \
            "This API key is read-only"
        assert error_text(await client.call_tool("add_memory", {"text": "x"})) == "This API key is read-only"
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 1


async def test_agent_bound_key_stays_with_its_agent(backend_service):
    api, user = Api(backend_service.url, backend_service.api_key), unique_user()
    other = api.create(user, "Notes of the billing agent", agent_id="billing")
    key = make_key(api, agent_id="support")
    async with http_client(backend_service, key, user=user) as client:
        # may not erase a whole user: the key is not bound to one
        assert "forget_everything" not in await tool_names(client)
        mine = answer(await client.call_tool("add_memory", {"text": "Prefers e-mail over phone"}))
        assert mine["results"][0]["agent_id"] == "support"
        listed = answer(await client.call_tool("list_memories", {}))
        assert [m["id"] for m in listed["memories"]] == [mine["results"][0]["id"]]
        assert "not found" in error_text(await client.call_tool("get_memory", {"memory_id": other["id"]}))


def test_without_a_key_the_endpoint_answers_401_like_every_route(backend_service):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    response = requests.post(f"{backend_service.url}/mcp", json=body, headers=headers, timeout=10)
    assert response.status_code == 401 and response.json()["message"] == "Invalid API key"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = requests.post(f"{backend_service.url}/mcp", json=body, timeout=10, headers={
        **headers, "Authorization": f"Bearer {backend_service.api_key}"})
    assert response.status_code == 200 and response.headers["X-Request-ID"]
    assert [tool["name"] for tool in response.json()["result"]["tools"]] == ALL_TOOLS
    # stateless: no server-to-client stream to open
    assert requests.get(f"{backend_service.url}/mcp", headers={**headers, "Authorization": f"Bearer "
                                                                f"{backend_service.api_key}"}, timeout=10).status_code == 405


async def test_memories_as_resources_under_the_same_scope(backend_service):
    api, alice, bob = Api(backend_service.url, backend_service.api_key), unique_user("alice"), unique_user("bob")
    alices = api.create(alice, "Alice's favourite tea is sencha")
    bobs = api.create(bob, "Bob's favourite tea is rooibos")
    async with http_client(backend_service, make_key(api, user_id=alice, access="read")) as client:
        [template] = (await client.list_resource_templates()).resource_templates
        assert template.uri_template == "memory://{user_id}/{memory_id}"
        listed = (await client.list_resources()).resources
        assert [r.uri for r in listed] == [f"memory://{alice}/{alices['id']}"] and listed[0].title == alices["content"]
        [contents] = (await client.read_resource(listed[0].uri)).contents
        assert json.loads(contents.text)["content"] == alices["content"]
        for uri in (f"memory://{bob}/{bobs['id']}", f"memory://{alice}/{bobs['id']}"):
            with pytest.raises(MCPError, match=f"Memory {bobs['id']} not found"):
                await client.read_resource(uri)
        with pytest.raises(MCPError, match="Not a memory URI"):
            await client.read_resource("file:///etc/passwd")


async def test_search_tool_says_why_a_query_was_not_rewritten(backend_service):
    user = unique_user()
    async with http_client(backend_service, backend_service.api_key, user=user) as client:
        answer(await client.call_tool("add_memory", {"text": "Anna has a cat named Barsik"}))
        found = answer(await client.call_tool("search_memories", {"query": "Есть ли у Анны домашние животные?",
                                                                  "threshold": 0, "rewrite_query": True}))
        assert found["query_rewrite"]["status"] == "skipped" and "OPENAI_API_KEY" in found["query_rewrite"]["reason"]
        assert found["memories"][0]["content"] == "Anna has a cat named Barsik"
        plain = answer(await client.call_tool("search_memories", {"query": "cat", "threshold": 0}))
        assert "query_rewrite" not in plain
        for hostile in ("maybe", 2, [True], {"on": True}):
            refused = error_text(await client.call_tool("search_memories", {"query": "cat", "rewrite_query": hostile}))
            assert refused.startswith("Invalid value for field 'rewrite_query'"), refused
        with pytest.raises(MCPError):  # NUL is refused with the whole message, before any tool sees it
            await client.call_tool("search_memories", {"query": "cat", "rewrite_query": "\u0000"})
        assert answer(await client.call_tool("search_memories", {"query": "cat", "threshold": 0}))["total"] == 1
