"""`mem0-service mcp`: the MCP tools over stdin/stdout, for clients that launch the server as a process.

The process opens the same stores as the HTTP service (same settings) and acts with the key from MEM0_MCP_API_KEY,
resolved exactly like a request's key: an admin key, or a scoped key from the key store with its user, agent and
read-only restrictions."""

from __future__ import annotations

import contextlib
import os

from mcp.server.stdio import stdio_server

from mem0_service.auth import Authenticator
from mem0_service.backends import open_backends
from mem0_service.config import Settings
from mem0_service.errors import ConfigError, Unauthorized
from mem0_service.keys.store import KeyStore
from mem0_service.mcp.caller import Caller
from mem0_service.mcp.server import build_server

KEY_VARIABLE = "MEM0_MCP_API_KEY"


async def serve_stdio(settings: Settings, *, user_id: str | None = None) -> None:
    key = (os.environ.get(KEY_VARIABLE) or "").strip()
    if not key:
        raise ConfigError(f"Set {KEY_VARIABLE} to the API key the MCP tools act with (an admin key or a scoped key "
                          "from `mem0-service keys create`)")
    async with contextlib.AsyncExitStack() as stack:
        service = await stack.enter_async_context(open_backends(settings))
        keys = KeyStore(service.store)
        try:
            who = await Authenticator(settings.api_keys, keys).authenticate_token(key)
        except Unauthorized:
            raise ConfigError(f"{KEY_VARIABLE} is not a valid API key of this service (revoked, or another "
                              "service's key?)") from None
        caller = Caller(service=service, principal=who, default_user=user_id or settings.mcp_user_id,
                        user_argument=settings.mcp_user_argument)
        server = build_server(lambda ctx: caller)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
