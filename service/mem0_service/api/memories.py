"""Handlers for /api/memories: parse, call the MemoryService, shape the response."""

from __future__ import annotations

from aiohttp import web

from mem0_service.api import values
from mem0_service.api.events import EventAccepted, submit
from mem0_service.api.idempotency import Answer, idempotent, shown
from mem0_service.api.models import (
    BatchItemResult,
    BatchResponse,
    BulkDeleteResponse,
    ConversationEventOut,
    ConversationResponse,
    DeleteResponse,
    ErrorResponse,
    ExportedMessageOut,
    ExportResponse,
    ExtractionStatus,
    HistoryEventOut,
    HistoryResponse,
    ListResponse,
    MatchExplanation,
    MemoryBatch,
    MemoryCreate,
    MemoryDeleteQuery,
    MemoryListQuery,
    MemoryOut,
    MemorySearch,
    MemoryUpdate,
    QueryRewriteOut,
    ScopeDeleteQuery,
    SearchHitOut,
    SearchResponse,
    SessionEndQuery,
)
from mem0_service.api.parsing import parse_body, parse_path_identifier, parse_query, validated
from mem0_service.api.preconditions import etag, expected_version, if_match
from mem0_service.api.responses import json_response
from mem0_service.auth import Principal, principal
from mem0_service.core.extraction import Message
from mem0_service.core.jobs import completed_job, extraction_job
from mem0_service.core.memory import Memory, Scope, utcnow
from mem0_service.core.ports import IdempotentOwner
from mem0_service.core.service import NewMemory
from mem0_service.errors import ApiError, BadRequest
from mem0_service.state import SERVICE
from mem0_service.stores.base import iso


def _new_memory(body: MemoryCreate, who: Principal) -> NewMemory:
    scope = who.restrict(Scope(user_id=body.user_id, agent_id=body.agent_id), fill_agent=True)
    return NewMemory(user_id=scope.user_id, content=body.content or "", type=body.type, session_id=body.session_id,
                     agent_id=scope.agent_id, metadata=body.metadata, expires_at=body.expiry(utcnow()))


async def create_memory(request: web.Request) -> web.Response:
    """One memory from `content`, or what a conversation in `messages` teaches (see ConversationResponse)."""
    who = principal(request)
    # a retried request gets the first answer, not a second memory
    return await idempotent(request, who, lambda: _create_memory(request, who))


async def _create_memory(request: web.Request, who: Principal) -> Answer:
    service = request.app[SERVICE]
    body = await parse_body(request, MemoryCreate)
    if body.messages is None:
        memory, created = await service.create(_new_memory(body, who))
        return json_response(MemoryOut.of(memory), status=201 if created else 200), shown([memory])
    if body.run_async:
        return await _queue_conversation(request, who, body)
    scope = who.restrict(Scope(user_id=body.user_id, agent_id=body.agent_id), fill_agent=True)
    outcome = await service.add_conversation(
        user_id=scope.user_id, messages=[Message(m.role, m.content) for m in body.messages],
        infer=True if body.infer is None else body.infer, session_id=body.session_id,
        agent_id=scope.agent_id, metadata=body.metadata)
    result = ConversationResponse(
        results=[ConversationEventOut.of(e.memory, event=e.event, previous_content=e.previous_content)
                 for e in outcome.events],
        extraction=ExtractionStatus(status=outcome.extraction, reason=outcome.reason))
    added = any(e.event == "ADD" for e in outcome.events)
    # a deleted memory is shown by its last content: the answer is its user's until that user is erased
    owners = [*shown(e.memory for e in outcome.events if e.event != "DELETE"),
              IdempotentOwner(scope.user_id, scope.agent_id)]
    return json_response(result, status=201 if added else 200), owners


