"""Request and response models: they validate input, shape output and generate the OpenAPI document."""

from __future__ import annotations

import builtins
import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
    model_serializer,
    model_validator,
)

from mem0_service.api.values import MAX_OFFSET, check_timestamp
from mem0_service.core.memory import Memory, MemoryType
from mem0_service.core.messages import LoggedMessage
from mem0_service.core.query_rewrite import QueryRewrite
from mem0_service.core.ranking import Ranked
from mem0_service.stores.base import iso

MAX_CONTENT_CHARS = 20_000
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 5

# Ids travel in URL paths (/api/memories/user/:user_id), so no slashes, spaces or URL syntax.
PathIdentifier = Annotated[str, StringConstraints(pattern=r"^[\w.@:+\-]{1,128}$")]


def _not_a_path_step(value: str) -> str:
    if value in (".", ".."):
        # Clients resolve /api/memories/user/.. to /api/memories/ before sending it: no one could name this id.
        raise ValueError("must not be . or .. (a URL path reads them as steps, so no client could name the id)")
    return value


# An id given in a body, query or filter. A path may still carry . and .. (they arrived there intact, so the client
# can name them), so that what was stored under them before stays readable and erasable.
Identifier = Annotated[PathIdentifier, AfterValidator(_not_a_path_step)]


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return value
    if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
    if _depth(value) > MAX_METADATA_DEPTH:
        raise ValueError(f"metadata may nest at most {MAX_METADATA_DEPTH} levels")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(_check_metadata)]
# An instant both record stores hold (see api/values.py), in UTC; a time without an offset is UTC.
Timestamp = Annotated[datetime, AfterValidator(lambda value: check_timestamp(value))]
Content = Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS), AfterValidator(_not_blank)]


class Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


MAX_MESSAGES = 200


class ChatMessage(Request):
    role: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    content: Content


class Expiry(Request):
    expires_at: Timestamp | None = Field(None, description="When the memory is forgotten (ISO 8601; between "
                                                           "0001-01-02 and 9999-12-30 in UTC)")
    ttl_seconds: int | None = Field(None, ge=1, le=100 * 365 * 86400, description="Or: forget after this many seconds")

    def expiry(self, now: datetime) -> datetime | None:
        if self.ttl_seconds is not None:
            return now + timedelta(seconds=self.ttl_seconds)
        return self.expires_at


class MemoryCreate(Expiry):
    user_id: Identifier = Field(description="Whose memory this is")
    content: Content | None = Field(None, description="The text to remember, in any language")
    messages: list[ChatMessage] | None = Field(None, min_length=1, max_length=MAX_MESSAGES,
                                               description="A conversation to learn from, instead of content")
    infer: bool | None = Field(None, description="With messages: extract facts with the LLM (default true) "
                                                 "or store each message as an interaction (false)")
    type: MemoryType = Field(MemoryType.fact, description="fact, preference, interaction, metadata or pattern")
    session_id: Identifier | None = Field(None, description="Session-level memory: the conversation it belongs to")
    agent_id: Identifier | None = Field(None, description="Agent-level memory: the AI agent it belongs to")
    metadata: Metadata | None = Field(None, description="Free-form JSON object kept with the memory")
    run_async: bool = Field(False, alias="async", description="With messages: answer 202 with an event_id at once "
                                                               "and learn in the background (GET /api/events/{id})")

    @model_validator(mode="after")
    def _content_or_messages(self) -> MemoryCreate:
        if self.content is None and self.messages is None:
            raise ValueError("Missing required field: content (or messages)")
        if self.content is not None and self.messages is not None:
            raise ValueError("Give either content or messages, not both")
        if self.run_async and self.messages is None:
            raise ValueError("Invalid field: async applies to messages; a memory from content is stored at once")
        return self


class MemoryBatch(Request):
    memories: list[dict[str, Any]] = Field(min_length=1, max_length=1000,
                                           description="Up to 1000 memory objects shaped like POST /api/memories")


class MemoryUpdate(Expiry):
    content: Content | None = None
    type: MemoryType | None = None
    metadata: Metadata | None = None


class MemorySearch(Request):
    user_id: Identifier
    query: str | None = Field(None, max_length=4000, description="What to look for; without it the most recent memories")
    relevance_threshold: float = Field(0.7, ge=0.0, le=1.0, description="Drop memories scoring below this (0..1)")
    limit: int = Field(5, ge=1, le=100)
    types: list[MemoryType] | None = Field(None, description="Only these memory types")
    session_id: Identifier | None = None
    agent_id: Identifier | None = None
    explain: bool = Field(False, description="Also answer, per memory, the ranking terms behind its relevance_score "
                                             "(`explanation`): dense (meaning) and keyword evidence")
    rewrite_query: bool | None = Field(
        None, description="Also match the chat model's alternatives of the query (its translation, the specific "
                          "words an answer would use); a memory counts with its best match. Default: "
                          "MEM0_QUERY_REWRITE. Without a chat model, or when it fails, the search runs on the query "
                          "as written and `query_rewrite` says why")


