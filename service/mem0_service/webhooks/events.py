"""The events a webhook may subscribe to, and the one call that announces the ones no trigger sees.

memory.created / memory.updated / memory.deleted are queued by the record store's triggers in the transaction that
changes the memory. Events about work rather than records (extraction.completed / extraction.failed) are announced
with `WebhookStore.publish(WebhookEvent(...))`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["memory.created", "memory.updated", "memory.deleted", "extraction.completed", "extraction.failed"]
EVENT_KINDS: tuple[EventKind, ...] = ("memory.created", "memory.updated", "memory.deleted", "extraction.completed",
                                "extraction.failed")


@dataclass(frozen=True)
class WebhookEvent:
    """An event that is not a memory row change. It reaches the webhooks whose user/agent filter admits
    (user_id, agent_id), exactly like a memory of that owner would."""

    kind: EventKind
    user_id: str
    agent_id: str | None = None
    session_id: str | None = None
    memory_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
