"""``Mem0Memory``: a classic LangChain memory that keeps conversations in Mem0.

Each exchange is stored as an ``interaction`` memory and the memories most relevant
to the next input are loaded back as context, as the service's guide describes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import Field, model_validator

from ._api import MAX_QUERY_CHARS
from ._connection import ConnectionArgsMixin
from .client import Mem0Client
from .errors import Mem0Error
from .models import MemoryType, ScoredMemory

try:
    from langchain_classic.base_memory import BaseMemory
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "Mem0Memory subclasses LangChain's BaseMemory, which lives in the "
        "'langchain-classic' package since LangChain 1.0. Install it with "
        "`pip install 'mem0-langchain[classic]'` (or `pip install langchain-classic`). "
        "Mem0ChatMessageHistory and Mem0Retriever work without it."
    ) from exc

logger = logging.getLogger(__name__)

DEFAULT_EXCHANGE_TEMPLATE = "User asked: {input}. Answer: {output}"
DEFAULT_CONTEXT_HEADER = "Previous context:"
_MAX_SIDES_BYTES = 8 * 1024  # the service accepts up to 16 KiB of metadata JSON


class Mem0Memory(ConnectionArgsMixin, BaseMemory):
    """LangChain ``BaseMemory`` backed by a Mem0 service.

    ``save_context`` stores the exchange as one ``interaction`` memory of the scope
    (``user_id`` plus optional ``session_id`` / ``agent_id``). ``load_memory_variables``
    searches the scope with the current input as query (at most ``limit`` memories
    scoring at least ``relevance_threshold``) and returns them under ``memory_key``:
    as a text block (``"Previous context:\\n- ..."``) or, with ``return_messages=True``,
    as chat messages in chronological order.

    Example:
        .. code-block:: python

            from mem0_langchain import Mem0Memory

            memory = Mem0Memory(
                base_url="http://localhost:3456",
                api_key="secret",
                user_id="user123",
                session_id="session456",
            )
            memory.save_context({"input": "I live in Lisbon"}, {"output": "Noted!"})
            memory.load_memory_variables({"input": "Where do I live?"})
            # {'history': 'Previous context:\\n- User asked: I live in Lisbon. Answer: Noted!\\n'}
    """

    client: Mem0Client = Field(default_factory=Mem0Client)
    """The HTTP client; by default built from ``base_url`` / ``api_key`` / ``timeout`` (each
    falling back to ``$MEM0_BASE_URL``, ``$MEM0_API_KEY`` and 5 s / 30 s)."""
    user_id: str
    """Whose memories these are (required by the service)."""
    session_id: str | None = None
    """Store into, and load only from, this session when set."""
    agent_id: str | None = None
    """Store into, and load only from, this agent's memories when set."""
    memory_key: str = "history"
    """The variable the memories are returned under."""
    input_key: str | None = None
    """Which input holds the user's text; guessed when there is one candidate."""
    output_key: str | None = None
    """Which output holds the answer; guessed when there is exactly one output."""
    return_messages: bool = False
    """Return a list of messages instead of a text block."""
    relevance_threshold: float = 0.7
    """Minimum relevance score (0..1) of loaded memories."""
    rewrite_query: bool | None = None
    """Also match the service's chat model's alternatives of the input (the service's
    default, MEM0_QUERY_REWRITE, when unset)."""
    limit: int = 5
    """Maximum number of memories loaded per call."""
    memory_type: MemoryType = "interaction"
    """Type of the memories ``save_context`` writes."""
    infer: bool = False
    """Instead of storing the exchange, let the service's chat model extract the facts and
    preferences it contains and reconcile them with what is already known (the service
    must have a chat model configured). If the model fails, the service keeps the exchange
    as an interaction for a later extraction."""
    search_types: list[MemoryType] | None = None
    """Only load memories of these types (all types when unset)."""
    query_from_input: bool = True
    """Search with the current input as query; when False (or the input is empty)
    the service returns the most recent memories of the scope."""
    exchange_template: str = DEFAULT_EXCHANGE_TEMPLATE
    """How an exchange is written into the memory's content."""
    context_header: str = DEFAULT_CONTEXT_HEADER
    """First line of the text block returned when ``return_messages`` is False."""
    fail_silently: bool = False
    """Log service errors instead of raising them (loads then return no context)."""

    @model_validator(mode="before")
    @classmethod
    def _connect(cls, data: Any) -> Any:
        return cls._prepare(data)

    @property
    def memory_variables(self) -> list[str]:
        """The single variable this memory adds to chain inputs."""
        return [self.memory_key]

    # -- keys -----------------------------------------------------------------

    def _input_text(self, inputs: dict[str, Any]) -> str:
        if self.input_key is not None:
            return _as_text(inputs.get(self.input_key, ""))
        candidates = [key for key in inputs if key not in (self.memory_key, "stop")]
        if len(candidates) != 1:
            raise ValueError(
                f"Mem0Memory cannot tell which input is the user's text among {candidates}; "
                "set input_key."
            )
        return _as_text(inputs[candidates[0]])

    def _output_text(self, outputs: dict[str, Any]) -> str:
        if self.output_key is not None:
            return _as_text(outputs.get(self.output_key, ""))
        if len(outputs) != 1:
            raise ValueError(
                f"Mem0Memory cannot tell which output is the answer among {list(outputs)}; "
                "set output_key."
            )
        return _as_text(next(iter(outputs.values())))

    # -- BaseMemory -----------------------------------------------------------

    def load_memory_variables(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Search the scope for memories relevant to the input and return them."""
        query: str | None = None
        if self.query_from_input and inputs:
            # A long input (a pasted document) is searched by its beginning.
            query = self._input_text(inputs)[:MAX_QUERY_CHARS] or None
        try:
            found = self.client.search(
                query,
                user_id=self.user_id,
                session_id=self.session_id,
                agent_id=self.agent_id,
                relevance_threshold=self.relevance_threshold,
                limit=self.limit,
                types=self.search_types,
                rewrite_query=self.rewrite_query,
            ).memories
        except Mem0Error as exc:
            if not self.fail_silently:
                raise
            logger.warning("Mem0Memory could not load memories: %s", exc)
            found = []
        if self.return_messages:
            return {self.memory_key: self._to_messages(found)}
        return {self.memory_key: self._to_text(found)}

    def save_context(self, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        """Store the exchange as one memory of the scope (or, with ``infer``, what it teaches)."""
        user_text = self._input_text(inputs)
        answer = self._output_text(outputs)
        if self.infer:
            self._learn(user_text, answer)
            return
        content = self.exchange_template.format(input=user_text, output=answer)
        metadata: dict[str, Any] = {
            "source": "langchain",
            "timestamp": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        # The two sides, for return_messages; left out when they would push the
        # metadata past what the service accepts (the content still has them).
        if len(user_text.encode()) + len(answer.encode()) <= _MAX_SIDES_BYTES:
            metadata.update(input=user_text, output=answer)
        try:
            self.client.add(
                content,
                user_id=self.user_id,
                type=self.memory_type,
                session_id=self.session_id,
                agent_id=self.agent_id,
                metadata=metadata,
            )
        except Mem0Error as exc:
            if not self.fail_silently:
                raise
            logger.warning("Mem0Memory could not save the exchange: %s", exc)

    def _learn(self, user_text: str, answer: str) -> None:
        turns = [
            {"role": role, "content": text}
            for role, text in (("user", user_text), ("assistant", answer))
            if text.strip()
        ]
        if not turns:
            return
        try:
            self.client.add_conversation(
                turns,
                user_id=self.user_id,
                infer=True,
                session_id=self.session_id,
                agent_id=self.agent_id,
                metadata={"source": "langchain"},
            )
        except Mem0Error as exc:
            if not self.fail_silently:
                raise
            logger.warning("Mem0Memory could not learn from the exchange: %s", exc)

    def clear(self) -> None:
        """Delete every memory of the scope.

        With only ``user_id`` set this removes all of the user's memories, whatever
        wrote them; set ``session_id`` and/or ``agent_id`` to clear just that part.
        """
        self.client.delete_all(self.user_id, session_id=self.session_id, agent_id=self.agent_id)

    # -- formatting -----------------------------------------------------------

    def _to_text(self, memories: list[ScoredMemory]) -> str:
        if not memories:
            return ""
        lines = [self.context_header] if self.context_header else []
        lines.extend(f"- {memory.content}" for memory in memories)
        return "\n".join(lines) + "\n"

    def _to_messages(self, memories: list[ScoredMemory]) -> list[BaseMessage]:
        # Relevance picks which memories; the conversation reads best in time order.
        ordered = sorted(memories, key=lambda memory: memory.sort_key)
        messages: list[BaseMessage] = []
        for memory in ordered:
            asked = memory.metadata.get("input")
            answered = memory.metadata.get("output")
            if isinstance(asked, str) and isinstance(answered, str):
                messages.append(HumanMessage(content=asked))
                messages.append(AIMessage(content=answered))
            else:
                messages.append(SystemMessage(content=memory.content))
        return messages


def _as_text(value: str | BaseMessage | Any) -> str:
    if isinstance(value, BaseMessage):
        return value.text
    return value if isinstance(value, str) else str(value)
