"""The memory record and the scope filters every store and index understands."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any


class MemoryType(str, Enum):
    fact = "fact"
    preference = "preference"
    interaction = "interaction"
    metadata = "metadata"
    pattern = "pattern"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


_last_tick = [0]
_tick_lock = threading.Lock()


def new_memory_id() -> str:
    """Ids sort in creation order, also within one batch (same created_at): the prefix is a microsecond clock
    that never repeats or runs backwards in this process; the random tail keeps ids unguessable."""
    with _tick_lock:
        tick = max(time.time_ns() // 1000, _last_tick[0] + 1)
        _last_tick[0] = tick
    return f"mem_{tick:014x}{secrets.token_hex(8)}"


def content_hash(content: str) -> str:
    return hashlib.sha256(" ".join(content.split()).casefold().encode()).hexdigest()


@dataclass(frozen=True)
class Memory:
    id: str
    user_id: str
    content: str
    type: MemoryType
    created_at: datetime
    updated_at: datetime
    session_id: str | None = None
    agent_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None

    @property
    def hash(self) -> str:
        return content_hash(self.content)

    def with_changes(self, **changes: Any) -> Memory:
        return replace(self, **changes)

    def vector_payload(self) -> dict[str, Any]:
        """What the vector index needs to filter without asking the record store."""
        return {"user_id": self.user_id, "session_id": self.session_id, "agent_id": self.agent_id,
                "type": self.type.value}


@dataclass(frozen=True)
class Scope:
    """Which memories a query may see: always one user, optionally narrowed."""

    user_id: str
    session_id: str | None = None
    agent_id: str | None = None
    types: tuple[MemoryType, ...] = ()
    created_before: datetime | None = None
    created_after: datetime | None = None
    updated_after: datetime | None = None
    metadata: tuple[tuple[str, Any], ...] = ()  # top-level metadata keys that must equal these values

    def admits(self, memory: Memory) -> bool:
        return (memory.user_id == self.user_id
                and (self.session_id is None or memory.session_id == self.session_id)
                and (self.agent_id is None or memory.agent_id == self.agent_id)
                and (not self.types or memory.type in self.types)
                and (self.created_before is None or memory.created_at < self.created_before)
                and (self.created_after is None or memory.created_at > self.created_after)
                and (self.updated_after is None or memory.updated_at > self.updated_after)
                and all(memory.metadata.get(key) == value for key, value in self.metadata))


@dataclass(frozen=True)
class HistoryEvent:
    """One change of a memory. Contents are None after a GDPR erasure: the audit trail stays, the data goes."""

    memory_id: str
    event: str  # ADD, UPDATE, DELETE
    old_content: str | None
    new_content: str | None
    actor: str
    created_at: datetime
