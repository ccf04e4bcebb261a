"""/mcp under the same operational rules as every route: rate limits, metrics, access and audit logs; and the
settings that decide which user an admin key's tools act for."""

from __future__ import annotations

import json
import time

import requests

from tests.mcp.client import answer, error_text, http_client
from tests.support.api import Api
from tests.support.fixtures import unique_user

TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def post_mcp(service, body: dict, **headers: str) -> requests.Response:
    return requests.post(f"{service.url}/mcp", json=body, timeout=10, headers={
        "Authorization": f"Bearer {service.api_key}", "Accept": "application/json, text/event-stream", **headers})


def test_mcp_requests_share_the_keys_rate_limit(service_factory):
    service = service_factory({"MEM0_RATE_LIMIT": "30", "MEM0_RATE_LIMIT_BURST": "3"})
    api = Api(service.url, service.api_key)
    assert post_mcp(service, TOOLS_LIST).status_code == 200
    assert api.post("/api/memories/search", json={"user_id": unique_user()}).status_code == 200
    assert post_mcp(service, TOOLS_LIST).status_code == 200
    limited = post_mcp(service, TOOLS_LIST)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "Rate limit exceeded" in limited.json()["message"]


async def test_mcp_calls_are_counted_logged_and_erasures_audited(service_factory):
    service = service_factory({"MEM0_LOG_FORMAT": "json", "MEM0_MCP_USER_ID": unique_user()})
    async with http_client(service, service.api_key) as client:
        answer(await client.call_tool("add_memory", {"text": "Keeps two cats"}))
        assert answer(await client.call_tool("forget_everything", {"confirm": True}))["deleted"] == 1
    assert post_mcp(service, TOOLS_LIST, **{"X-Request-ID": "mcp-trace-1"}).status_code == 200

    metrics = requests.get(f"{service.url}/metrics", headers={"Authorization": f"Bearer {service.api_key}"},
                           timeout=10).text
    assert 'mem0_http_requests_total{method="POST",route="/mcp",status="200"}' in metrics
    time.sleep(0.3)
    lines = [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("request_id") == "mcp-trace-1"]
    assert access and access[0]["path"] == "/mcp" and access[0]["key_id"].startswith("admin:")
    audits = [e for e in lines if e.get("audit") and e["action"] == "mcp forget_everything"]
    assert len(audits) == 1 and audits[0]["deleted"] == 1 and audits[0]["actor"].startswith("admin:")
    assert service.api_key not in json.dumps(lines)


async def test_admin_key_user_from_setting_header_or_argument(service_factory):
    configured, chosen, header = unique_user("configured"), unique_user("chosen"), unique_user("header")
    in_url = unique_user("url")
    service = service_factory({"MEM0_MCP_USER_ID": configured, "MEM0_MCP_USER_ARGUMENT": "true"})
    api = Api(service.url, service.api_key)
    async with http_client(service, service.api_key) as client:
        tools = (await client.list_tools()).tools
        assert all("user_id" in tool.input_schema["properties"] for tool in tools)
        answer(await client.call_tool("add_memory", {"text": "Default user's note"}))
        answer(await client.call_tool("add_memory", {"text": "Chosen user's note", "user_id": chosen}))
        assert "must be 1-128 characters" in error_text(
            await client.call_tool("list_memories", {"user_id": "no spaces allowed"}))
    async with http_client(service, service.api_key, user=header) as client:
        answer(await client.call_tool("add_memory", {"text": "Header user's note"}))
    async with http_client(service, service.api_key, query=f"?user_id={in_url}") as client:
        answer(await client.call_tool("add_memory", {"text": "URL user's note"}))
    for user, content in ((configured, "Default user's note"), (chosen, "Chosen user's note"),
                          (header, "Header user's note"), (in_url, "URL user's note")):
        assert [m["content"] for m in api.get(f"/api/memories/user/{user}").json()["memories"]] == [content]

    # a user-bound key still gets no user argument, even where admin keys may name users
    key = api.post("/api/keys", json={"user_id": configured}).json()["key"]
    async with http_client(service, key) as client:
        assert all("user_id" not in tool.input_schema["properties"] for tool in (await client.list_tools()).tools)


async def test_without_the_setting_tools_refuse_a_user_argument(service_factory):
    service = service_factory({"MEM0_MCP_USER_ID": unique_user()})
    async with http_client(service, service.api_key) as client:
        message = error_text(await client.call_tool("list_memories", {"user_id": unique_user()}))
    assert "MEM0_MCP_USER_ARGUMENT" in message


async def test_a_dependency_outage_is_a_tool_error_and_nothing_is_stored(service_factory, fake_openai):
    fake_openai.clear()
    user = unique_user()
    service = service_factory({"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url,
                               "MEM0_OPENAI_TIMEOUT": "2", "MEM0_MCP_USER_ID": user})
    fake_openai.queue_error("/embeddings", 401, {"error": {"message": "Incorrect API key provided", "type": "x"}})
    async with http_client(service, service.api_key) as client:
        message = error_text(await client.call_tool("add_memory", {"text": "never stored"}))
        assert "OpenAI API error: 401" in message
        # the client and the endpoint carry on: the next call works
        assert answer(await client.call_tool("list_memories", {}))["total"] == 0
    assert Api(service.url, service.api_key).get(f"/api/memories/user/{user}").json()["total"] == 0


async def test_a_worker_pool_answers_every_mcp_request(service_factory):
    # stateless: no session lives in one process, so whichever worker takes a request can answer it
    user = unique_user()
    service = service_factory({"MEM0_WORKERS": "2", "MEM0_MCP_USER_ID": user})
    for number in range(12):  # a new connection each time, which the kernel hands to either worker
        async with http_client(service, service.api_key) as client:
            answer(await client.call_tool("add_memory", {"text": f"Note number {number}"}))
            assert answer(await client.call_tool("list_memories", {"limit": 100}))["total"] == number + 1
