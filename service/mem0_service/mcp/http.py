"""Streamable HTTP at /mcp, inside the aiohttp application.

The SDK implements the transport as an ASGI application (StreamableHTTPSessionManager). Rather than write a
second implementation of the protocol's HTTP rules, the handler below is a small ASGI bridge: it hands the
aiohttp request to the session manager as an ASGI scope and turns what the manager sends back into an aiohttp
response. The request first passes the application's middlewares like every route, so authentication, rate
limits, request ids, access logs and metrics cover /mcp too; the authenticated caller travels to the tools
inside the ASGI scope.

Stateless mode with JSON responses: every POST is answered on its own by one JSON body, so nothing has to live
between requests (any process of a worker pool can answer any request) and the middlewares can still add their
headers to a complete response. The tools never need to call back into the client, which is all a session
would add. GET (a standalone server-to-client stream) is therefore not offered: it answers 405, which clients
read as "no stream"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from aiohttp import web
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from mem0_service.api import values
from mem0_service.auth import principal
from mem0_service.errors import BadRequest
from mem0_service.mcp.caller import USER_HEADER, Caller
from mem0_service.mcp.server import build_server
from mem0_service.state import SERVICE, SETTINGS

MCP_PATH = "/mcp"
USER_QUERY = "user_id"
CALLER_KEY = "mem0.caller"  # the ASGI scope entry that carries the authenticated caller to the tools

BRIDGE = web.AppKey("mcp_bridge", StreamableHTTPSessionManager)


def _caller_of(ctx: ServerRequestContext[Any, Any]) -> Caller:
    if ctx.request is None:  # every message on this transport arrives in an HTTP request
        raise RuntimeError("MCP message without its HTTP request")
    return ctx.request.scope[CALLER_KEY]


def _caller(request: web.Request) -> Caller:
    """The user for keys not bound to one: the header, or `/mcp?user_id=` for clients whose headers are fixed per
    credential but whose URL can change per request (n8n's MCP Client Tool takes an expression), or the setting."""
    settings = request.app[SETTINGS]
    requested = request.headers.get(USER_HEADER, "").strip() or request.query.get(USER_QUERY, "").strip()
    return Caller(service=request.app[SERVICE], principal=principal(request),
                  default_user=requested or settings.mcp_user_id, user_argument=settings.mcp_user_argument)


def _scope(request: web.Request) -> dict[str, Any]:
    host, port = (request.transport.get_extra_info("sockname") or ("127.0.0.1", 0))[:2] \
        if request.transport is not None else ("127.0.0.1", 0)
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "scheme": request.scheme, "path": request.path, "raw_path": request.raw_path.encode(),
            "query_string": request.query_string.encode(), "root_path": "",
            "headers": [(name.lower(), value) for name, value in request.raw_headers],
            "client": (request.remote or "", 0), "server": (host, port), "state": {},
            CALLER_KEY: _caller(request)}


def _check_envelope(body: bytes) -> None:
    """The service's value rules (strict JSON: no NUL or lone surrogates, bounded nesting and numbers) apply to MCP
    bodies too, tool arguments included, and a message that is not JSON-RPC 2.0 at all is refused the same way:
    a 400 in the service's error shape naming the field. What is JSON-RPC but wrong is the SDK's to answer."""
    message = values.strict_json(body)
    if not isinstance(message, dict):
        raise BadRequest("The body must be one JSON-RPC 2.0 message (a JSON object)")
    if message.get("jsonrpc") != "2.0":
        raise BadRequest("Invalid value for field 'jsonrpc': must be \"2.0\"", field="jsonrpc")
    for name, kinds in (("method", (str,)), ("id", (str, int)), ("params", (dict, list))):
        value = message.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise BadRequest(f"Invalid value for field '{name}': wrong type", field=name)


async def handle_mcp(request: web.Request) -> web.StreamResponse:
    """POST /mcp: one JSON-RPC message in, its answer out."""
    body = await request.read()
    _check_envelope(body)
    done = asyncio.Event()
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # nothing more will come: the client is gone once the answer is out
        return {"type": "http.disconnect"}

    status, headers, chunks = 500, [], []
    stream: web.StreamResponse | None = None

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, headers, stream
        if message["type"] == "http.response.start":
            status, headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            if stream is None and _is_event_stream(headers):
                # an SSE answer (only the SDK's newer protocol path may choose one) is passed on as it comes
                stream = web.StreamResponse(status=status, headers=_decode(headers))
                await stream.prepare(request)
            if stream is not None:
                await stream.write(message.get("body", b""))
            else:
                chunks.append(message.get("body", b""))

    try:
        await request.app[BRIDGE].handle_request(_scope(request), receive, send)
    finally:
        done.set()
    if stream is not None:
        await stream.write_eof()
        return stream
    return web.Response(status=status, body=b"".join(chunks), headers=_decode(headers))


def _is_event_stream(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() == b"content-type" and value.startswith(b"text/event-stream") for name, value in headers)


def _decode(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    # aiohttp sets the length itself from the body
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in headers
            if name.lower() not in (b"content-length", b"transfer-encoding")}


async def _run_manager(app: web.Application) -> AsyncIterator[None]:
    """The session manager runs inside its own task: its task group must be entered and left by one task,
    while aiohttp may start and clean up the application from different ones."""
    manager = app[BRIDGE]
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with manager.run():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run(), name="mcp-session-manager")
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # raises what stopped it from starting
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup_mcp(app: web.Application) -> None:
    """Serve MCP at /mcp (the route itself is declared in api/routes.py with the others)."""
    # No DNS-rebinding checks: every request needs an API key, which a page on another origin cannot send.
    app[BRIDGE] = StreamableHTTPSessionManager(app=build_server(_caller_of), stateless=True, json_response=True,
                                               max_request_body_size=app[SETTINGS].max_body_bytes)
    app.cleanup_ctx.append(_run_manager)
    # the SDK logs every stateless request at INFO ("Terminating session: None"); the access log already has them
    logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)
