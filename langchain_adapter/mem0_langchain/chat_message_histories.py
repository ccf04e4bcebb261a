"""``Mem0ChatMessageHistory``: a chat history kept as session memories in Mem0."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    message_to_dict,
    messages_from_dict,
)

from ._api import Timeout, chat_role
from ._connection import make_client, normalize_kwargs, split_connection
from .client import Mem0Client
from .models import Memory

_PLAIN_CLASS_OF_ROLE: dict[str, type[BaseMessage]] = {
    "user": HumanMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
}


class Mem0ChatMessageHistory(BaseChatMessageHistory):
    """Chat history of one session, stored in a Mem0 service.

    Every message becomes an ``interaction`` memory of ``user_id`` / ``session_id``
    (and ``agent_id`` when set) whose content is the message text and whose metadata
    holds ``role`` (``user``, ``assistant``, ``system`` or ``tool``). Messages that
    carry more than text (tool calls, names, multi-part content) also keep their full
    LangChain form (JSON) under ``metadata.message`` so they come back unchanged. Because the
    turns are ordinary memories, they are also found by searches of the user's memory.

    Use it with ``RunnableWithMessageHistory``:

    .. code-block:: python

        from langchain_core.runnables.history import RunnableWithMessageHistory
        from mem0_langchain import Mem0ChatMessageHistory, Mem0Client

        client = Mem0Client("http://localhost:3456", api_key="secret")
        chain_with_history = RunnableWithMessageHistory(
            chain,
            lambda session_id: Mem0ChatMessageHistory(
                client=client, user_id="user123", session_id=session_id
            ),
            input_messages_key="question",
            history_messages_key="history",
        )

    Args:
        user_id: owner of the conversation (also ``userId``).
        session_id: the conversation (also ``sessionId``).
        client: HTTP client; by default built from ``base_url`` / ``api_key`` / ``timeout``.
        base_url: where the service is (also ``baseUrl``); default ``$MEM0_BASE_URL``.
        api_key: the service's key (also ``apiKey``); default ``$MEM0_API_KEY``.
        timeout: seconds, or a ``(connect, read)`` pair.
        agent_id: keep the history of this agent only.
        max_messages: when set, ``messages`` returns only the latest this many.
    """

    def __init__(
        self,
        user_id: str | None = None,
        session_id: str | None = None,
        *,
        client: Mem0Client | None = None,
        agent_id: str | None = None,
        max_messages: int | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: Timeout | None = None,
        **camel_case: Any,
    ) -> None:
        given = normalize_kwargs(
            type(self).__name__,
            {
                **_given(
                    user_id=user_id,
                    session_id=session_id,
                    agent_id=agent_id,
                    base_url=base_url,
                    api_key=api_key,
                    timeout=timeout,
                ),
                **camel_case,
            },
            ("user_id", "session_id", "agent_id"),
        )
        if not given.get("user_id") or not given.get("session_id"):
            raise ValueError("Mem0ChatMessageHistory needs both user_id and session_id")
        connection = split_connection(type(self).__name__, {**given, "client": client})
        self.client = client if client is not None else make_client(**connection)
        self.user_id: str = given["user_id"]
        self.session_id: str = given["session_id"]
        self.agent_id: str | None = given.get("agent_id")
        self.max_messages = max_messages

    def _stored(self, latest: int | None = None) -> list[Memory]:
        """The memories holding this history's messages (the latest ones), oldest first."""
        if latest is not None:
            page = self.client.get_all(
                self.user_id,
                type="interaction",
                session_id=self.session_id,
                agent_id=self.agent_id,
                limit=latest,
                order="desc",
            )
            memories = page.memories
        else:
            memories = list(
                self.client.iter_all(
                    self.user_id,
                    type="interaction",
                    session_id=self.session_id,
                    agent_id=self.agent_id,
                    order="asc",
                )
            )
        turns = [memory for memory in memories if "role" in memory.metadata]
        # Messages saved within the same clock tick keep the order they were sent in.
        return sorted(turns, key=lambda m: (m.sort_key, _number(m.metadata.get("seq"))))

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The conversation so far, oldest first."""
        return [_to_message(memory) for memory in self._stored(self.max_messages)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store the messages in order, one request each.

        Not one batch request: the service stamps a batch with a single time, and the
        order of the turns must survive reads of only the latest ones (``max_messages``).
        """
        first_seq = time.time_ns()
        for position, message in enumerate(messages):
            self.client.add(
                _content_of(message),
                user_id=self.user_id,
                type="interaction",
                session_id=self.session_id,
                agent_id=self.agent_id,
                metadata=_metadata_of(message, first_seq + position),
            )

    def clear(self) -> None:
        """Delete this history's messages (other memories of the session stay)."""
        for memory in self._stored():
            self.client.delete(memory.id)


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _number(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _content_of(message: BaseMessage) -> str:
    text = message.text
    if text:
        return text
    # The service needs some content; a tool-call-only message is described instead.
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        names = ", ".join(call["name"] for call in calls)
        return f"(called tools: {names})"
    return f"({message.type} message without text)"


def _metadata_of(message: BaseMessage, seq: int) -> dict[str, Any]:
    role = chat_role(message)
    # seq keeps the order of messages the service stamps with the same time.
    metadata: dict[str, Any] = {"role": role, "seq": seq, "source": "langchain"}
    plain = (
        role in _PLAIN_CLASS_OF_ROLE
        and isinstance(message.content, str)
        and not message.name
        and not message.additional_kwargs
        and not getattr(message, "tool_calls", None)
        and not getattr(message, "invalid_tool_calls", None)
    )
    if not plain:
        # Kept as a JSON string: the service limits how deeply metadata may nest.
        metadata["message"] = json.dumps(message_to_dict(message), ensure_ascii=False)
    return metadata


def _to_message(memory: Memory) -> BaseMessage:
    stored = memory.metadata.get("message")
    if isinstance(stored, str):
        return messages_from_dict([json.loads(stored)])[0]
    cls = _PLAIN_CLASS_OF_ROLE.get(str(memory.metadata.get("role")), HumanMessage)
    return cls(content=memory.content, id=memory.id)
