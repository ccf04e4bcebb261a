"""``Mem0ChatMessageHistory``: a chat history kept as session memories in Mem0."""

from __future__ import annotations

import json
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
from .models import LoggedMessage, Memory

_PLAIN_CLASS_OF_ROLE: dict[str, type[BaseMessage]] = {
    "user": HumanMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
}


class Mem0ChatMessageHistory(BaseChatMessageHistory):
    """Chat history of one session, kept in the Mem0 service's message log.

    Messages are appended to the session's log (``POST /api/sessions/{session_id}/messages``),
    which numbers them in the order the service receives them, and read back from it, so
    the same conversation is seen by every client of the log (the n8n and Flowise memory
    nodes included). Messages that carry more than text (tool calls, names, multi-part
    content) also keep their full LangChain form (JSON) under ``metadata.message`` so they
    come back unchanged. Long-term facts are not in the log: find them with
    ``client.search`` (or ``Mem0Retriever``).

    Histories written by earlier versions, one ``interaction`` memory per message, are
    still read (before the log's messages) and are deleted by ``clear()``.

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

    def _logged(self, latest: int | None) -> list[LoggedMessage]:
        """The log's messages (the latest ones), oldest first, page by page."""
        found: list[LoggedMessage] = []
        before: int | None = None
        while True:
            wanted = _PAGE if latest is None else min(_PAGE, latest - len(found))
            page = self.client.get_messages(
                self.session_id,
                user_id=self.user_id,
                agent_id=self.agent_id,
                limit=wanted,
                before=before,
            )
            found = page.messages + found
            if page.next_before is None or (latest is not None and len(found) >= latest):
                return found
            before = page.next_before

    def _legacy(self) -> list[Memory]:
        """Turns stored by earlier versions, one ``interaction`` memory each, oldest first."""
        memories = self.client.iter_all(
            self.user_id,
            type="interaction",
            session_id=self.session_id,
            agent_id=self.agent_id,
            order="asc",
        )
        turns = [memory for memory in memories if "role" in memory.metadata]
        return sorted(turns, key=lambda m: (m.sort_key, _number(m.metadata.get("seq"))))

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The conversation so far, oldest first."""
        logged = [_from_log(m) for m in self._logged(self.max_messages)]
        if self.max_messages is not None and len(logged) >= self.max_messages:
            return logged
        earlier = [_from_legacy(memory) for memory in self._legacy()]
        combined = earlier + logged
        return combined if self.max_messages is None else combined[-self.max_messages :]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append the messages to the session's log in one request, in order."""
        if messages:
            self.client.append_messages(
                self.session_id,
                [_log_entry(message) for message in messages],
                user_id=self.user_id,
                agent_id=self.agent_id,
            )

    def clear(self) -> None:
        """Clear the session's log (and the turns earlier versions stored as memories);
        the user's other memories stay."""
        self.client.clear_messages(self.session_id, user_id=self.user_id, agent_id=self.agent_id)
        for memory in self._legacy():
            self.client.delete(memory.id)


_PAGE = 1000


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


def _metadata_of(message: BaseMessage) -> dict[str, Any]:
    role = chat_role(message)
    metadata: dict[str, Any] = {"role": role, "source": "langchain"}
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


def _log_entry(message: BaseMessage) -> dict[str, Any]:
    metadata = _metadata_of(message)
    entry: dict[str, Any] = {"role": metadata.pop("role"), "content": _content_of(message)}
    if isinstance(message.name, str) and message.name:
        entry["name"] = message.name[:128]
    entry["metadata"] = metadata
    return entry


def _from_log(logged: LoggedMessage) -> BaseMessage:
    stored = logged.metadata.get("message")
    if isinstance(stored, str):
        return messages_from_dict([json.loads(stored)])[0]
    cls = _PLAIN_CLASS_OF_ROLE.get(logged.role, HumanMessage)
    return cls(content=logged.content, id=f"{logged.seq}")


def _from_legacy(memory: Memory) -> BaseMessage:
    stored = memory.metadata.get("message")
    if isinstance(stored, str):
        return messages_from_dict([json.loads(stored)])[0]
    cls = _PLAIN_CLASS_OF_ROLE.get(str(memory.metadata.get("role")), HumanMessage)
    return cls(content=memory.content, id=memory.id)
