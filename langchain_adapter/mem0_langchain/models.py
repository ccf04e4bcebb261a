"""Typed results returned by the Mem0 HTTP API."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MemoryType = Literal["fact", "preference", "interaction", "metadata", "pattern"]
"""The memory types the service accepts."""

MEMORY_TYPES: tuple[str, ...] = ("fact", "preference", "interaction", "metadata", "pattern")


class _Result(BaseModel):
    # Unknown fields are kept, so a newer service never breaks an older client.
    model_config = ConfigDict(extra="allow")


class Memory(_Result):
    """One stored memory."""

    id: str
    content: str
    user_id: str | None = None
    type: str = "fact"
    session_id: str | None = None
    agent_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("created_at", "updated_at")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        # The API speaks UTC; a timestamp without an offset is read as UTC too.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value

    @property
    def sort_key(self) -> datetime:
        """Creation time, for ordering memories oldest first (unknown times first)."""
        return self.created_at or datetime.min.replace(tzinfo=timezone.utc)


class ScoredMemory(Memory):
    """A memory returned by a search, with its relevance to the query (0..1)."""

    relevance_score: float | None = None
    """None when the search had no query (the most recent memories are returned)."""


class SearchResult(_Result):
    """Answer of ``POST /api/memories/search``."""

    memories: list[ScoredMemory]
    total: int = 0


class MemoryPage(_Result):
    """One page of ``GET /api/memories/user/{user_id}``."""

    memories: list[Memory]
    total: int = 0
    limit: int = 0
    offset: int = 0


class DeleteResult(_Result):
    """Answer of the delete endpoints; ``deleted`` is set by the bulk delete."""

    success: bool
    message: str = ""
    deleted: int | None = None


class Health(_Result):
    """Answer of ``GET /api/health``."""

    status: str
    version: str | None = None
    timestamp: str | None = None


class AuthCheck(_Result):
    """Answer of ``GET /api/auth/check`` for a valid key."""

    authenticated: bool
    role: str | None = None
    """``admin``, or ``scoped`` for a key bound to one user and/or agent."""
