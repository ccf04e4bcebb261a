"""Handler for /api/users: which users have memories, for admins (a console, a LangGraph store's namespaces)."""

from __future__ import annotations

from aiohttp import web

from mem0_service.api.models import UserListQuery, UserListResponse, UserOut
from mem0_service.api.parsing import parse_query
from mem0_service.api.responses import json_response
from mem0_service.state import SERVICE


async def list_users(request: web.Request) -> web.Response:
    query = parse_query(request, UserListQuery)
    users, total = await request.app[SERVICE].store.list_users(query.prefix, limit=query.limit, offset=query.offset)
    return json_response(UserListResponse(
        users=[UserOut(user_id=u.user_id, memory_count=u.memory_count, last_activity=u.last_activity) for u in users],
        total=total, limit=query.limit, offset=query.offset))
