"""A session's message log: every turn of a conversation, in the order the record store received it.

The store numbers the messages of each (user, session) with `seq` as it appends them, so the order never depends
on the clocks of the clients that wrote them; `created_at` is what the client says, kept for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NewMessage:
    role: str
    content: str
    created_at: datetime
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoggedMessage:
    user_id: str
    session_id: str
    seq: int
    role: str
    content: str
    created_at: datetime
    stored_at: datetime
    agent_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogWindow:
    """Which part of a log to read: the last `limit` messages, or those just before `before` / just after `after`."""

    limit: int
    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class LogPage:
    messages: list[LoggedMessage]
    total: int  # messages in the log (of the agent, when one is named)
    has_more: bool  # more messages lie beyond this page in the direction it was read
