"""Cross-cutting request handling: metrics, CORS, request ids and JSON errors, and the access gate."""

from __future__ import annotations

import logging
import re
import secrets
import time

from aiohttp import web

from mem0_service import timing
from mem0_service.api.policy import route_of
from mem0_service.api.responses import json_response
from mem0_service.auth import PRINCIPAL, Principal, authenticate, bearer_token
from mem0_service.errors import (
    ApiError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
)
from mem0_service.ops.logs import AUDIT, audit
from mem0_service.ops.logs import REQUEST_ID as REQUEST_ID_VAR
from mem0_service.ops.state import AUTH_FAILURES, AUTHENTICATOR, METRICS, RATE_LIMITER
from mem0_service.state import SETTINGS

log = logging.getLogger("mem0_service.http")
access_log = logging.getLogger("mem0_service.access")
REQUEST_ID = "request_id"
_SAFE_REQUEST_ID = re.compile(r"^[\w.\-]{1,64}$")


def error_response(error: ApiError, request_id: str, style: str = "api") -> web.Response:
    body = error.body()
    if style == "mem0":  # mem0's clients show `detail` to the user
        body["detail"] = error.message
    return json_response(body, status=error.status, headers={**error.headers, "X-Request-ID": request_id})


def route_label(request: web.Request) -> str:
    """The route template (/api/memories/{memory_id}), never the raw path: ids must not explode label sets."""
    info = request.match_info
    resource = info.route.resource if info is not None and info.route is not None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler) -> web.StreamResponse:
    metrics = request.app.get(METRICS)
    if metrics is None:
        return await handler(request)
    started = time.perf_counter()
    spent = timing.start_request()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        if not response.prepared:  # a streamed response has sent its headers already
            response.headers["Server-Timing"] = timing.server_timing(spent, time.perf_counter() - started)
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_label(request)
        metrics.inc("mem0_http_requests_total", method=request.method, route=route, status=str(status))
        metrics.observe("mem0_http_request_duration_seconds", time.perf_counter() - started,
                        method=request.method, route=route)


@web.middleware
async def cors_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Off unless MEM0_CORS_ORIGINS names the browser origins allowed to call the API."""
    origins = request.app[SETTINGS].cors_origins
    origin = request.headers.get("Origin")
    if not origins or not origin:
        return await handler(request)
    allowed = "*" in origins or origin.rstrip("/") in origins
    if not allowed:
        return await handler(request)
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
               "Access-Control-Expose-Headers": "X-Request-ID, Retry-After"}
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers.update({
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers",
                                                                "Authorization, Content-Type"),
            "Access-Control-Max-Age": "600"})
        return web.Response(status=204, headers=headers)
    response = await handler(request)
    response.headers.update(headers)
    return response


@web.middleware
async def errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    REQUEST_ID_VAR.set(request_id)
    started = time.perf_counter()
    try:
        response = await handler(request)
    except ApiError as error:
        if error.status >= 500 and error.status != 501:
            log.warning("%s %s -> %s: %s", request.method, request.path, error.status, error.message)
        route = route_of(request)
        response = error_response(error, request_id, route.errors if route is not None else "api")
    except web.HTTPNotFound:
        response = error_response(NotFound(f"No route for {request.method} {request.path}"), request_id)
    except web.HTTPMethodNotAllowed as exc:
        refused = MethodNotAllowed(f"{request.method} is not allowed on {request.path}",
                                   headers={"Allow": ", ".join(sorted(exc.allowed_methods))})
        response = error_response(refused, request_id)
    except web.HTTPRequestEntityTooLarge:
        response = error_response(PayloadTooLarge("Request body is too large"), request_id)
    except web.HTTPException:
        raise
    except Exception:  # the trace goes to the log with the request id, never to the client
        log.exception("unhandled error in %s %s [request %s]", request.method, request.path, request_id)
        response = error_response(ApiError(f"Unexpected server error (request id {request_id})"), request_id)
    response.headers.setdefault("X-Request-ID", request_id)
    who = request.get(PRINCIPAL)
    access_log.log(logging.INFO if request.app[SETTINGS].log_format == "json" else logging.DEBUG,
                   "%s %s %s %.1fms", request.method, request.path, response.status,
                   (time.perf_counter() - started) * 1e3,
                   extra={"method": request.method, "path": request.path, "status": response.status,
                          "duration_ms": round((time.perf_counter() - started) * 1e3, 2),
                          "key_id": who.key_id if who else None})
    return response


@web.middleware
async def access_middleware(request: web.Request, handler) -> web.StreamResponse:
    """The one gate: authentication, the route's declared access, the key's rate limit and the audit line, for
    every route of the table (/api, mem0's /v1-/v3, /metrics) alike."""
    if request.match_info.http_exception is not None or request.method == "OPTIONS":
        return await handler(request)  # 404/405 and CORS preflights carry no data
    route = route_of(request)
    if route is None:  # a route added outside the table has no policy: refuse rather than guess
        log.error("route %s %s is not declared in the route table", request.method, request.path)
        raise NotFound(f"No route for {request.method} {request.path}")
    if route.public or (route.public_setting and getattr(request.app[SETTINGS], route.public_setting)):
        return await handler(request)
    budget = request.app.get(AUTH_FAILURES)
    if budget is not None and (refusal := budget.refusal(request)) is not None:
        if (metrics := request.app.get(METRICS)) is not None:
            metrics.inc("mem0_auth_refused_total")
        raise refusal
    who = await _authenticate(request)
    request[PRINCIPAL] = who
    if route.access == "write":
        who.check_write()
    elif route.access == "admin":
        who.check_admin()
    enforce_rate_limit(request, who)
    try:
        response = await handler(request)
    except ApiError as error:
        if route.audited:
            _audit(request, who, error.status)
        raise
    if route.audited:
        _audit(request, who, response.status)
    return response


async def _authenticate(request: web.Request) -> Principal:
    authenticator = request.app.get(AUTHENTICATOR)
    try:
        return (await authenticator.authenticate(request) if authenticator is not None
                else authenticate(request, request.app[SETTINGS].api_keys))
    except Unauthorized:
        if (metrics := request.app.get(METRICS)) is not None:
            metrics.inc("mem0_auth_failures_total")
        # a key was given and is wrong: a guess, or a flood of made-up keys (a request without one guesses nothing)
        if bearer_token(request) is not None and (budget := request.app.get(AUTH_FAILURES)) is not None:
            budget.spend(request)
        raise


def _audit(request: web.Request, who: Principal, status: int) -> None:
    audit(f"{request.method} {route_label(request)}", actor=who.key_id,
          outcome="ok" if status < 400 else f"http {status}", path=request.path, status=status,
          **request.get(AUDIT, {}))


def enforce_rate_limit(request: web.Request, who: Principal) -> None:
    limiter = request.app.get(RATE_LIMITER)
    if limiter is None or not limiter.enabled:
        return
    wait = limiter.acquire(who.key_id)
    if wait > 0:
        if (metrics := request.app.get(METRICS)) is not None:
            metrics.inc("mem0_rate_limited_total", key_id=who.key_id)
        raise TooManyRequests(f"Rate limit exceeded for this API key; retry in {limiter.retry_after(wait)} s",
                              headers={"Retry-After": limiter.retry_after(wait)})
