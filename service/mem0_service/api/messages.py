"""Handlers for a session's message log: append, read a window, clear. Long-term memories are not touched."""

from __future__ import annotations

from aiohttp import web

from mem0_service.api.message_models import (
    MessageLogResponse,
    MessagesAppend,
    MessagesAppended,
    MessagesClearQuery,
    MessagesQuery,
)
from mem0_service.api.models import (
    BulkDeleteResponse,
    ConversationEventOut,
    ConversationResponse,
    ExtractionStatus,
    LoggedMessageOut,
)
from mem0_service.api.parsing import parse_body, parse_path_identifier, parse_query
from mem0_service.api.responses import json_response
from mem0_service.auth import principal
from mem0_service.core.extraction import Message
from mem0_service.core.memory import Scope, utcnow
from mem0_service.core.messages import LogWindow, NewMessage
from mem0_service.errors import BadRequest
from mem0_service.state import SERVICE


async def append_messages(request: web.Request) -> web.Response:
    session_id = parse_path_identifier(request, "session_id")
    body = await parse_body(request, MessagesAppend)
    scope = principal(request).restrict(Scope(user_id=body.user_id, session_id=session_id, agent_id=body.agent_id),
                                        fill_agent=True)
    service = request.app[SERVICE]
    spoken = [Message(m.role, m.content) for m in body.messages if m.role in ("user", "assistant")]
    if body.learn and service.extractor is None:  # refused before anything is appended, so a retry appends once
        raise BadRequest("learn needs a chat model: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server), "
                         "or send learn=false", field="learn")
    if body.learn and not spoken:
        raise BadRequest("learn needs at least one user or assistant message", field="learn")
    now = utcnow()
    logged = await service.append_messages(scope, [
        NewMessage(role=m.role, content=m.content, name=m.name, created_at=m.created_at or now,
                   metadata=m.metadata or {}) for m in body.messages])
    learned = None
    if body.learn:
        outcome = await service.add_conversation(user_id=scope.user_id, messages=spoken, infer=True,
                                                 session_id=session_id, agent_id=scope.agent_id,
                                                 metadata={"source": "message-log"})
        learned = ConversationResponse(
            results=[ConversationEventOut.of(e.memory, event=e.event, previous_content=e.previous_content)
                     for e in outcome.events],
            extraction=ExtractionStatus(status=outcome.extraction, reason=outcome.reason))
    return json_response(MessagesAppended(session_id=session_id, user_id=scope.user_id, learned=learned,
                                          messages=[LoggedMessageOut.of(m) for m in logged]), status=201)


async def read_messages(request: web.Request) -> web.Response:
    session_id = parse_path_identifier(request, "session_id")
    query = parse_query(request, MessagesQuery)
    scope = principal(request).restrict(Scope(user_id=query.user_id, session_id=session_id, agent_id=query.agent_id),
                                        fill_agent=True)
    page = await request.app[SERVICE].read_messages(scope, LogWindow(limit=query.limit, before=query.before,
                                                                     after=query.after))
    messages = [LoggedMessageOut.of(m) for m in page.messages]
    forward = query.after is not None
    return json_response(MessageLogResponse(
        session_id=session_id, user_id=scope.user_id, messages=messages, total=page.total, has_more=page.has_more,
        next_before=messages[0].seq if messages and page.has_more and not forward else None,
        next_after=messages[-1].seq if messages and page.has_more and forward else None))


async def clear_messages(request: web.Request) -> web.Response:
    session_id = parse_path_identifier(request, "session_id")
    query = parse_query(request, MessagesClearQuery)
    scope = principal(request).restrict(Scope(user_id=query.user_id, session_id=session_id, agent_id=query.agent_id),
                                        fill_agent=True)
    deleted = await request.app[SERVICE].clear_messages(scope)
    return json_response(BulkDeleteResponse(success=True, deleted=deleted,
                                            message=f"Cleared {deleted} messages of session {session_id}"))
