"""What the background jobs do: learn from a conversation queued by an asynchronous add, or retry an extraction
that a synchronous add parked as `extraction: pending`.

Jobs run at least once, so applying one twice must change nothing more: the facts of a second run are reconciled
with what the first stored (an exact duplicate is the memory already there), and a parked conversation is marked
done only after its facts are in."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from mem0_service.core.extraction import Message
from mem0_service.core.job_queue import Job, NewJob
from mem0_service.core.memory import Memory, MemoryType
from mem0_service.core.service import ConversationEvent, MemoryService
from mem0_service.errors import NotFound
from mem0_service.stores.base import iso, parse_iso

log = logging.getLogger("mem0_service.jobs")

EXTRACTION = "extraction"
PENDING_EXTRACTION = "pending_extraction"
ROLES = ("user", "assistant", "system")


def memory_record(memory: Memory) -> dict[str, Any]:
    return {"id": memory.id, "user_id": memory.user_id, "content": memory.content, "type": memory.type.value,
            "session_id": memory.session_id, "agent_id": memory.agent_id, "metadata": memory.metadata,
            "created_at": iso(memory.created_at), "updated_at": iso(memory.updated_at),
            "expires_at": iso(memory.expires_at) if memory.expires_at else None, "version": memory.version}


def memory_from_record(record: dict[str, Any]) -> Memory:
    return Memory(id=record["id"], user_id=record["user_id"], content=record["content"],
                  type=MemoryType(record["type"]), session_id=record["session_id"], agent_id=record["agent_id"],
                  metadata=record["metadata"], created_at=parse_iso(record["created_at"]),
                  updated_at=parse_iso(record["updated_at"]),
                  expires_at=parse_iso(record["expires_at"]) if record["expires_at"] else None,
                  version=record["version"])


def event_records(events: list[ConversationEvent]) -> list[dict[str, Any]]:
    """A job's result as stored: the memory each event left behind (as it was then), the event, what it replaced."""
    return [{"event": e.event, "previous_content": e.previous_content, "memory": memory_record(e.memory)}
            for e in events]


def events_of(job: Job) -> list[ConversationEvent]:
    return [ConversationEvent(memory_from_record(r["memory"]), r["event"], r["previous_content"])
            for r in job.result or []]


def extraction_job(*, user_id: str, messages: list[Message], session_id: str | None = None,
                   agent_id: str | None = None, metadata: dict[str, Any] | None = None, actor: str = "api",
                   expires_at: datetime | None = None, request: dict[str, Any] | None = None) -> NewJob:
    """Learning from a conversation, later. `request` is the add as the client sent it (the platform's events
    show it back)."""
    payload = {"session_id": session_id, "messages": [{"role": m.role, "content": m.content} for m in messages],
               "metadata": metadata or {}, "actor": actor, "expires_at": iso(expires_at) if expires_at else None,
               "request": request}
    return NewJob(kind=EXTRACTION, user_id=user_id, agent_id=agent_id, payload=payload)


def completed_job(*, user_id: str, agent_id: str | None, events: list[ConversationEvent],
                  request: dict[str, Any] | None = None) -> NewJob:
    """Work an asynchronous add did at once (nothing to learn: infer=false), recorded so its event reads like
    any other."""
    return NewJob(kind=EXTRACTION, user_id=user_id, agent_id=agent_id, payload={"request": request},
                  status="done", result=event_records(events))


async def perform(service: MemoryService, job: Job) -> list[ConversationEvent]:
    """Do the job's work; raises what made it fail (the runner decides between retrying and giving up)."""
    if job.kind == EXTRACTION:
        return await _extract(service, job)
    if job.kind == PENDING_EXTRACTION:
        return await _extract_parked(service, job)
    raise ValueError(f"unknown job kind {job.kind!r}")


async def _extract(service: MemoryService, job: Job) -> list[ConversationEvent]:
    p = job.payload
    outcome = await service.add_conversation(
        user_id=job.user_id, messages=[Message(m["role"], m["content"]) for m in p["messages"]], infer=True,
        session_id=p.get("session_id"), agent_id=job.agent_id, metadata=p.get("metadata"),
        actor=p.get("actor") or "api", park_on_failure=False)
    events = outcome.events
    if p.get("expires_at"):
        expires_at = parse_iso(p["expires_at"])
        events = [ConversationEvent(await service.update(e.memory.id, expires_at=expires_at, actor=p["actor"]), "ADD")
                  if e.event == "ADD" else e for e in events]
    return events


def parse_transcript(text: str) -> list[Message]:
    """The turns of a conversation parked as one interaction (core.extraction.transcript wrote "role: content"
    lines; a line without a role continues the turn before it)."""
    messages: list[Message] = []
    for line in text.split("\n"):
        role, sep, content = line.partition(": ")
        if sep and role in ROLES:
            messages.append(Message(role, content))
        elif messages:
            messages[-1] = Message(messages[-1].role, messages[-1].content + "\n" + line)
        else:
            messages.append(Message("user", line))
    return messages


async def _extract_parked(service: MemoryService, job: Job) -> list[ConversationEvent]:
    memory = await service.store.get(job.payload["memory_id"])
    if memory is None or memory.metadata.get("extraction") != "pending":
        return []  # erased meanwhile, or a run before this one got as far as marking it done
    metadata = {k: v for k, v in memory.metadata.items() if k not in ("extraction", "extraction_error", "role")}
    outcome = await service.add_conversation(
        user_id=memory.user_id, messages=parse_transcript(memory.content), infer=True, session_id=memory.session_id,
        agent_id=memory.agent_id, metadata=metadata, actor="extraction", park_on_failure=False)
    done = {k: v for k, v in memory.metadata.items() if k != "extraction_error"} | {"extraction": "done"}
    try:
        await service.update(memory.id, metadata=done, actor="extraction")
    except NotFound:
        log.info("parked conversation %s was deleted while its facts were extracted", memory.id)
    return outcome.events
