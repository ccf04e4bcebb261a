"""The MCP tools: their inputs (pydantic models that are also the JSON schemas a model reads) and what they do.

Every tool calls the MemoryService with the caller's restrictions; the same limits as the HTTP API apply, and
failures raise the service's own errors (ApiError), which the protocol server turns into tool errors."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mem0_service.api.models import (
    MAX_MESSAGES,
    BulkDeleteResponse,
    ChatMessage,
    Content,
    ConversationEventOut,
    ConversationResponse,
    DeleteResponse,
    ExtractionStatus,
    Identifier,
    ListResponse,
    MemoryOut,
    Metadata,
    QueryRewriteOut,
    SearchHitOut,
    SearchResponse,
)
from mem0_service.api.parsing import validated
from mem0_service.core.extraction import Message
from mem0_service.core.memory import Memory, MemoryType, Scope
from mem0_service.core.service import NewMemory
from mem0_service.errors import BadRequest, Forbidden
from mem0_service.mcp.caller import Caller
from mem0_service.ops.logs import audit

USER_ARGUMENT = "user_id"


class ToolInput(BaseModel):
    # Unknown arguments are ignored, like unknown JSON fields on the HTTP API.
    model_config = ConfigDict(extra="ignore")

    user_id: Identifier | None = Field(
        None, description="Whose memories to use. Leave it out to use the configured user.")


class AddMemoryInput(ToolInput):
    text: Content | None = Field(
        None, description="One thing to remember, as a short self-contained statement in the user's language, "
                          "e.g. 'Prefers vegetarian food'. Give text or messages, not both.")
    messages: list[ChatMessage] | None = Field(
        None, min_length=1, max_length=MAX_MESSAGES,
        description="Or: conversation turns ({role: user|assistant, content}) to learn from. With a chat model "
                    "configured on the service, facts are extracted and reconciled with what is already known; "
                    "otherwise each turn is kept as an interaction.")
    type: MemoryType = Field(MemoryType.fact, description="fact, preference, interaction, metadata or pattern")
    session_id: Identifier | None = Field(
        None, description="Only for memories that belong to one conversation and should end with it")
    metadata: Metadata | None = Field(None, description="Optional JSON object kept with the memory")
    infer: bool | None = Field(
        None, description="With messages: extract facts (true) or keep every turn as given (false). "
                          "Default: extract when the service has a chat model.")

    @model_validator(mode="after")
    def _text_or_messages(self) -> AddMemoryInput:
        if self.text is None and self.messages is None:
            raise ValueError("Missing required field: text (or messages)")
        if self.text is not None and self.messages is not None:
            raise ValueError("Give either text or messages, not both")
        return self


class SearchMemoriesInput(ToolInput):
    query: str = Field(min_length=1, max_length=4000,
                       description="What to look for, in natural language (any language)")
    limit: int = Field(5, ge=1, le=100, description="At most this many memories, best first")
    threshold: float = Field(0.7, ge=0.0, le=1.0,
                             description="Drop memories whose relevance score (0..1) is below this")
    types: list[MemoryType] | None = Field(None, description="Only these memory types")
    session_id: Identifier | None = Field(None, description="Only the memories of this conversation")
    rewrite_query: bool | None = Field(None, description="Also match the chat model's alternatives of the query "
                                                         "(translation, specific words); default: the service's")


class ListMemoriesInput(ToolInput):
    limit: int = Field(10, ge=1, le=100, description="Page size")
    offset: int = Field(0, ge=0, description="How many memories to skip (for the next page: offset + limit)")
    type: MemoryType | None = Field(None, description="Only this memory type")
    session_id: Identifier | None = Field(None, description="Only the memories of this conversation")


class MemoryIdInput(ToolInput):
    memory_id: Identifier = Field(description="The memory's id, as returned by search_memories or list_memories")


class UpdateMemoryInput(MemoryIdInput):
    text: Content | None = Field(None, description="The new content, replacing the old one")
    type: MemoryType | None = Field(None, description="The new type")
    metadata: Metadata | None = Field(None, description="The new metadata object (replaces the old one)")

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateMemoryInput:
        if self.text is None and self.type is None and self.metadata is None:
            raise ValueError("Missing required field: text (or type, or metadata)")
        return self


class ForgetEverythingInput(ToolInput):
    confirm: bool = Field(description="Must be true: every memory of the user is erased and cannot be restored")


# -- what the tools do ----------------------------------------------------------------------------------------


async def own_memory(caller: Caller, memory_id: str, user: str) -> Memory:
    # another user's or agent's memory is reported as missing: ids must not leak across tenants
    return await caller.service.get(memory_id, access=caller.access(user))


async def add_memory(caller: Caller, args: AddMemoryInput) -> ConversationResponse:
    user = caller.user(args.user_id)
    if args.messages is None:
        assert args.text is not None
        memory, created = await caller.service.create(NewMemory(
            user_id=user, content=args.text, type=args.type, session_id=args.session_id, agent_id=caller.agent_id,
            metadata=args.metadata))
        return ConversationResponse(results=[ConversationEventOut.of(memory, event="ADD" if created else "NONE")],
                                    extraction=ExtractionStatus(status="skipped"))
    infer = caller.service.extractor is not None if args.infer is None else args.infer
    outcome = await caller.service.add_conversation(
        user_id=user, messages=[Message(m.role, m.content) for m in args.messages], infer=infer,
        session_id=args.session_id, agent_id=caller.agent_id, metadata=args.metadata)
    return ConversationResponse(
        results=[ConversationEventOut.of(e.memory, event=e.event, previous_content=e.previous_content)
                 for e in outcome.events],
        extraction=ExtractionStatus(status=outcome.extraction, reason=outcome.reason))


async def search_memories(caller: Caller, args: SearchMemoriesInput) -> SearchResponse:
    scope = Scope(user_id=caller.user(args.user_id), session_id=args.session_id, agent_id=caller.agent_id,
                  types=tuple(args.types or ()))
    rewrite = await caller.service.rewrite_query(args.query, args.rewrite_query)
    hits, total = await caller.service.search(scope, args.query, threshold=args.threshold, limit=args.limit,
                                              alternatives=rewrite.queries)
    return SearchResponse(memories=[SearchHitOut.of(h.memory, relevance_score=h.relevance_score) for h in hits],
                          total=total, query_rewrite=QueryRewriteOut.of(rewrite))


async def list_memories(caller: Caller, args: ListMemoriesInput) -> ListResponse:
    scope = Scope(user_id=caller.user(args.user_id), session_id=args.session_id, agent_id=caller.agent_id,
                  types=(args.type,) if args.type else ())
    memories, total = await caller.service.list(scope, limit=args.limit, offset=args.offset, newest_first=True)
    return ListResponse(memories=[MemoryOut.of(m) for m in memories], total=total, limit=args.limit,
                        offset=args.offset)


async def get_memory(caller: Caller, args: MemoryIdInput) -> MemoryOut:
    return MemoryOut.of(await own_memory(caller, args.memory_id, caller.user(args.user_id)))


async def update_memory(caller: Caller, args: UpdateMemoryInput) -> MemoryOut:
    user = caller.user(args.user_id)
    memory = await caller.service.update(args.memory_id, content=args.text, type=args.type, metadata=args.metadata,
                                         access=caller.access(user), actor="mcp")
    return MemoryOut.of(memory)


async def delete_memory(caller: Caller, args: MemoryIdInput) -> DeleteResponse:
    user = caller.user(args.user_id)
    await caller.service.delete(args.memory_id, access=caller.access(user), actor="mcp")
    return DeleteResponse(success=True, message="Memory deleted successfully")


async def forget_everything(caller: Caller, args: ForgetEverythingInput) -> BulkDeleteResponse:
    if not args.confirm:
        raise BadRequest("Nothing was deleted: set confirm to true to erase every memory of the user",
                         field="confirm")
    user = caller.user(args.user_id)
    erased = await caller.service.erase(Scope(user_id=user, agent_id=caller.agent_id), actor="mcp")
    deleted = erased.memories
    # a whole-user erasure leaves an audit line, like DELETE /api/memories/user/{user_id}
    audit("mcp forget_everything", actor=caller.principal.key_id, user_id=user, agent_id=caller.agent_id,
          deleted=deleted, messages=erased.messages)
    return BulkDeleteResponse(success=True, deleted=deleted, message=f"Deleted {deleted} memories of user {user}"
                                                                     + (f" and {erased.messages} logged messages"
                                                                        if erased.messages else ""))


# -- the table ------------------------------------------------------------------------------------------------


# Building a JSON schema costs more than a search: every tools/list would rebuild fourteen of them.
@functools.cache
def _input_schema(model: type[ToolInput], *, with_user: bool) -> dict[str, Any]:
    schema = model.model_json_schema()
    if not with_user:
        # a key bound to a user (or a server that fixes the user) never lets the model name one
        schema["properties"].pop(USER_ARGUMENT, None)
    return schema


@functools.cache
def _output_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input: type[ToolInput]
    output: type[BaseModel]
    run: Callable[[Caller, Any], Awaitable[BaseModel]]
    writes: bool = False
    destructive: bool = False  # changes or removes what is there (adding is not)
    erases: bool = False
    idempotent: bool = True

    def visible_to(self, caller: Caller) -> bool:
        return (not self.writes or caller.can_write) and (not self.erases or caller.can_erase)

    def input_schema(self, caller: Caller) -> dict[str, Any]:
        return _input_schema(self.input, with_user=caller.offers_user_argument)

    def output_schema(self) -> dict[str, Any]:
        return _output_schema(self.output)

    def parse(self, arguments: dict[str, Any] | None) -> ToolInput:
        return validated(self.input, arguments or {})

    async def call(self, caller: Caller, arguments: dict[str, Any] | None) -> BaseModel:
        if self.writes:
            caller.principal.check_write()
        if self.erases and not caller.can_erase:
            raise Forbidden("Erasing every memory needs a writing key bound to the user, or an admin key")
        return await self.run(caller, self.parse(arguments))


TOOLS: list[ToolSpec] = [
    ToolSpec("add_memory", "Remember something",
             "Store something worth remembering about the user for later conversations: a fact, a preference, "
             "a pattern. Give one short self-contained statement as text, or pass conversation turns as messages "
             "to learn from. Stating the same text again does not create a duplicate (event NONE).",
             AddMemoryInput, ConversationResponse, add_memory, writes=True, idempotent=False),
    ToolSpec("search_memories", "Recall relevant memories",
             "Find what is remembered about the user that is relevant to a question or topic. Call it before "
             "answering anything that may depend on the user's facts or preferences. Returns memories best first, "
             "each with its id and a relevance score between 0 and 1.",
             SearchMemoriesInput, SearchResponse, search_memories),
    ToolSpec("list_memories", "List memories",
             "List the user's memories, most recent first, one page at a time (limit, offset); total says how "
             "many there are.",
             ListMemoriesInput, ListResponse, list_memories),
    ToolSpec("get_memory", "Get a memory", "Get one memory by its id.", MemoryIdInput, MemoryOut, get_memory),
    ToolSpec("update_memory", "Correct a memory",
             "Change a memory that is out of date or wrong: new text, type or metadata. Use the id from "
             "search_memories or list_memories.",
             UpdateMemoryInput, MemoryOut, update_memory, writes=True, destructive=True),
    ToolSpec("delete_memory", "Forget a memory",
             "Delete one memory by its id, when the user asks to forget it or it is no longer true.",
             MemoryIdInput, DeleteResponse, delete_memory, writes=True, destructive=True),
    ToolSpec("forget_everything", "Forget everything about the user",
             "Erase every memory of the user for good. Only when the user explicitly asks to be forgotten "
             "entirely; confirm must be true.",
             ForgetEverythingInput, BulkDeleteResponse, forget_everything, writes=True, destructive=True,
             erases=True),
]

TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}


def visible_tools(caller: Caller) -> list[ToolSpec]:
    return [tool for tool in TOOLS if tool.visible_to(caller)]
