"""Events of asynchronous adds: POST /api/memories with `"async": true` answers 202 with an event id; the job
queue learns in the background, and GET /api/events/{id} tells how far it got and what it changed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from mem0_service.api.models import ConversationEventOut
from mem0_service.api.parsing import parse_path_identifier
from mem0_service.api.responses import json_response
from mem0_service.auth import principal
from mem0_service.core.job_queue import Job, NewJob
from mem0_service.core.jobs import events_of
from mem0_service.errors import NotFound
from mem0_service.state import JOBS, SERVICE

EventStatus = Literal["queued", "running", "done", "failed"]


class EventAccepted(BaseModel):
    event_id: str = Field(description="Read the outcome at GET /api/events/{event_id}")
    status: EventStatus
    message: str


class EventOut(BaseModel):
    event_id: str
    status: EventStatus = Field(description="queued (also while waiting for a retry), running, done, or failed "
                                            "(gave up: see error)")
    user_id: str
    agent_id: str | None = None
    attempts: int = Field(description="Runs started so far (a run is retried when the chat model is down)")
    error: str | None = Field(None, description="Why the last run failed")
    results: list[ConversationEventOut] = Field(description="When done: the ADD/UPDATE/DELETE/NONE events")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


def event_out(job: Job) -> EventOut:
    return EventOut(event_id=job.id, status=job.status, user_id=job.user_id, agent_id=job.agent_id,
                    attempts=job.attempts, error=job.error,
                    results=[ConversationEventOut.of(e.memory, event=e.event, previous_content=e.previous_content)
                             for e in events_of(job)],
                    created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at)


async def submit(request: web.Request, job: NewJob) -> Job:
    """Queue a job in the record store (it survives this process) and wake this process's worker."""
    stored = await request.app[SERVICE].store.enqueue_job(job)
    if stored.status == "queued" and JOBS in request.app:
        request.app[JOBS].notify()
    return stored


async def load_event(request: web.Request, event_id: str) -> Job:
    """The job behind an event, if the caller may see it: a key bound to a user or agent sees only its own."""
    job = await request.app[SERVICE].store.get_job(event_id)
    if job is None or not principal(request).access.admits_owner(job.user_id, job.agent_id):
        raise NotFound(f"Event {event_id} not found")
    return job


async def get_event(request: web.Request) -> web.Response:
    event_id = parse_path_identifier(request, "event_id")
    return json_response(event_out(await load_event(request, event_id)))
