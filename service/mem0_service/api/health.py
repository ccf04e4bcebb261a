"""Health and key checks."""

from __future__ import annotations

from aiohttp import web

from mem0_service import __version__
from mem0_service.api.models import AuthCheckResponse, HealthResponse
from mem0_service.api.ops import readiness
from mem0_service.api.parsing import query_value
from mem0_service.api.responses import json_response
from mem0_service.auth import principal
from mem0_service.core.memory import utcnow
from mem0_service.stores.base import iso


async def health(request: web.Request) -> web.Response:
    """The guide's public liveness answer; `?deep=1` checks every dependency like /api/ready."""
    if (query_value(request, "deep") or "").lower() in ("1", "true", "yes"):
        return await readiness(request)
    return json_response(HealthResponse(status="ok", version=__version__, timestamp=iso(utcnow()).split(".")[0] + "Z"))


async def auth_check(request: web.Request) -> web.Response:
    who = principal(request)
    return json_response(AuthCheckResponse(authenticated=True, role=who.role, user_id=who.user_id,
                                           agent_id=who.agent_id, read_only=not who.can_write))
