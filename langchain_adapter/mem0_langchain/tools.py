"""Agent tools: let a tool-calling model decide what to remember and when to recall it."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, model_validator

from ._connection import ConnectionArgsMixin
from .client import Mem0Client
from .models import MemoryType


class RememberInput(BaseModel):
    """What the model passes to ``remember``."""

    content: str = Field(
        description="What to remember about the user, as one self-contained sentence, "
        "e.g. 'Prefers email over phone calls'."
    )
    type: Literal["fact", "preference", "pattern"] = Field(
        default="fact",
        description="fact: something true about the user; preference: a like or dislike; "
        "pattern: a recurring habit.",
    )


class RecallInput(BaseModel):
    """What the model passes to ``recall``."""

    query: str = Field(
        description="What to look up, e.g. 'How does the user like to be contacted?'"
    )


class _ScopedTool(ConnectionArgsMixin, BaseTool):
    # The scope is fixed by the application, never chosen by the model: a model cannot
    # read or write another user's memories through these tools.
    client: Mem0Client = Field(default_factory=Mem0Client)
    """The HTTP client; by default built from ``base_url`` / ``api_key`` / ``timeout`` (each
    falling back to ``$MEM0_BASE_URL``, ``$MEM0_API_KEY`` and 5 s / 30 s)."""
    user_id: str
    """Whose memories the tool reads or writes."""
    session_id: str | None = None
    """Limit the tool to this session (usually unset: long-term memory spans sessions)."""
    agent_id: str | None = None
    """Limit the tool to this agent's memories."""

    @model_validator(mode="before")
    @classmethod
    def _connect(cls, data: Any) -> Any:
        return cls._prepare(data)


class Mem0RememberTool(_ScopedTool):
    """Tool that stores what the model decides is worth remembering about the user.

    Example:
        .. code-block:: python

            remember = Mem0RememberTool(client=client, user_id="user123")
            remember.invoke({"content": "Is allergic to peanuts", "type": "fact"})
            # 'Remembered (fact): Is allergic to peanuts'
    """

    name: str = "remember"
    description: str = (
        "Save something worth knowing about the user in later conversations: a fact, "
        "a preference or a recurring pattern. Call once per item."
    )
    args_schema: type[BaseModel] = RememberInput

    def _run(
        self,
        content: str,
        type: MemoryType = "fact",
        run_manager: CallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> str:
        memory = self.client.add(
            content,
            user_id=self.user_id,
            type=type,
            session_id=self.session_id,
            agent_id=self.agent_id,
            metadata={"source": "langchain-tool"},
        )
        return f"Remembered ({memory.type}): {memory.content}"


class Mem0RecallTool(_ScopedTool):
    """Tool that searches the user's memories and returns the relevant ones as text.

    Example:
        .. code-block:: python

            recall = Mem0RecallTool(client=client, user_id="user123")
            recall.invoke({"query": "food allergies"})
            # '- (fact) Is allergic to peanuts'
    """

    name: str = "recall"
    description: str = (
        "Look up what is known about the user (facts, preferences, earlier conversations) "
        "that is relevant to a question."
    )
    args_schema: type[BaseModel] = RecallInput
    types: list[MemoryType] | None = None
    """Only search these memory types (all when unset)."""
    relevance_threshold: float | None = None
    """Minimum relevance score 0..1 (the service's default, 0.7, when unset)."""
    limit: int | None = None
    """Maximum number of memories (the service's default, 5, when unset)."""
    nothing_found: str = "Nothing relevant is remembered about the user."
    """The answer when no memory is relevant enough."""

    def _run(
        self,
        query: str,
        run_manager: CallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> str:
        found = self.client.search(
            query,
            user_id=self.user_id,
            session_id=self.session_id,
            agent_id=self.agent_id,
            types=self.types,
            relevance_threshold=self.relevance_threshold,
            limit=self.limit,
        )
        if not found.memories:
            return self.nothing_found
        return "\n".join(f"- ({memory.type}) {memory.content}" for memory in found.memories)
