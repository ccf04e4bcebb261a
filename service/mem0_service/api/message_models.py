"""Request and response models of a session's message log (/api/sessions/{session_id}/messages)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from mem0_service.api.models import (
    MAX_MESSAGES,
    Content,
    ConversationResponse,
    Identifier,
    LoggedMessageOut,
    Metadata,
    Request,
    Timestamp,
)

MAX_PAGE = 1000
MAX_SEQ = 2**63 - 1  # what both stores hold in an integer column


class LogMessageIn(Request):
    role: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="Who spoke: user, assistant, system, tool, or any name of up to 32 characters")
    content: Content
    name: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        None, description="The speaker's name, when the role has several (e.g. a tool's name)")
    created_at: Timestamp | None = Field(None, description="When it was said (shown as given; the order of the log "
                                                           "is the order of appends, not this time)")
    metadata: Metadata | None = None


class MessagesAppend(Request):
    user_id: Identifier = Field(description="Whose conversation this is")
    agent_id: Identifier | None = Field(None, description="The agent taking part (an agent-bound key's own by default)")
    messages: list[LogMessageIn] = Field(min_length=1, max_length=MAX_MESSAGES,
                                         description=f"One to {MAX_MESSAGES} messages, appended in this order")
    learn: bool = Field(False, description="Also extract lasting facts from the user and assistant messages of this "
                                           "append, as POST /api/memories with messages does (needs a chat model; "
                                           "the answer waits for the extraction)")


class MessagesQuery(Request):
    user_id: Identifier
    agent_id: Identifier | None = Field(None, description="Only this agent's messages")
    limit: int = Field(50, ge=1, le=MAX_PAGE, description="At most this many messages")
    before: int | None = Field(None, ge=1, le=MAX_SEQ, description="Cursor: the messages just before this seq (older)")
    after: int | None = Field(None, ge=0, le=MAX_SEQ, description="Cursor: the messages just after this seq (newer); "
                                                       "without before/after: the last `limit` messages")

    @model_validator(mode="after")
    def _one_cursor(self) -> MessagesQuery:
        if self.before is not None and self.after is not None:
            raise ValueError("Give before or after, not both")
        return self


class MessagesClearQuery(Request):
    user_id: Identifier
    agent_id: Identifier | None = Field(None, description="Only this agent's messages")


class MessagesAppended(BaseModel):
    session_id: str
    user_id: str
    messages: list[LoggedMessageOut]
    learned: ConversationResponse | None = Field(None, description="With learn: what the extraction added, "
                                                                   "changed or removed")


class MessageLogResponse(BaseModel):
    session_id: str
    user_id: str
    messages: list[LoggedMessageOut] = Field(description="Oldest first")
    total: int = Field(description="Messages in the log (of the agent, when one is named)")
    has_more: bool = Field(description="More messages lie beyond this page in the direction it was read")
    next_before: int | None = Field(None, description="Pass as before= for the older messages, when there are any")
    next_after: int | None = Field(None, description="Pass as after= for the newer messages, when there are any")
