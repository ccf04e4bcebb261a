"""``Mem0Retriever``: a LangChain retriever over the service's memory search."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field, model_validator

from ._api import MAX_QUERY_CHARS
from ._connection import ConnectionArgsMixin
from .client import Mem0Client
from .models import MemoryType, ScoredMemory


class Mem0Retriever(ConnectionArgsMixin, BaseRetriever):
    """Retrieve a user's memories relevant to a query, as LangChain ``Document`` s.

    Each document's ``page_content`` is the memory's content, ``id`` is the memory id
    and ``metadata`` holds ``relevance_score``, ``id``, ``type``, ``user_id``,
    ``session_id``, ``agent_id``, ``created_at``, ``updated_at`` (ISO 8601) and the
    memory's own metadata under ``memory_metadata``. Documents come most relevant first.
    Queries longer than the service accepts (4000 characters) are cut to that length.

    Example:
        .. code-block:: python

            from mem0_langchain import Mem0Client, Mem0Retriever

            retriever = Mem0Retriever(
                base_url="http://localhost:3456",
                api_key="secret",
                user_id="user123",
                types=["preference", "fact"],
                relevance_threshold=0.5,
                limit=3,
            )
            docs = retriever.invoke("How does the user want to be notified?")
            docs[0].metadata["relevance_score"]  # e.g. 0.92
    """

    client: Mem0Client = Field(default_factory=Mem0Client)
    """The HTTP client; by default built from ``base_url`` / ``api_key`` / ``timeout`` (each
    falling back to ``$MEM0_BASE_URL``, ``$MEM0_API_KEY`` and 5 s / 30 s)."""
    user_id: str
    """Whose memories to search."""
    session_id: str | None = None
    """Only search this session's memories."""
    agent_id: str | None = None
    """Only search this agent's memories."""
    types: list[MemoryType] | None = None
    """Only these memory types (all when unset)."""
    relevance_threshold: float | None = None
    """Minimum relevance score 0..1 (the service's default, 0.7, when unset)."""
    rewrite_query: bool | None = None
    """Also match the service's chat model's alternatives of the query (the service's
    default, MEM0_QUERY_REWRITE, when unset)."""
    limit: int | None = None
    """Maximum number of documents (the service's default, 5, when unset); also ``k``, as
    LangChain retrievers call it, in the constructor and per call: ``invoke(query, k=3)``."""

    @model_validator(mode="before")
    @classmethod
    def _connect(cls, data: Any) -> Any:
        return cls._prepare(data)

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if isinstance(data, dict) and "k" in data:
            data = dict(data)
            if data.get("limit") is not None:
                raise TypeError("Mem0Retriever got both k and limit: they are the same setting")
            data["limit"] = data.pop("k")
        return super()._prepare(data)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        **kwargs: Any,
    ) -> list[Document]:
        limit = _per_call_limit(kwargs, self.limit)
        found = self.client.search(
            query[:MAX_QUERY_CHARS],
            user_id=self.user_id,
            session_id=self.session_id,
            agent_id=self.agent_id,
            types=self.types,
            relevance_threshold=self.relevance_threshold,
            limit=limit,
            rewrite_query=self.rewrite_query,
        )
        return [memory_to_document(memory) for memory in found.memories]


def _per_call_limit(kwargs: dict[str, Any], default: int | None) -> int | None:
    """The ``k`` (or ``limit``) given to ``invoke``; anything else is refused by name."""
    given = dict(kwargs)
    k, limit = given.pop("k", None), given.pop("limit", None)
    if given:
        raise TypeError(
            f"Mem0Retriever.invoke got unexpected keyword argument(s): {', '.join(sorted(given))}"
        )
    if k is not None and limit is not None and k != limit:
        raise TypeError("Mem0Retriever.invoke got both k and limit: they are the same setting")
    chosen = k if k is not None else limit
    return default if chosen is None else int(chosen)


def memory_to_document(memory: ScoredMemory) -> Document:
    """The ``Document`` form of a search hit (see :class:`Mem0Retriever`)."""
    metadata: dict[str, Any] = {
        "id": memory.id,
        "relevance_score": memory.relevance_score,
        "type": memory.type,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "agent_id": memory.agent_id,
        "created_at": memory.created_at.isoformat() if memory.created_at else None,
        "updated_at": memory.updated_at.isoformat() if memory.updated_at else None,
        "memory_metadata": dict(memory.metadata),
    }
    return Document(page_content=memory.content, metadata=metadata, id=memory.id)
