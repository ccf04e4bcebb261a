"""The protocol server: the SDK's low-level Server, answering for one caller at a time (tools, a prompt, resources).

The low-level Server (not the decorator-based MCPServer) because the tool list depends on who asks: a read-only
key must not even see the write tools, and a key bound to a user gets schemas without a user argument."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from mem0_service import __version__
from mem0_service.errors import ApiError
from mem0_service.mcp import resources
from mem0_service.mcp.caller import Caller
from mem0_service.mcp.tools import TOOLS_BY_NAME, ToolSpec, visible_tools

log = logging.getLogger("mem0_service.mcp")

SERVER_NAME = "mem0-service"
INSTRUCTIONS = (
    "Long-term memory of the user you are talking to. Before answering, call search_memories with the topic at "
    "hand to recall what you know. When the user tells you something lasting about themselves (facts, "
    "preferences, plans), call add_memory with one short self-contained statement. Correct outdated memories "
    "with update_memory and remove wrong ones with delete_memory.")
READ_ONLY_INSTRUCTIONS = (
    "Long-term memory of the user you are talking to (read only). Before answering, call search_memories with the "
    "topic at hand to recall what you know about the user, and use it in your answer.")

PROMPT = types.Prompt(name="use_memory", title="Use your long-term memory",
                      description="How to use the memory tools in a conversation")

RESOURCE_NOT_FOUND = -32002  # the code the MCP specification gives a missing resource
T = TypeVar("T")

CallerOf = Callable[[ServerRequestContext[Any, Any]], Caller]


def _tool(spec: ToolSpec, caller: Caller) -> types.Tool:
    return types.Tool(
        name=spec.name, title=spec.title, description=spec.description, input_schema=spec.input_schema(caller),
        output_schema=spec.output_schema(),
        annotations=types.ToolAnnotations(title=spec.title, read_only_hint=not spec.writes,
                                          destructive_hint=spec.destructive,
                                          idempotent_hint=spec.idempotent, open_world_hint=False))


def tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def build_server(caller_of: CallerOf) -> Server[Any]:
    """`caller_of` finds the caller of a request: from the HTTP request it arrived with, or fixed for stdio."""

    async def list_tools(ctx: ServerRequestContext[Any, Any],
                         params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        caller = caller_of(ctx)
        return types.ListToolsResult(tools=[_tool(spec, caller) for spec in visible_tools(caller)])

    async def call_tool(ctx: ServerRequestContext[Any, Any],
                        params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = TOOLS_BY_NAME.get(params.name)
        if spec is None:
            # the one failure that is a protocol error: the tool does not exist at all
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        try:
            result = await spec.call(caller_of(ctx), params.arguments)
        except ApiError as error:
            # bad input, not found, forbidden, a dependency down (503): the model reads the service's message
            if error.status >= 500:
                log.warning("mcp %s -> %s: %s", spec.name, error.status, error.message)
            return tool_error(error.message)
        except Exception:  # the trace goes to the log, never to the client
            log.exception("unhandled error in mcp tool %s", spec.name)
            return tool_error(f"Unexpected server error in {spec.name}")
        return types.CallToolResult(content=[types.TextContent(text=result.model_dump_json())],
                                    structured_content=result.model_dump(mode="json"))

    async def list_prompts(ctx: ServerRequestContext[Any, Any],
                           params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[PROMPT])

    async def get_prompt(ctx: ServerRequestContext[Any, Any],
                         params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != PROMPT.name:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}")
        text = INSTRUCTIONS if caller_of(ctx).can_write else READ_ONLY_INSTRUCTIONS
        return types.GetPromptResult(description=PROMPT.description, messages=[
            types.PromptMessage(role="user", content=types.TextContent(text=text))])

    async def list_resource_templates(ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
                                      ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[resources.TEMPLATE])

    async def list_resources(ctx: ServerRequestContext[Any, Any],
                             params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=await _protocol_errors(resources.list_resources(caller_of(ctx))))

    async def read_resource(ctx: ServerRequestContext[Any, Any],
                            params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        return await _protocol_errors(resources.read_resource(caller_of(ctx), str(params.uri)))

    return Server(SERVER_NAME, version=__version__, instructions=INSTRUCTIONS,
                  on_list_tools=list_tools, on_call_tool=call_tool,
                  on_list_prompts=list_prompts, on_get_prompt=get_prompt,
                  on_list_resource_templates=list_resource_templates, on_list_resources=list_resources,
                  on_read_resource=read_resource)


async def _protocol_errors(work: Awaitable[T]) -> T:
    """Resources have no error result like tools: the service's message travels as a JSON-RPC error."""
    try:
        return await work
    except ApiError as error:
        if error.status >= 500:
            log.warning("mcp resource -> %s: %s", error.status, error.message)
        code = RESOURCE_NOT_FOUND if error.status == 404 else types.INVALID_PARAMS if error.status < 500 \
            else types.INTERNAL_ERROR
        raise MCPError(code, error.message) from None