class MemoryListQuery(Request):
    type: MemoryType | None = None
    session_id: Identifier | None = None
    agent_id: Identifier | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    created_before: Timestamp | None = None
    created_after: Timestamp | None = None
    updated_after: Timestamp | None = None
    order: Literal["desc", "asc"] = "desc"
    metadata: str | None = Field(None, description='JSON object of metadata keys that must match, e.g. {"source":"n8n"}')


ID_PREFIX = re.compile(r"[\w.@:+\-]{0,128}")


def _id_prefix(value: str) -> str:
    if not ID_PREFIX.fullmatch(value):
        raise ValueError("must be at most 128 characters: letters, digits and _ . @ : + -")
    return value


class UserListQuery(Request):
    prefix: Annotated[str, AfterValidator(_id_prefix)] = Field(
        "", description="Only users whose id starts with this",
        json_schema_extra={"pattern": r"^[\w.@:+\-]{0,128}$", "maxLength": 128})
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class UserOut(BaseModel):
    user_id: str
    memory_count: int = Field(description="Live memories of the user")
    last_activity: datetime = Field(description="When a memory of the user was last written or changed")

    @field_serializer("last_activity")
    def _utc(self, value: datetime) -> str:
        return iso(value)


class UserListResponse(BaseModel):
    users: list[UserOut] = Field(description="Ordered by user id")
    total: int = Field(description="Users matching the prefix")
    limit: int
    offset: int


class ScopeDeleteQuery(Request):
    session_id: Identifier | None = None
    agent_id: Identifier | None = None
    type: MemoryType | None = None


class MemoryDeleteQuery(Request):
    erase: bool = Field(False, description="Also scrub the content from the memory's history (GDPR)")


Out = TypeVar("Out", bound="MemoryOut")  # MemoryOut.of builds whichever subclass it is called on


class MemoryOut(BaseModel):
    id: str
    user_id: str
    content: str
    type: MemoryType
    session_id: str | None = None
    agent_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None

    @field_serializer("created_at", "updated_at", "expires_at")
    def _utc(self, value: datetime | None) -> str | None:
        return iso(value) if value else None

    @classmethod
    def of(cls: builtins.type[Out], memory: Memory, **extra: Any) -> Out:  # `type` is a field here
        return cls(id=memory.id, user_id=memory.user_id, content=memory.content, type=memory.type,
                   session_id=memory.session_id, agent_id=memory.agent_id, metadata=memory.metadata,
                   created_at=memory.created_at, updated_at=memory.updated_at, expires_at=memory.expires_at, **extra)


class MatchExplanation(BaseModel):
    """Why a memory matched: relevance_score = max(1 - (1 - dense_score) * (1 - keyword_term), context_score)."""

    matched_by: Literal["dense", "keyword", "both", "context"] = Field(
        description="Which evidence carries the score: dense (meaning), keyword (shared words), both, or context "
                    "(a neighbouring turn of the same conversation matched)")
    cosine: float | None = Field(description="Raw cosine similarity of the query and memory embeddings")
    dense_score: float = Field(description="Calibrated meaning score in [0, 1], after the background adjustment")
    keyword_evidence: float = Field(description="Keyword match in [0, 1], relative to the query's best match")
    keyword_term: float = Field(description="What the keyword evidence adds to the score in [0, 1]: evidence x "
                                            "weight x agreement with the dense model")
    context_score: float = Field(0.0, description="What the turn stored just before or after this one in the same "
                                                  "conversation lends: a share of its relevance (interactions only)")
    context_from: str | None = Field(None, description="The id of the neighbouring turn that lends context_score")
    matched_query: str | None = Field(None, description="With rewrite_query: the alternative of the query whose "
                                                        "meaning matched this memory best (its cosine is `cosine`); "
                                                        "null: the query as written")

    @classmethod
    def of(cls, ranked: Ranked, matched_query: str | None = None) -> MatchExplanation:
        own = 1.0 - (1.0 - ranked.dense) * (1.0 - ranked.keyword_term)
        carried = "context" if ranked.context > own else _matched_by(ranked.dense, ranked.keyword_term)
        return cls(matched_by=carried, cosine=None if ranked.cosine is None else round(ranked.cosine, 4),
                   dense_score=round(ranked.dense, 4), keyword_evidence=round(ranked.keyword, 4),
                   keyword_term=round(ranked.keyword_term, 4), context_score=round(ranked.context, 4),
                   context_from=ranked.context_from, matched_query=matched_query)


# Below this a keyword term is noise, not evidence worth naming.
EVIDENCE_FLOOR = 0.05
# Every model's calibration maps its "related or not" cosine to 0.7: meaning alone is evidence from there on.
DENSE_EVIDENCE = 0.7


def _matched_by(dense: float, keyword_term: float) -> Literal["dense", "keyword", "both"]:
    if keyword_term < EVIDENCE_FLOOR:
        return "dense"
    return "both" if dense >= DENSE_EVIDENCE else "keyword"


