"""Background extractions announced to webhooks: a finished job is `extraction.completed`, a dead letter
`extraction.failed`, for the webhooks that may see the job's user and agent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mem0_service.core.job_runner import JobOutcome
from mem0_service.core.service import MemoryService
from mem0_service.webhooks.events import EventKind, WebhookEvent


def announce_extractions(service: MemoryService) -> Callable[[JobOutcome], Awaitable[None]]:
    async def listener(outcome: JobOutcome) -> None:
        job = outcome.job
        if job.kind != "extraction":
            return
        session_id = job.payload.get("session_id")
        kind: EventKind
        if outcome.status == "done":
            data = {"event_id": job.id, "attempts": job.attempts,
                    "results": [{"id": e.memory.id, "event": e.event, "content": e.memory.content,
                                 "previous_content": e.previous_content} for e in outcome.events]}
            kind = "extraction.completed"
        else:
            data = {"event_id": job.id, "attempts": job.attempts, "error": outcome.error}
            kind = "extraction.failed"
        await service.announce(WebhookEvent(kind, user_id=job.user_id, agent_id=job.agent_id,
                                            session_id=session_id if isinstance(session_id, str) else None,
                                            data=data))

    return listener
