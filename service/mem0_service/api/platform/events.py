"""Adding memories, and the events of adds (the platform's asynchronous mode answers with an event id)."""

from __future__ import annotations

import secrets
import weakref
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web

from mem0_service.api.parsing import parse_body
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
    MemoryEvent,
    Results,
)
from mem0_service.api.responses import json_response
from mem0_service.auth import principal
from mem0_service.core.extraction import Message
from mem0_service.core.memory import MemoryType, Scope, utcnow
from mem0_service.core.service import MemoryService, NewMemory
from mem0_service.errors import BadRequest, NotFound
from mem0_service.stores.base import iso

_EVENTS: weakref.WeakKeyDictionary[MemoryService, OrderedDict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()
MAX_EVENTS = 10_000


def _remember_event(service: MemoryService, scope: Scope, payload: dict[str, Any], results: list[MemoryEvent],
                    started: datetime) -> str:
    events = _EVENTS.setdefault(service, OrderedDict())
    event_id = secrets.token_hex(16)
    event_id = f"{event_id[:8]}-{event_id[8:12]}-{event_id[12:16]}-{event_id[16:20]}-{event_id[20:]}"
    done = utcnow()
    events[event_id] = {"owner": scope.user_id, "agent": scope.agent_id, "payload": payload, "results": results,
                        "started": started, "done": done}
    while len(events) > MAX_EVENTS:
        events.popitem(last=False)
    return event_id


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
    started = utcnow()
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
    if body.infer:
        conversation = await service.add_conversation(
            user_id=owner, messages=[Message(role=r, content=c) for r, c in turns], infer=True,
            session_id=entities.run_id, agent_id=agent_id, metadata=metadata, actor=ACTOR)
        events = [_event(e.memory, e.event, e.previous_content) for e in conversation.events]
        if expires_at is not None:
            for position, event in enumerate(events):
                if event.event == "ADD":
                    memory = await service.update(event.id, expires_at=expires_at, actor=ACTOR)
                    events[position] = _event(memory, "ADD")
    else:
        memories, created = await service.create_many([
            NewMemory(user_id=owner, content=content, type=MemoryType.interaction, session_id=entities.run_id,
                      agent_id=agent_id, metadata={**metadata, ROLE: metadata.get(ROLE, role)}, expires_at=expires_at)
            for role, content in turns], actor=ACTOR)
        events = [_event(m, "ADD" if new else "NOOP") for m, new in zip(memories, created)]
    if version == 3 or body.async_mode:
        payload = body.model_dump(mode="json", exclude_none=True)
        event_id = _remember_event(service, scope, payload, events, started)
        answer = AsyncAddResponse(message=f"Memory processing completed: {len(events)} memories", status="SUCCEEDED",
                                  event_id=event_id, results=events)
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
    event = _EVENTS.get(_service(request), {}).get(request.match_info["event_id"])
    if event is None or not principal(request).access.admits_owner(event["owner"], event["agent"]):
        raise NotFound(f"Event {request.match_info['event_id']} not found (events are kept in memory until the "
                       "service restarts)")
    return json_response(EventResponse(
        id=request.match_info["event_id"], event_type="ADD", status="SUCCEEDED", payload=event["payload"],
        results=event["results"], created_at=iso(event["started"]), updated_at=iso(event["done"]),
        started_at=iso(event["started"]), completed_at=iso(event["done"]),
        latency=round((event["done"] - event["started"]).total_seconds() * 1000, 1)))

