"""Request and response shapes of mem0's hosted platform API, as its Python and JavaScript clients send and read them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from mem0_service.api.models import Identifier, Metadata
from mem0_service.api.values import MAX_OFFSET


class PlatformRequest(BaseModel):
    # The clients send many optional knobs (org_id, project_id, version, rerank, ...): unknown ones are ignored.
    model_config = ConfigDict(extra="ignore")


class Message(PlatformRequest):
    role: str = Field("user", description="user, assistant or system (system messages are not stored)")
    content: Any = Field(description="The text of the message")


class EntityIds(PlatformRequest):
    user_id: Identifier | None = Field(None, description="The user the memory belongs to")
    agent_id: Identifier | None = Field(None, description="The agent (this service's agent_id)")
    run_id: Identifier | None = Field(None, description="The run/conversation (this service's session_id)")
    app_id: Identifier | None = Field(None, description="The application (kept in metadata.app_id)")


class AddRequest(EntityIds):
    messages: list[Message] | str = Field(description="Conversation turns to remember")
    metadata: Metadata | None = None
    categories: list[str] | None = Field(None, description="Categories to keep with the memories (infer=false)")
    filters: dict[str, Any] | None = Field(None, description="Entity ids may also be given here")
    infer: bool = Field(True, description="true: extract facts with the configured LLM; false: store as given")
    async_mode: bool | None = Field(None, description="true: answer with an event (already completed)")
    output_format: str | None = Field(None, description="v1.0 (list of events) or v1.1 ({results: [...]})")
    enable_graph: bool | None = None
    timestamp: int | float | str | None = None
    expiration_date: str | None = None
    immutable: bool | None = None


class ListRequest(EntityIds):
    filters: dict[str, Any] | None = Field(None, description="user_id/agent_id/run_id/app_id, created_at, "
                                                             "updated_at, categories, metadata; AND/OR/NOT")
    categories: list[str] | None = None
    metadata: dict[str, Any] | None = None
    start_date: str | None = None
    end_date: str | None = None
    output_format: str | None = None
    enable_graph: bool | None = None


class SearchRequest(ListRequest):
    query: str = Field(min_length=1, max_length=4000)
    top_k: int | None = Field(None, ge=1, le=1000, description="How many memories at most (default 10)")
    limit: int | None = Field(None, ge=1, le=1000, description="Same as top_k (older clients)")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Minimum relevance score, 0..1")


class UpdateRequest(PlatformRequest):
    text: str | None = Field(None, description="New text of the memory")
    metadata: Metadata | None = Field(None, description="Replaces the memory's metadata")
    categories: list[str] | None = None
    timestamp: int | float | str | None = None
    expiration_date: str | None = None


class BatchUpdateItem(PlatformRequest):
    memory_id: str
    text: str | None = None
    metadata: Metadata | None = None


class BatchUpdateRequest(PlatformRequest):
    memories: list[BatchUpdateItem] = Field(min_length=1, max_length=1000)


class BatchDeleteItem(PlatformRequest):
    memory_id: str


class BatchDeleteRequest(PlatformRequest):
    memories: list[BatchDeleteItem] = Field(min_length=1, max_length=1000)


class EntityQuery(PlatformRequest):
    user_id: Identifier | None = None
    agent_id: Identifier | None = None
    run_id: Identifier | None = None
    app_id: Identifier | None = None
    filters: str | None = Field(None, description="A JSON object of entity ids")


class PageQuery(PlatformRequest):
    page: int | None = Field(None, ge=1, le=MAX_OFFSET)
    page_size: int | None = Field(None, ge=1, le=1000)


class ListQuery(EntityQuery, PageQuery):
    output_format: str | None = None


# -- responses --------------------------------------------------------------------------------------------


class PlatformMemory(BaseModel):
    id: str
    memory: str
    user_id: str | None = None
    agent_id: str | None = None
    app_id: str | None = None
    run_id: str | None = None
    hash: str
    metadata: dict[str, Any] | None = None
    categories: list[str] = Field(default_factory=list)
    memory_type: str = Field(description="This service's type: fact, preference, interaction, metadata or pattern")
    immutable: bool = False
    expiration_date: str | None = None
    created_at: str
    updated_at: str


class ScoredMemory(PlatformMemory):
    score: float | None = Field(None, description="Relevance in [0, 1]")


class MemoryEvent(PlatformMemory):
    event: Literal["ADD", "UPDATE", "DELETE", "NOOP"]
    previous_memory: str | None = Field(None, description="The text before an UPDATE")


class EventData(BaseModel):
    memory: str


class LegacyAddEvent(BaseModel):
    id: str
    event: str
    data: EventData


class Results(BaseModel):
    results: list[MemoryEvent]


class AsyncAddResponse(BaseModel):
    message: str
    status: Literal["SUCCEEDED", "PENDING"]
    event_id: str
    results: list[MemoryEvent] = Field(default_factory=list, description="When SUCCEEDED: the events")


class AddResponse(RootModel[list[LegacyAddEvent] | Results | list[AsyncAddResponse] | AsyncAddResponse]):
    pass


class SearchResults(BaseModel):
    results: list[ScoredMemory]


class PlatformSearchResponse(RootModel[list[ScoredMemory] | SearchResults]):
    pass


class Page(BaseModel):
    count: int
    next: str | None = None
    previous: str | None = None
    results: list[PlatformMemory]


class ListResults(BaseModel):
    results: list[PlatformMemory]


class PlatformListResponse(RootModel[list[PlatformMemory] | ListResults | Page]):
    pass


class HistoryEntry(BaseModel):
    id: str
    memory_id: str
    input: list[dict[str, Any]] = Field(default_factory=list)
    old_memory: str | None = None
    new_memory: str | None = None
    user_id: str | None = None
    categories: list[str] = Field(default_factory=list)
    event: str
    actor: str | None = Field(None, description="Who made the change: api, llm, mem0-platform, ...")
    created_at: str
    updated_at: str


class PlatformHistoryResponse(RootModel[list[HistoryEntry]]):
    pass


class MessageResponse(BaseModel):
    message: str


class DeleteAllResponse(MessageResponse):
    deleted: int


class Entity(BaseModel):
    id: str
    name: str
    type: Literal["user", "agent", "run", "app"]
    total_memories: int
    owner: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: str
    updated_at: str


class EntitiesResponse(BaseModel):
    count: int
    next: str | None = None
    previous: str | None = None
    results: list[Entity]


class PingResponse(BaseModel):
    status: Literal["ok"]
    message: str
    org_id: str | None = None
    project_id: str | None = None
    user_email: str | None = None


class EventResponse(BaseModel):
    id: str
    event_type: str
    status: str
    payload: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    results: list[MemoryEvent]
    created_at: str
    updated_at: str
    started_at: str | None = None
    completed_at: str | None = None
    latency: float | None = None
    error: str | None = Field(None, description="FAILED: why the extraction gave up")


class NotSupportedResponse(BaseModel):
    error: str
    message: str
    detail: str
