"""Adding memories, and the events of adds (the platform's asynchronous mode answers with an event id)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from mem0_service.api.events import load_event, submit
from mem0_service.api.parsing import check_identifier, parse_body
from mem0_service.api.platform.vocabulary import (
    ACTOR,
    APP_ID,
    CATEGORIES,
    ROLE,
    _entities_from,
    _event,
    _expiry,
    _reject_unsupported,
    _service,
    _text,
)
from mem0_service.api.platform_models import (
    AddRequest,
    AddResponse,
    AsyncAddResponse,
    EventData,
    EventResponse,
    LegacyAddEvent,
    Results,
)
from mem0_service.api.responses import json_response
from mem0_service.auth import principal
from mem0_service.core.extraction import Message
from mem0_service.core.job_queue import Job
from mem0_service.core.jobs import completed_job, events_of, extraction_job
from mem0_service.core.memory import MemoryType, Scope
from mem0_service.core.service import ConversationEvent, NewMemory
from mem0_service.errors import BadRequest
from mem0_service.stores.base import iso

# Events are kept as jobs in the record store (api.events): readable from every process and after a restart.
EVENT_STATUS = {"queued": "PENDING", "running": "RUNNING", "done": "SUCCEEDED", "failed": "FAILED"}


def _platform_event(job: Job) -> EventResponse:
    end = job.finished_at or job.started_at or job.created_at
    return EventResponse(
        id=job.id, event_type="ADD", status=EVENT_STATUS[job.status], payload=job.payload.get("request") or {},
        results=[_event(e.memory, e.event, e.previous_content) for e in events_of(job)],
        created_at=iso(job.created_at), updated_at=iso(end),
        started_at=iso(job.started_at) if job.started_at else None,
        completed_at=iso(job.finished_at) if job.finished_at else None,
        latency=round((job.finished_at - job.created_at).total_seconds() * 1000, 1) if job.finished_at else None,
        error=job.error)


def _messages(raw: list | str) -> list[tuple[str, str]]:
    if isinstance(raw, str):
        raw_list: list[tuple[str, Any]] = [("user", raw)]
    else:
        raw_list = [(m.role, m.content) for m in raw]
    turns = []
    for position, (role, content) in enumerate(raw_list):
        if not isinstance(content, str):
            raise BadRequest(f"messages[{position}].content must be text: images and other media are not supported",
                             field=f"messages.{position}.content")
        if role == "system" or not content.strip():
            continue
        turns.append((role, _text(content, f"messages.{position}.content")))
    if not turns:
        raise BadRequest("messages contain no user or assistant text to remember", field="messages")
    return turns


async def _add(request: web.Request, *, version: int) -> web.Response:
    body = await parse_body(request, AddRequest)
    who = principal(request)
    _reject_unsupported(enable_graph=body.enable_graph, timestamp=body.timestamp, immutable=body.immutable)
    expires_at = _expiry(body.expiration_date)
    entities = _entities_from(body, body.filters)
    if entities.user_id is None and who.user_id is not None:  # a key bound to a user writes for that user
        entities = replace(entities, user_id=who.user_id)
    scope = who.restrict(Scope(user_id=entities.owner(), agent_id=entities.agent_id), fill_agent=True)
    owner, agent_id = scope.user_id, scope.agent_id
    turns = _messages(body.messages)
    metadata = dict(body.metadata or {})
    if entities.app_id:
        metadata[APP_ID] = entities.app_id
    if body.categories:
        metadata[CATEGORIES] = [str(c) for c in body.categories]
    service = _service(request)
    queued = body.infer and (body.async_mode if body.async_mode is not None else version == 3)
    if queued:  # answered at once; the job queue learns in the background (GET /v1/event/{id}/)
        if service.extractor is None:
            raise BadRequest("infer=true needs a chat model: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible "
                             "server) and optionally MEM0_LLM_MODEL, or send infer=false", field="infer")
        job = await submit(request, extraction_job(
            user_id=owner, messages=[Message(role=r, content=c) for r, c in turns], session_id=entities.run_id,
            agent_id=agent_id, metadata=metadata, actor=ACTOR, expires_at=expires_at,
            request=body.model_dump(mode="json", exclude_none=True)))
        answer = AsyncAddResponse(message="Memory processing has been queued for background execution",
                                  status="PENDING", event_id=job.id)
        return json_response(AddResponse(answer if version == 3 else [answer]), status=202)
    if body.infer:
        conversation = await service.add_conversation(
            user_id=owner, messages=[Message(role=r, content=c) for r, c in turns], infer=True,
            session_id=entities.run_id, agent_id=agent_id, metadata=metadata, actor=ACTOR)
        conversation_events = conversation.events
        if expires_at is not None:
            conversation_events = [
                ConversationEvent(await service.update(e.memory.id, expires_at=expires_at, actor=ACTOR), "ADD")
                if e.event == "ADD" else e for e in conversation_events]
        events = [_event(e.memory, e.event, e.previous_content) for e in conversation_events]
    else:
        memories, created = await service.create_many([
            NewMemory(user_id=owner, content=content, type=MemoryType.interaction, session_id=entities.run_id,
                      agent_id=agent_id, metadata={**metadata, ROLE: metadata.get(ROLE, role)}, expires_at=expires_at)
            for role, content in turns], actor=ACTOR)
        conversation_events = [ConversationEvent(m, "ADD" if new else "NONE") for m, new in zip(memories, created)]
        events = [_event(e.memory, e.event) for e in conversation_events]
    if version == 3 or body.async_mode:
        job = await submit(request, completed_job(user_id=owner, agent_id=agent_id, events=conversation_events,
                                                  request=body.model_dump(mode="json", exclude_none=True)))
        answer = AsyncAddResponse(message=f"Memory processing completed: {len(events)} memories", status="SUCCEEDED",
                                  event_id=job.id, results=events)
        return json_response(AddResponse(answer if version == 3 else [answer]))
    if body.output_format == "v1.1":
        return json_response(AddResponse(Results(results=events)))
    return json_response(AddResponse([LegacyAddEvent(id=e.id, event=e.event, data=EventData(memory=e.memory))
                                      for e in events]))


async def mem0_add_v1(request: web.Request) -> web.Response:
    return await _add(request, version=1)


async def mem0_add_v3(request: web.Request) -> web.Response:
    return await _add(request, version=3)


async def mem0_get_event(request: web.Request) -> web.Response:
    event_id = check_identifier(request.match_info["event_id"], "event_id")
    return json_response(_platform_event(await load_event(request, event_id)))
