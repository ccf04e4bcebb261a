"""The record store interface and helpers shared by its implementations."""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from typing import Any, Literal

from mem0_service.core.filters import Filter
from mem0_service.core.memory import HistoryEvent, Memory, MemoryType, Scope
from mem0_service.stores.stopwords import STOPWORDS

log = logging.getLogger("mem0_service.stores")
WORD = re.compile(r"\w+", re.UNICODE)
# Columns an update may name; anything else in a change set is a programming error.
UPDATABLE = ("content", "type", "metadata", "expires_at")


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


@dataclass(frozen=True)
class QuarantineEntry:
    """Index work set aside because it failed for this memory alone; the rest of the outbox went on."""

    memory_id: str
    user_id: str | None
    op: str
    cause: str
    quarantined_at: datetime


@dataclass(frozen=True)
class IdempotencyState:
    """What an Idempotency-Key stands for: `reserved` by this request now, `pending` under another request, or
    `done` with the stored answer. `fingerprint` is the request it was first used with."""

    state: Literal["reserved", "pending", "done"]
    fingerprint: str
    status: int = 0
    body: str = ""


class UnreadableRecord(ValueError):
    """A stored row the driver or the domain model cannot load (e.g. a date outside what Python can hold)."""

    def __init__(self, memory_id: str, cause: str):
        super().__init__(f"memory {memory_id} cannot be read back: {cause}")
        self.memory_id, self.cause = memory_id, cause


def dedup_key(memory: Memory, deduplicate: bool) -> str | None:
    """The key of the unique index that makes exact duplicates impossible: interactions are exempt (a
    conversation may say the same thing twice), and so is everything when de-duplication is switched off."""
    return memory.hash if deduplicate and memory.type != MemoryType.interaction else None


def load_rows(rows, to_memory) -> tuple[dict[str, Memory], dict[str, str]]:
    """Rows to memories, each on its own: one unreadable row is reported by id instead of failing the batch."""
    found: dict[str, Memory] = {}
    unreadable: dict[str, str] = {}
    for row in rows:
        try:
            found[row[0]] = to_memory(row)
        except (ValueError, TypeError, OverflowError, KeyError) as exc:
            unreadable[row[0]] = f"{type(exc).__name__}: {exc}"[:500]
    return found, unreadable


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
    async def insert(self, memories: list[Memory], *, actor: str = "api", deduplicate: bool = True) -> list[Memory]:
        """Store new memories; returns, for each, the memory that is stored: itself, or the memory with the same
        content in the same scope that the unique index kept (see `dedup_key`), whether it was stored before or
        by a concurrent insert a moment ago."""

    @abstractmethod
    async def load_many(self, ids: list[str]) -> tuple[dict[str, Memory], dict[str, str]]:
        """The memories with these ids, and the causes for those whose stored row cannot be read back."""

    async def get_many(self, ids: list[str]) -> dict[str, Memory]:
        """Readable memories with these ids. An unreadable row is left out (and logged) rather than failing every
        read it appears in; the indexer quarantines it and `quarantine list` names it."""
        found, unreadable = await self.load_many(ids)
        for memory_id, cause in unreadable.items():
            log.error("memory %s cannot be read back and is left out: %s", memory_id, cause)
        return found

    async def get(self, memory_id: str) -> Memory | None:
        return (await self.get_many([memory_id])).get(memory_id)

    @abstractmethod
    async def first_in_scope(self, scope: Scope, ids: list[str], limit: int,
                             where: Filter | None = None) -> tuple[list[Memory], int]:
        """Of `ids` (best first), the first `limit` memories that exist, are live, lie in `scope` and pass `where`,
        and how many of all `ids` do. A search ranks ~100 candidates but returns a few: only those are read in full."""

    @abstractmethod
    async def update(self, memory: Memory, *, reindex: bool, actor: str = "api") -> bool:
        """Replace the whole stored record (import and restore); False when it no longer exists."""

    @abstractmethod
    async def update_fields(self, memory_id: str, changes: dict[str, Any], *, expected_version: int | None = None,
                            deduplicate: bool = True, actor: str = "api") -> tuple[Memory, Memory] | None:
        """Change only the named fields (of UPDATABLE) in one compare-and-set on the record's version, so a
        concurrent update of other fields is never written back over. Returns (before, after), None when the
        memory does not exist; raises PreconditionFailed when `expected_version` is given and differs, Conflict
        when new content duplicates another memory in the same scope."""

    @abstractmethod
    async def delete(self, ids: list[str], *, actor: str = "api", erase: bool = False,
                     expected_version: int | None = None) -> int:
        """Delete records; `erase` also scrubs their contents from the history (GDPR). With `expected_version`
        (one id): only that version is deleted, PreconditionFailed otherwise."""

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
    async def reserve_idempotent(self, key: str, fingerprint: str, *, lease_seconds: float) -> IdempotencyState:
        """Claim an Idempotency-Key atomically before doing the work. A reservation older than `lease_seconds`
        whose answer never came (its request crashed) is taken over, so a key is never blocked for good."""

    @abstractmethod
    async def complete_idempotent(self, key: str, status: int, body: str) -> None:
        """Store the answer of a reserved key: later requests with it replay this answer."""

    @abstractmethod
    async def release_idempotent(self, key: str) -> None:
        """Give a reserved key up (its request failed): a retry with it does the work again."""

    @abstractmethod
    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]: ...

    @abstractmethod
    async def select(self, where: Filter, *, limit: int | None, offset: int = 0) -> tuple[list[Memory], int]:
        """One page (all from `offset` when `limit` is None) of the live memories the filter admits, newest first
        (created_at, then id), and how many there are: counted and cut by the database."""

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
    async def quarantine(self, ops: list[IndexOp], cause: str) -> None:
        """Move these outbox entries (all of one memory) aside with the reason they cannot be applied."""

    @abstractmethod
    async def quarantined(self, limit: int = 100) -> list[QuarantineEntry]: ...

    @abstractmethod
    async def count_quarantined(self) -> int: ...

    @abstractmethod
    async def retry_quarantined(self, ids: list[str] | None) -> int:
        """Queue quarantined memories (all when None) for indexing again; returns how many."""

    @abstractmethod
    async def drop_quarantined(self, ids: list[str] | None, *, actor: str = "quarantine") -> int:
        """Delete quarantined memories (all when None), their vectors through the outbox; returns how many."""

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


def changed_columns(current: Memory, changes: dict[str, Any]) -> dict[str, Any]:
    """The named fields that really differ from the stored record."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return {k: v for k, v in changes.items() if getattr(current, k) != v}


def iso(dt: datetime) -> str:
    """The one written form of an instant: UTC, fixed width (the year always four digits), so stored text sorts in
    time order. strftime("%Y") would write year 999 as "999" on glibc."""
    utc = dt.astimezone(timezone.utc)
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
            f".{utc.microsecond:06d}Z")


def parse_iso(text: str) -> datetime:
    """Reads what iso() writes, and the unpadded years older versions wrote ("999-06-01T...")."""
    date, sep, rest = text.partition("-")
    if sep and date.isdigit() and len(date) < 4:
        text = f"{int(date):04d}-{rest}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def migrations(dialect: str) -> list[tuple[int, str]]:
    """Numbered SQL scripts shipped with the package, in order."""
    folder = resources.files("mem0_service.stores") / "migrations" / dialect
    scripts = [(int(f.name.split("_", 1)[0]), f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(scripts)
