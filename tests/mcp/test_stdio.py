"""`mem0-service mcp`: the same tools over stdio, launched by the SDK's client as a desktop client launches it.

It runs next to a live HTTP service on the same (embedded) stores, which is how it is used: what one writes,
the other reads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mcp.shared.exceptions import MCPError

from tests.mcp.client import ALL_TOOLS, READ_TOOLS, answer, error_text, stdio_client, tool_names
from tests.support.api import Api
from tests.support.fixtures import unique_user
from tests.support.service_process import REPO


def make_key(api: Api, **body) -> str:
    response = api.post("/api/keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()["key"]


async def test_admin_key_acts_for_the_configured_user(live_service):
    api, user = Api(live_service.url, live_service.api_key), unique_user()
    async with stdio_client(live_service, live_service.api_key, "--user-id", user) as client:
        assert client.server_info.name == "mem0-service"
        assert await tool_names(client) == ALL_TOOLS
        added = answer(await client.call_tool("add_memory", {"text": "Grows tomatoes on the balcony"}))
        memory_id = added["results"][0]["id"]
        found = answer(await client.call_tool("search_memories", {"query": "gardening", "threshold": 0.0}))
        assert found["memories"][0]["id"] == memory_id
        assert answer(await client.call_tool("get_memory", {"memory_id": memory_id}))["user_id"] == user
        assert answer(await client.call_tool("update_memory", {"memory_id": memory_id, "type": "pattern"}))[
            "type"] == "pattern"
        assert answer(await client.call_tool("list_memories", {}))["total"] == 1
        assert error_text(await client.call_tool("get_memory", {"memory_id": "mem_missing"})) == \
            "Memory mem_missing not found"
        with pytest.raises(MCPError, match="Unknown tool"):
            await client.call_tool("nope", {})
        # what stdio wrote, the HTTP API reads
        assert api.get(f"/api/memories/{memory_id}").json()["type"] == "pattern"
        assert answer(await client.call_tool("delete_memory", {"memory_id": memory_id}))["success"] is True
        assert answer(await client.call_tool("forget_everything", {"confirm": True}))["deleted"] == 0
    assert api.get(f"/api/memories/{memory_id}").status_code == 404


async def test_scoped_read_only_key_cannot_cross_users_or_write(live_service):
    api, alice, bob = Api(live_service.url, live_service.api_key), unique_user("alice"), unique_user("bob")
    api.create(alice, "Alice likes jazz")
    bobs = api.create(bob, "Bob likes opera")
    key = make_key(api, user_id=alice, access="read")
    async with stdio_client(live_service, key, env={"MEM0_MCP_USER_ID": bob}) as client:
        tools = (await client.list_tools()).tools
        assert [t.name for t in tools] == READ_TOOLS
        assert all("user_id" not in t.input_schema["properties"] for t in tools)
        found = answer(await client.call_tool("search_memories", {"query": "music", "threshold": 0.0}))
        assert [m["content"] for m in found["memories"]] == ["Alice likes jazz"]
        assert "not found" in error_text(await client.call_tool("get_memory", {"memory_id": bobs["id"]}))
        assert error_text(await client.call_tool("add_memory", {"text": "x"})) == "This API key is read-only"


def test_an_unknown_key_stops_with_a_message(live_service):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM0_")}
    env.update({"MEM0_DATA_DIR": str(live_service.data_dir), "MEM0_API_KEY": live_service.api_key})
    for key, message in (("", "Set MEM0_MCP_API_KEY"), ("m0s_not-a-key", "is not a valid API key")):
        result = subprocess.run([sys.executable, "-m", "mem0_service", "mcp"], env={**env, "MEM0_MCP_API_KEY": key},
                                cwd=REPO, input="", capture_output=True, text=True, timeout=120)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert result.stdout == ""  # stdout belongs to the protocol
