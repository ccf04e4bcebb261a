"""The record store interface and helpers shared by its implementations."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from typing import Literal

from mem0_service.core.memory import HistoryEvent, Memory, Scope
from mem0_service.stores.stopwords import STOPWORDS

WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class UserSummary:
    """A user who has live memories: how many, and when one was last written or changed."""

    user_id: str
    memory_count: int
    last_activity: datetime


@dataclass(frozen=True)
class IndexOp:
    """One pending change the vector index has not confirmed yet (the transactional outbox)."""

    seq: int
    memory_id: str
    op: Literal["upsert", "delete"]


class RecordStore(ABC):
    """Durable memory records. Every write also records the index work it implies, in the same transaction,
    so a crash between the record and the vector index is repaired by replaying the outbox."""

    name: str

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot answer."""

    @abstractmethod
    async def insert(self, memories: list[Memory], *, actor: str = "api") -> None: ...

    @abstractmethod
    async def get_many(self, ids: list[str]) -> dict[str, Memory]: ...

    async def get(self, memory_id: str) -> Memory | None:
        return (await self.get_many([memory_id])).get(memory_id)

    @abstractmethod
    async def first_in_scope(self, scope: Scope, ids: list[str], limit: int) -> tuple[list[Memory], int]:
        """Of `ids` (best first), the first `limit` memories that exist, are live and lie in `scope`, and how many
        of all `ids` do. A search ranks ~100 candidates but returns a few: only those are read in full."""

    @abstractmethod
    async def update(self, memory: Memory, *, reindex: bool, actor: str = "api") -> bool:
        """Replace the stored record; False when it no longer exists."""

    @abstractmethod
    async def delete(self, ids: list[str], *, actor: str = "api", erase: bool = False) -> int:
        """Delete records; `erase` also scrubs their contents from the history (GDPR)."""

    @abstractmethod
    async def delete_scope(self, scope: Scope, *, actor: str = "api", erase: bool = True) -> list[str]:
        """Delete every memory in scope; returns their ids."""

    @abstractmethod
    async def delete_expired(self, now: datetime, *, limit: int = 1000) -> list[str]:
        """Delete memories whose expires_at has passed; returns their ids."""

    @abstractmethod
    async def idle_sessions(self, cutoff: datetime, *, limit: int = 1000) -> list[tuple[str, str]]:
        """(user_id, session_id) of sessions with no memory written or changed since cutoff."""

    @abstractmethod
    async def history(self, memory_id: str) -> list[HistoryEvent]: ...

    @abstractmethod
    async def restore_history(self, events: list[tuple[str, HistoryEvent]]) -> int:
        """Add archived (user_id, event) pairs, in order, for memories that have no history here yet (a memory
        with a history of its own keeps it); returns how many events were added. Restoring twice adds nothing."""

    @abstractmethod
    async def get_idempotent(self, key: str) -> tuple[int, str] | None:
        """The stored (status, body) of a request already answered under this Idempotency-Key."""

    @abstractmethod
    async def put_idempotent(self, key: str, status: int, body: str) -> None: ...

    @abstractmethod
    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]: ...

    @abstractmethod
    async def list_users(self, prefix: str, *, limit: int, offset: int) -> tuple[list[UserSummary], int]:
        """One page of the users with live memories whose id starts with `prefix`, by user id, and how many
        such users there are. Read through the user_id index: no scan of the memories outside the prefix."""

    @abstractmethod
    async def keyword_search(self, scope: Scope, query: str, *, limit: int) -> list[tuple[str, float]]:
        """Full-text candidates in scope, best first, each with keyword evidence in (0, 1): how strongly
        the words match, on a scale shared by every store so that ranking does not depend on the backend."""

    @abstractmethod
    async def find_by_hash(self, scope: Scope, digest: str) -> Memory | None: ...

    @abstractmethod
    async def pending_index_ops(self, limit: int) -> list[IndexOp]: ...

    @abstractmethod
    async def ack_index_ops(self, seqs: list[int]) -> None: ...

    @abstractmethod
    async def count_pending_index_ops(self) -> int: ...

    @abstractmethod
    def iter_all(self, batch_size: int = 500) -> AsyncIterator[list[Memory]]:
        """Every memory, in id order, batch by batch (export, re-embedding)."""

    @abstractmethod
    async def count(self) -> int: ...

    @abstractmethod
    async def enqueue_reindex_all(self) -> int:
        """Queue every memory for (re-)indexing, e.g. after the index was lost or the model changed."""


def keyword_terms(query: str, max_terms: int = 32) -> list[str]:
    """Words of a query that can carry meaning, deduplicated, longest first (stop words and one-letter noise dropped)."""
    seen: dict[str, None] = {}
    for word in WORD.findall(query.casefold()):
        if (len(word) > 1 or word.isdigit()) and word not in STOPWORDS:
            seen.setdefault(word, None)
    return sorted(seen, key=len, reverse=True)[:max_terms]


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix`, for an index range scan:
    `prefix <= id < bound` (for the empty prefix: every id)."""
    return prefix + "\U0010ffff"


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def migrations(dialect: str) -> list[tuple[int, str]]:
    """Numbered SQL scripts shipped with the package, in order."""
    folder = resources.files("mem0_service.stores") / "migrations" / dialect
    scripts = [(int(f.name.split("_", 1)[0]), f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(scripts)


def scope_where(scope: Scope, *, mark: str, timestamp=lambda dt: dt, now: datetime | None = None,
                metadata_equals=None) -> tuple[str, list]:
    """SQL condition for a scope (on table alias `m`), with `mark` as the driver's placeholder.

    `metadata_equals(key, value)` returns the dialect's (sql, params) for one metadata equality."""
    clauses, params = [f"m.user_id = {mark}"], [scope.user_id]
    if scope.session_id is not None:
        clauses.append(f"m.session_id = {mark}")
        params.append(scope.session_id)
    if scope.agent_id is not None:
        clauses.append(f"m.agent_id = {mark}")
        params.append(scope.agent_id)
    if scope.types:
        clauses.append(f"m.type IN ({', '.join([mark] * len(scope.types))})")
        params.extend(t.value for t in scope.types)
    if scope.created_before is not None:
        clauses.append(f"m.created_at < {mark}")
        params.append(timestamp(scope.created_before))
    if scope.created_after is not None:
        clauses.append(f"m.created_at > {mark}")
        params.append(timestamp(scope.created_after))
    if scope.updated_after is not None:
        clauses.append(f"m.updated_at > {mark}")
        params.append(timestamp(scope.updated_after))
    for key, value in scope.metadata:
        sql, extra = metadata_equals(key, value)
        clauses.append(sql)
        params.extend(extra)
    if now is not None:
        clauses.append(f"(m.expires_at IS NULL OR m.expires_at > {mark})")
        params.append(timestamp(now))
    return " AND ".join(clauses), params
