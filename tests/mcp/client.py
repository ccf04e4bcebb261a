"""The official `mcp` SDK's client, pointed at the service over Streamable HTTP or at `mem0-service mcp` over stdio."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult

from tests.support.service_process import REPO, ServiceProcess

ALL_TOOLS = ["add_memory", "search_memories", "list_memories", "get_memory", "update_memory", "delete_memory",
             "forget_everything"]
READ_TOOLS = ["search_memories", "list_memories", "get_memory"]


@contextlib.asynccontextmanager
async def http_client(service: ServiceProcess, key: str, *, user: str | None = None, mode: str = "legacy",
                      query: str = "") -> AsyncIterator[Client]:
    """`legacy` is the initialize handshake every client of today speaks; `auto` probes the SDK's newer protocol."""
    headers = {"Authorization": f"Bearer {key}"}
    if user is not None:
        headers["X-Mem0-User-Id"] = user
    transport = streamable_http_client(f"{service.url}/mcp{query}", http_client=create_mcp_http_client(headers=headers))
    async with Client(transport, mode=mode) as client:
        yield client


@contextlib.asynccontextmanager
async def stdio_client(service: ServiceProcess, key: str, *args: str,
                       env: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """`mem0-service mcp` on the service's stores, launched the way a desktop client launches it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MEM0_", "OPENAI_", "QDRANT_", "DATABASE_"))}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mem0_service", "mcp", *args], cwd=str(REPO),
        env={**base, "MEM0_DATA_DIR": str(service.data_dir), "MEM0_API_KEY": service.api_key,
             **{k: v for k, v in service.extra_env.items()}, "MEM0_MCP_API_KEY": key, **(env or {})})
    async with Client(params, mode="legacy") as client:
        yield client


async def tool_names(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


def answer(result: CallToolResult) -> dict[str, Any]:
    """The JSON a successful tool call answers (text and structured content say the same)."""
    assert not result.is_error, result.content
    data = json.loads(result.content[0].text)
    assert data == result.structured_content
    return data


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.content
    return result.content[0].text