async def _queue_conversation(request: web.Request, who: Principal, body: MemoryCreate) -> Answer:
    service = request.app[SERVICE]
    scope = who.restrict(Scope(user_id=body.user_id, agent_id=body.agent_id), fill_agent=True)
    messages = [Message(m.role, m.content) for m in body.messages or []]
    if body.infer is False:  # nothing to learn: stored now, and the event reads as done
        outcome = await service.add_conversation(user_id=scope.user_id, messages=messages, infer=False,
                                                 session_id=body.session_id, agent_id=scope.agent_id,
                                                 metadata=body.metadata)
        job = await submit(request, completed_job(user_id=scope.user_id, agent_id=scope.agent_id,
                                                  events=outcome.events))
    else:
        if service.extractor is None:  # refuse now rather than queue work that can never run
            raise BadRequest("infer=true needs a chat model: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible "
                             "server) and optionally MEM0_LLM_MODEL, or send infer=false", field="infer")
        job = await submit(request, extraction_job(user_id=scope.user_id, messages=messages,
                                                   session_id=body.session_id, agent_id=scope.agent_id,
                                                   metadata=body.metadata))
    message = "Stored" if job.status == "done" else "Queued: read the outcome at /api/events/" + job.id
    return (json_response(EventAccepted(event_id=job.id, status=job.status, message=message), status=202,
                          headers={"Location": f"/api/events/{job.id}"}),
            [IdempotentOwner(scope.user_id, scope.agent_id)])


async def create_batch(request: web.Request) -> web.Response:
    """Many memories in one call: each item validated on its own; valid items are stored, the rest reported."""
    who = principal(request)
    return await idempotent(request, who, lambda: _create_batch(request, who))


async def _create_batch(request: web.Request, who: Principal) -> Answer:
    body = await parse_body(request, MemoryBatch, items_checked_later="memories")
    results: list[BatchItemResult] = []
    valid: list[tuple[int, NewMemory]] = []
    for index, raw in enumerate(body.memories):
        try:
            values.check_value(raw)
            item = validated(MemoryCreate, raw)
            if item.messages is not None:
                raise BadRequest("Batch items take content, not messages", field="messages")
            valid.append((index, _new_memory(item, who)))
        except ApiError as error:
            results.append(BatchItemResult(index=index, status=error.status, error=ErrorResponse.model_validate(error.body())))
    memories: list[Memory] = []
    if valid:
        memories, fresh = await request.app[SERVICE].create_many([item for _, item in valid])
        results += [BatchItemResult(index=i, status=201 if new else 200, memory=MemoryOut.of(m))
                    for (i, _), m, new in zip(valid, memories, fresh)]
    results.sort(key=lambda r: r.index)
    created = sum(r.status == 201 for r in results)
    existing = sum(r.status == 200 for r in results)
    return (json_response(BatchResponse(results=results, created=created, existing=existing,
                                        failed=len(results) - created - existing),
                          status=201 if created else 200), shown(memories))


async def search_memories(request: web.Request) -> web.Response:
    body = await parse_body(request, MemorySearch)
    scope = principal(request).restrict(Scope(user_id=body.user_id, session_id=body.session_id,
                                              agent_id=body.agent_id, types=tuple(body.types or ())))
    service = request.app[SERVICE]
    rewrite = await service.rewrite_query(body.query, body.rewrite_query)
    hits, total = await service.search(scope, body.query, threshold=body.relevance_threshold, limit=body.limit,
                                       alternatives=rewrite.queries)
    return json_response(SearchResponse(memories=[
        SearchHitOut.of(h.memory, relevance_score=h.relevance_score,
                        explanation=MatchExplanation.of(h.ranking, h.matched_query)
                        if body.explain and h.ranking else None)
        for h in hits], total=total, query_rewrite=QueryRewriteOut.of(rewrite)))


async def get_memory(request: web.Request) -> web.Response:
    memory = await request.app[SERVICE].get(request.match_info["memory_id"], access=principal(request).access)
    return json_response(MemoryOut.of(memory), headers={"ETag": etag(memory)})


async def _if_version(request: web.Request) -> int | None:
    """The version If-Match pins this write to (None: any), checked against the memory as it is now."""
    admitted = if_match(request)
    if admitted is None:
        return None
    current = await request.app[SERVICE].get(request.match_info["memory_id"], access=principal(request).access)
    return expected_version(admitted, current)


async def update_memory(request: web.Request) -> web.Response:
    """Only the fields given change (a concurrent update of other fields is kept). With If-Match: only if the
    memory still has that ETag, 412 otherwise."""
    body = await parse_body(request, MemoryUpdate)
    memory = await request.app[SERVICE].update(request.match_info["memory_id"], content=body.content,
                                               metadata=body.metadata, type=body.type, expires_at=body.expiry(utcnow()),
                                               access=principal(request).access, if_version=await _if_version(request))
    return json_response(MemoryOut.of(memory), headers={"ETag": etag(memory)})


