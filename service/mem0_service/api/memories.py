"""Handlers for /api/memories: parse, call the MemoryService, shape the response."""

from __future__ import annotations

from aiohttp import web

from mem0_service.api.models import (BulkDeleteResponse, DeleteResponse, ListResponse, MemoryCreate, MemoryListQuery,
                                     MemoryOut, MemorySearch, MemoryUpdate, ScopeDeleteQuery, SearchHitOut, SearchResponse)
from mem0_service.api.parsing import parse_body, parse_path_identifier, parse_query
from mem0_service.api.responses import json_response
from mem0_service.auth import principal
from mem0_service.core.memory import Scope
from mem0_service.core.service import NewMemory
from mem0_service.state import SERVICE


def _scoped_user(request: web.Request) -> str | None:
    """A key bound to one user sees only that user's memories; admin keys see all."""
    return principal(request).user_id


async def create_memory(request: web.Request) -> web.Response:
    body = await parse_body(request, MemoryCreate)
    who = principal(request)
    who.check_write()
    who.check_user(body.user_id)
    memory, created = await request.app[SERVICE].create(NewMemory(
        user_id=body.user_id, content=body.content, type=body.type, session_id=body.session_id,
        agent_id=body.agent_id or who.agent_id, metadata=body.metadata))
    return json_response(MemoryOut.of(memory), status=201 if created else 200)


async def search_memories(request: web.Request) -> web.Response:
    body = await parse_body(request, MemorySearch)
    principal(request).check_user(body.user_id)
    scope = Scope(user_id=body.user_id, session_id=body.session_id, agent_id=body.agent_id,
                  types=tuple(body.types or ()))
    hits, total = await request.app[SERVICE].search(scope, body.query, threshold=body.relevance_threshold,
                                                    limit=body.limit)
    return json_response(SearchResponse(
        memories=[SearchHitOut.of(h.memory, relevance_score=h.relevance_score) for h in hits], total=total))


async def get_memory(request: web.Request) -> web.Response:
    memory = await request.app[SERVICE].get(request.match_info["memory_id"], scope_user=_scoped_user(request))
    return json_response(MemoryOut.of(memory))


async def update_memory(request: web.Request) -> web.Response:
    body = await parse_body(request, MemoryUpdate)
    principal(request).check_write()
    memory = await request.app[SERVICE].update(request.match_info["memory_id"], content=body.content,
                                               metadata=body.metadata, type=body.type, scope_user=_scoped_user(request))
    return json_response(MemoryOut.of(memory))


async def delete_memory(request: web.Request) -> web.Response:
    principal(request).check_write()
    await request.app[SERVICE].delete(request.match_info["memory_id"], scope_user=_scoped_user(request))
    return json_response(DeleteResponse(success=True, message="Memory deleted successfully"))


def _user_id(request: web.Request) -> str:
    user_id = parse_path_identifier(request, "user_id")
    principal(request).check_user(user_id)
    return user_id


async def list_user_memories(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    query = parse_query(request, MemoryListQuery)
    scope = Scope(user_id=user_id, session_id=query.session_id, agent_id=query.agent_id,
                  types=(query.type,) if query.type else (), created_before=query.created_before,
                  created_after=query.created_after)
    memories, total = await request.app[SERVICE].list(scope, limit=query.limit, offset=query.offset,
                                                      newest_first=query.order == "desc")
    return json_response(ListResponse(memories=[MemoryOut.of(m) for m in memories], total=total,
                                      limit=query.limit, offset=query.offset))


async def delete_user_memories(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    principal(request).check_write()
    query = parse_query(request, ScopeDeleteQuery)
    scope = Scope(user_id=user_id, session_id=query.session_id, agent_id=query.agent_id,
                  types=(query.type,) if query.type else ())
    deleted = await request.app[SERVICE].delete_scope(scope)
    return json_response(BulkDeleteResponse(success=True, deleted=deleted,
                                            message=f"Deleted {deleted} memories of user {user_id}"))
