"""Cross-cutting request handling: request ids, authentication and JSON errors."""

from __future__ import annotations

import logging
import re
import secrets
import time

from aiohttp import web

from mem0_service.api.responses import json_response
from mem0_service.auth import PRINCIPAL, authenticate
from mem0_service.errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge
from mem0_service.state import SETTINGS

log = logging.getLogger("mem0_service.http")
REQUEST_ID = "request_id"
_SAFE_REQUEST_ID = re.compile(r"^[\w.\-]{1,64}$")


def error_response(error: ApiError, request_id: str) -> web.Response:
    return json_response(error.body(), status=error.status, headers={**error.headers, "X-Request-ID": request_id})


@web.middleware
async def errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    try:
        response = await handler(request)
    except ApiError as error:
        if error.status >= 500:
            log.warning("%s %s -> %s: %s", request.method, request.path, error.status, error.message)
        response = error_response(error, request_id)
    except web.HTTPNotFound:
        response = error_response(NotFound(f"No route for {request.method} {request.path}"), request_id)
    except web.HTTPMethodNotAllowed as exc:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.path}",
                                 headers={"Allow": ", ".join(sorted(exc.allowed_methods))})
        response = error_response(error, request_id)
    except web.HTTPRequestEntityTooLarge:
        response = error_response(PayloadTooLarge("Request body is too large"), request_id)
    except web.HTTPException:
        raise
    except Exception:  # the trace goes to the log with the request id, never to the client
        log.exception("unhandled error in %s %s [request %s]", request.method, request.path, request_id)
        response = error_response(ApiError(f"Unexpected server error (request id {request_id})"), request_id)
    response.headers.setdefault("X-Request-ID", request_id)
    log.debug("%s %s %s %.1fms", request.method, request.path, response.status, (time.perf_counter() - started) * 1e3)
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.path.startswith("/api/") and not _is_public(request):
        request[PRINCIPAL] = authenticate(request, request.app[SETTINGS].api_keys)
    return await handler(request)


PUBLIC_PATHS = frozenset({"/api/health", "/api/openapi.json"})


def _is_public(request: web.Request) -> bool:
    return request.path in PUBLIC_PATHS or request.method == "OPTIONS"