async def delete_memory(request: web.Request) -> web.Response:
    query = parse_query(request, MemoryDeleteQuery)
    await request.app[SERVICE].delete(request.match_info["memory_id"], access=principal(request).access,
                                      erase=query.erase, if_version=await _if_version(request))
    return json_response(DeleteResponse(success=True, message="Memory deleted successfully"))


async def list_user_memories(request: web.Request) -> web.Response:
    user_id = parse_path_identifier(request, "user_id")
    query = parse_query(request, MemoryListQuery)
    scope = principal(request).restrict(Scope(
        user_id=user_id, session_id=query.session_id, agent_id=query.agent_id,
        types=(query.type,) if query.type else (), created_before=query.created_before,
        created_after=query.created_after, updated_after=query.updated_after,
        metadata=_metadata_filter(query.metadata)))
    memories, total = await request.app[SERVICE].list(scope, limit=query.limit, offset=query.offset,
                                                      newest_first=query.order == "desc")
    return json_response(ListResponse(memories=[MemoryOut.of(m) for m in memories], total=total,
                                      limit=query.limit, offset=query.offset))


async def delete_user_memories(request: web.Request) -> web.Response:
    user_id = parse_path_identifier(request, "user_id")
    query = parse_query(request, ScopeDeleteQuery)
    scope = principal(request).restrict(Scope(user_id=user_id, session_id=query.session_id, agent_id=query.agent_id,
                                              types=(query.type,) if query.type else ()))
    erased = await request.app[SERVICE].erase(scope)
    deleted, cleared = erased.memories, erased.messages
    return json_response(BulkDeleteResponse(success=True, deleted=deleted,
                                            message=f"Deleted {deleted} memories of user {user_id}"
                                                    + (f" and {cleared} logged messages" if cleared else "")))


def _metadata_filter(raw: str | None) -> tuple:
    if not raw:
        return ()
    value = values.strict_json(raw, "metadata")
    if not isinstance(value, dict) or not all(values.is_scalar(v) for v in value.values()):
        raise BadRequest("Invalid value for field 'metadata': must be a JSON object of plain values, "
                         'e.g. {"source": "n8n"}', field="metadata")
    return tuple(sorted((values.check_filter_key(k, "metadata"), v) for k, v in value.items()))


async def memory_history(request: web.Request) -> web.Response:
    events = await request.app[SERVICE].history(request.match_info["memory_id"], access=principal(request).access)
    return json_response(HistoryResponse(history=[HistoryEventOut(**vars(e)) for e in events]))


async def export_user_memories(request: web.Request) -> web.Response:
    """Everything kept about a user, for data-access requests."""
    user_id = parse_path_identifier(request, "user_id")
    scope = principal(request).restrict(Scope(user_id=user_id), every_agent=True)
    service, memories, offset = request.app[SERVICE], [], 0
    while True:
        page, total = await service.list(scope, limit=1000, offset=offset, newest_first=False)
        memories += page
        offset += len(page)
        if not page or offset >= total:
            break
    messages = await service.user_messages(user_id)
    return json_response(ExportResponse(user_id=user_id, exported_at=iso(utcnow()), total=len(memories),
                                        memories=[MemoryOut.of(m) for m in memories],
                                        messages=[ExportedMessageOut.of(m) for m in messages]))


async def end_session(request: web.Request) -> web.Response:
    """End a session: its session-level memories are removed; the user's long-term memories stay."""
    session_id = parse_path_identifier(request, "session_id")
    query = parse_query(request, SessionEndQuery)
    scope = principal(request).restrict(Scope(user_id=query.user_id, session_id=session_id), every_agent=True)
    service = request.app[SERVICE]
    deleted = await service.delete_scope(scope, actor="session-end", erase=False)
    cleared = await service.clear_messages(scope)
    return json_response(BulkDeleteResponse(success=True, deleted=deleted,
                                            message=f"Session {session_id} ended: {deleted} memories removed, "
                                                    f"{cleared} logged messages cleared"))
