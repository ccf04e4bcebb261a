"""Typed results returned by the Mem0 HTTP API."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MemoryType = Literal["fact", "preference", "interaction", "metadata", "pattern"]
"""The memory types the service accepts."""

MEMORY_TYPES: tuple[str, ...] = ("fact", "preference", "interaction", "metadata", "pattern")


def _utc(value: datetime | None) -> datetime | None:
    # The API speaks UTC; a timestamp without an offset is read as UTC too.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


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
    expires_at: datetime | None = None
    """When the service forgets the memory (``None``: kept until deleted)."""

    @field_validator("metadata", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("created_at", "updated_at", "expires_at")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @property
    def sort_key(self) -> datetime:
        """Creation time, for ordering memories oldest first (unknown times first)."""
        return self.created_at or datetime.min.replace(tzinfo=timezone.utc)


class ScoredMemory(Memory):
    """A memory returned by a search, with its relevance to the query (0..1)."""

    relevance_score: float | None = None
    """None when the search had no query (the most recent memories are returned)."""


class QueryRewrite(_Result):
    """What became of a search's ``rewrite_query``."""

    status: str
    """``done``, ``skipped`` (no chat model configured, or no query) or ``failed``."""
    queries: list[str] = []
    """The alternatives matched beside the query."""
    reason: str | None = None
    """Why the search ran on the query alone."""


class SearchResult(_Result):
    """Answer of ``POST /api/memories/search``."""

    memories: list[ScoredMemory]
    total: int = 0
    query_rewrite: QueryRewrite | None = None
    """Only when the search asked for a rewrite (``rewrite_query``, or the service's default)."""


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


class ConversationEvent(Memory):
    """What learning from a conversation did to one memory."""

    event: str
    """``ADD``, ``UPDATE``, ``DELETE`` or ``NONE`` (already known)."""
    previous_content: str | None = None
    """The content before an ``UPDATE``."""


class ExtractionStatus(_Result):
    """How the service's chat model handled a conversation."""

    status: str
    """``done`` (facts extracted), ``skipped`` (``infer=False``) or ``deferred`` (the model
    failed; the conversation was kept as an interaction for a later extraction)."""
    reason: str | None = None


class ConversationResult(_Result):
    """Answer of ``POST /api/memories`` with ``messages``."""

    results: list[ConversationEvent]
    extraction: ExtractionStatus


class BatchItem(_Result):
    """The outcome of one item of a batch, in request order."""

    index: int
    status: int
    """201 created, 200 an existing duplicate, 4xx refused (see ``error``)."""
    memory: Memory | None = None
    error: dict[str, Any] | None = None


class BatchResult(_Result):
    """Answer of ``POST /api/memories/batch``."""

    results: list[BatchItem]
    created: int = 0
    existing: int = 0
    failed: int = 0


class HistoryEvent(_Result):
    """One change of a memory."""

    memory_id: str
    event: str
    """``ADD``, ``UPDATE`` or ``DELETE``."""
    old_content: str | None = None
    new_content: str | None = None
    actor: str | None = None
    created_at: datetime | None = None

    @field_validator("created_at")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class Export(_Result):
    """Everything the service keeps about a user (``GET /api/memories/user/{id}/export``)."""

    user_id: str
    exported_at: str | None = None
    total: int = 0
    memories: list[Memory]


class LoggedMessage(_Result):
    """One message of a session's log; ``seq`` is its place in the log, given by the service."""

    seq: int
    role: str
    content: str
    name: str | None = None
    agent_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    stored_at: datetime | None = None


class MessageLog(_Result):
    """A window of a session's log (``GET /api/sessions/{id}/messages``), oldest first."""

    session_id: str
    user_id: str
    messages: list[LoggedMessage]
    total: int = 0
    has_more: bool = False
    next_before: int | None = None
    next_after: int | None = None


class AppendedMessages(_Result):
    """The messages of an append as the log holds them (``POST /api/sessions/{id}/messages``)."""

    session_id: str
    user_id: str
    messages: list[LoggedMessage]


class Readiness(_Result):
    """Answer of ``GET /api/ready``: whether every backend of the service answers."""

    status: str
    checks: dict[str, Any] = Field(default_factory=dict)
    failing: list[str] = Field(default_factory=list)


class ApiKey(_Result):
    """A scoped API key as the service lists it (never with its secret)."""

    id: str
    prefix: str | None = None
    name: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    access: str | None = None
    """``read`` or ``read_write``."""
    created_at: datetime | None = None
    revoked_at: datetime | None = None


class CreatedApiKey(ApiKey):
    """A new key, with its secret: the only time the service shows it."""

    key: str


class ApiKeyList(_Result):
    """Answer of ``GET /api/keys``."""

    keys: list[ApiKey]
    total: int = 0


class RevokedApiKey(_Result):
    """Answer of ``DELETE /api/keys/{id}``."""

    success: bool
    message: str = ""
    key: ApiKey | None = None


class UserSummary(_Result):
    """A user who has memories (``GET /api/users``)."""

    user_id: str
    memory_count: int = 0
    last_activity: datetime | None = None

    @field_validator("last_activity")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class UserPage(_Result):
    """One page of ``GET /api/users`` (admin key only), ordered by user id."""

    users: list[UserSummary]
    total: int = 0
    limit: int = 0
    offset: int = 0
