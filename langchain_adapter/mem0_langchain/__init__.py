"""LangChain integration and typed HTTP client for a self-hosted Mem0 memory service.

``Mem0Memory`` needs the optional ``langchain-classic`` package and ``Mem0Store`` the
optional ``langgraph`` package; both are imported on first use, so everything else works
without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._api import DEFAULT_BASE_URL, should_retry
from ._version import __version__
from .async_client import AsyncMem0Client
from .chat_message_histories import Mem0ChatMessageHistory
from .client import Mem0Client
from .errors import (
    Mem0APIError,
    Mem0AuthenticationError,
    Mem0BadRequestError,
    Mem0ConnectionError,
    Mem0Error,
    Mem0NotFoundError,
    Mem0PayloadTooLargeError,
    Mem0PermissionError,
    Mem0UnavailableError,
)
from .models import (
    ApiKey,
    ApiKeyList,
    AuthCheck,
    BatchItem,
    BatchResult,
    ConversationEvent,
    ConversationResult,
    CreatedApiKey,
    DeleteResult,
    Export,
    ExtractionStatus,
    Health,
    HistoryEvent,
    Memory,
    MemoryPage,
    MemoryType,
    QueryRewrite,
    Readiness,
    RevokedApiKey,
    ScoredMemory,
    SearchResult,
    UserPage,
    UserSummary,
)
from .retrievers import Mem0Retriever
from .tools import Mem0RecallTool, Mem0RememberTool

if TYPE_CHECKING:
    from .memory import Mem0Memory
    from .store import Mem0Store

__all__ = [
    "DEFAULT_BASE_URL",
    "ApiKey",
    "ApiKeyList",
    "AsyncMem0Client",
    "AuthCheck",
    "BatchItem",
    "BatchResult",
    "ConversationEvent",
    "ConversationResult",
    "CreatedApiKey",
    "DeleteResult",
    "Export",
    "ExtractionStatus",
    "Health",
    "HistoryEvent",
    "Mem0APIError",
    "Mem0AuthenticationError",
    "Mem0BadRequestError",
    "Mem0ChatMessageHistory",
    "Mem0Client",
    "Mem0ConnectionError",
    "Mem0Error",
    "Mem0Memory",
    "Mem0NotFoundError",
    "Mem0PayloadTooLargeError",
    "Mem0PermissionError",
    "Mem0RecallTool",
    "Mem0RememberTool",
    "Mem0Retriever",
    "Mem0Store",
    "Mem0UnavailableError",
    "Memory",
    "MemoryPage",
    "MemoryType",
    "QueryRewrite",
    "Readiness",
    "RevokedApiKey",
    "ScoredMemory",
    "SearchResult",
    "UserPage",
    "UserSummary",
    "__version__",
    "should_retry",
]


def __getattr__(name: str) -> Any:
    if name == "Mem0Memory":
        from .memory import Mem0Memory

        return Mem0Memory
    if name == "Mem0Store":
        from .store import Mem0Store

        return Mem0Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
