"""Memories as MCP resources, `memory://{user_id}/{memory_id}`: for clients that let a person attach a memory to
a conversation by hand. The same scoping as the tools: a key reads only the memories its tools could get."""

from __future__ import annotations

import mcp_types as types

from mem0_service.api.models import MemoryOut
from mem0_service.core.memory import Memory, Scope
from mem0_service.errors import ApiError, BadRequest, NotFound
from mem0_service.mcp.caller import Caller
from mem0_service.mcp.tools import own_memory

SCHEME = "memory://"
TEMPLATE = types.ResourceTemplate(
    uri_template=SCHEME + "{user_id}/{memory_id}", name="memory", title="A memory",
    description="One memory of the user, as JSON (content, type, dates, metadata)", mime_type="application/json")
LISTED = 100  # the newest memories are listed; search_memories finds the rest


def uri_of(memory: Memory) -> str:
    return f"{SCHEME}{memory.user_id}/{memory.id}"


def _resource(memory: Memory) -> types.Resource:
    title = memory.content if len(memory.content) <= 80 else memory.content[:79] + "…"
    return types.Resource(uri=uri_of(memory), name=memory.id, title=title, mime_type="application/json")


async def list_resources(caller: Caller) -> list[types.Resource]:
    try:
        user = caller.user(None)
    except ApiError:
        return []  # no user configured for this key: nothing to list, the tools say why
    memories, _ = await caller.service.list(Scope(user_id=user, agent_id=caller.agent_id), limit=LISTED, offset=0)
    return [_resource(m) for m in memories]


async def read_resource(caller: Caller, uri: str) -> types.ReadResourceResult:
    user_id, _, memory_id = uri.removeprefix(SCHEME).partition("/")
    if not uri.startswith(SCHEME) or not user_id or not memory_id or "/" in memory_id:
        raise BadRequest(f"Not a memory URI: {uri} (expected {TEMPLATE.uri_template})", field="uri")
    user = caller.user(user_id if caller.offers_user_argument else None)
    if user_id != user:
        raise NotFound(f"Memory {memory_id} not found")
    memory = await own_memory(caller, memory_id, user)
    return types.ReadResourceResult(contents=[types.TextResourceContents(
        uri=uri_of(memory), mime_type="application/json", text=MemoryOut.of(memory).model_dump_json())])