def _without_null(data: dict[str, Any], field: str) -> dict[str, Any]:
    """An answer without an optional part that was not asked for (rather than with a null in its place)."""
    if data.get(field) is None:
        data.pop(field, None)
    return data


class SearchHitOut(MemoryOut):
    relevance_score: float | None = Field(description="Calibrated relevance in [0, 1]; null for query-less searches")
    explanation: MatchExplanation | None = Field(None, description="Only with explain=true in the search")

    @model_serializer(mode="wrap")
    def _explanation_only_when_asked(self, handler):  # no return annotation: the schema stays the model's own
        return _without_null(handler(self), "explanation")


class QueryRewriteOut(BaseModel):
    status: Literal["done", "skipped", "failed"] = Field(
        description="done: the alternatives were matched too; skipped: no chat model or no query; failed: the chat "
                    "model was slow, down or answered junk, and the search ran on the query as written")
    queries: list[str] = Field(description="The alternatives matched beside the query")
    reason: str | None = Field(None, description="Why the search ran on the query alone")

    @classmethod
    def of(cls, rewrite: QueryRewrite) -> QueryRewriteOut | None:
        if rewrite.status == "off":
            return None
        return cls(status=rewrite.status, queries=list(rewrite.queries), reason=rewrite.reason)


class SearchResponse(BaseModel):
    memories: list[SearchHitOut]
    total: int
    query_rewrite: QueryRewriteOut | None = Field(None, description="Only when the search asked for a rewrite")

    @model_serializer(mode="wrap")
    def _rewrite_only_when_asked(self, handler):  # no return annotation: the schema stays the model's own
        return _without_null(handler(self), "query_rewrite")


class ListResponse(BaseModel):
    memories: list[MemoryOut]
    total: int
    limit: int
    offset: int


class ConversationEventOut(MemoryOut):
    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    previous_content: str | None = None


class ExtractionStatus(BaseModel):
    status: Literal["done", "skipped", "deferred"] = Field(
        description="done: facts extracted; skipped: infer=false; deferred: the LLM failed, the conversation was "
                    "kept as an interaction flagged for later extraction")
    reason: str | None = None


class ConversationResponse(BaseModel):
    results: list[ConversationEventOut]
    extraction: ExtractionStatus


class BatchItemResult(BaseModel):
    index: int
    status: int
    memory: MemoryOut | None = None
    error: ErrorResponse | None = None


class BatchResponse(BaseModel):
    results: list[BatchItemResult]
    created: int
    existing: int
    failed: int


class HistoryEventOut(BaseModel):
    memory_id: str
    event: Literal["ADD", "UPDATE", "DELETE"]
    old_content: str | None
    new_content: str | None
    actor: str
    created_at: datetime

    @field_serializer("created_at")
    def _utc(self, value: datetime) -> str:
        return iso(value)


class HistoryResponse(BaseModel):
    history: list[HistoryEventOut]


class LoggedMessageOut(BaseModel):
    seq: int = Field(description="Position in the session's log, assigned by the service: 1, 2, 3, ...")
    role: str
    content: str
    name: str | None = None
    agent_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    stored_at: datetime

    @field_serializer("created_at", "stored_at")
    def _utc(self, value: datetime) -> str:
        return iso(value)

    @classmethod
    def of(cls, m: LoggedMessage) -> LoggedMessageOut:
        return cls(seq=m.seq, role=m.role, content=m.content, name=m.name, agent_id=m.agent_id, metadata=m.metadata,
                   created_at=m.created_at, stored_at=m.stored_at)


class ExportedMessageOut(LoggedMessageOut):
    session_id: str

    @classmethod
    def of(cls, m: LoggedMessage) -> ExportedMessageOut:
        return cls(session_id=m.session_id, seq=m.seq, role=m.role, content=m.content, name=m.name,
                   agent_id=m.agent_id, metadata=m.metadata, created_at=m.created_at, stored_at=m.stored_at)


class ExportResponse(BaseModel):
    user_id: str
    exported_at: str
    total: int
    memories: list[MemoryOut]
    messages: list[ExportedMessageOut] = Field(default_factory=list, description="Every session's message log, "
                                                                                 "by session and seq")


class SessionEndQuery(Request):
    user_id: Identifier


class DeleteResponse(BaseModel):
    success: bool
    message: str


class BulkDeleteResponse(DeleteResponse):
    deleted: int


class HealthResponse(BaseModel):
    status: str
    version: str
    timestamp: str


class AuthCheckResponse(BaseModel):
    authenticated: bool
    role: str
    user_id: str | None = Field(None, description="The only user this key reaches (scoped keys)")
    agent_id: str | None = Field(None, description="The only agent this key reaches (scoped keys)")
    read_only: bool = Field(False, description="The key may search, list and read, but not change anything")


class ErrorResponse(BaseModel):
    error: str
    message: str
    field: str | None = None


BatchItemResult.model_rebuild()
