"""The record store port: what the core needs from durable storage, and the values that cross it.

The core depends on this interface only; the adapters in `mem0_service.stores` implement it."""

from __future__ import annotations

import builtins
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from mem0_service.core.access import Access
from mem0_service.core.filters import Filter
from mem0_service.core.job_queue import JobQueue
from mem0_service.core.memory import HistoryEvent, Memory, MemoryType, Scope
from mem0_service.core.messages import LoggedMessage, LogPage, LogWindow, NewMessage
from mem0_service.keys.model import ApiKey

if TYPE_CHECKING:  # webhooks are an adapter; a snapshot and a restore only carry its subscriptions
    from mem0_service.webhooks.store import Webhook

log = logging.getLogger("mem0_service.stores")


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
    `done` with the stored answer. `fingerprint` is the request it was first used with. `reserved_at` (`reserved`
    only) is when this request's reservation was made: it names the reservation when the request finishes it, as
    the key alone may stand for a later request's reservation by then (this one's expired or was taken over)."""

    state: Literal["reserved", "pending", "done"]
    fingerprint: str
    status: int = 0
    body: str = ""
    reserved_at: datetime | None = None


@dataclass(frozen=True)
class IdempotentOwner:
    """Whose content a stored Idempotency-Key answer holds: a user (of an agent), and the memory it shows, if any.
    Erasing that memory, or everything of that user (of that agent), drops the answer."""

    user_id: str
    agent_id: str | None = None
    memory_id: str | None = None


@dataclass(frozen=True)
class OwnerGroup:
    """Live memories that share one owner: user, agent, session and the string value of one metadata key (`tag`),
    how many there are, the first one's creation and the last change."""

    user_id: str
    agent_id: str | None
    session_id: str | None
    tag: str | None
    count: int
    first_created: datetime
    last_updated: datetime


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


@dataclass(frozen=True)
class StoreInspection:
    """What `doctor` learns from a database without creating or migrating it."""

    where: str  # the file, or the server's address
    exists: bool  # an SQLite file not created yet is not an error
    server: str | None = None  # the server's version, when there is a server
    versions: frozenset[int] = frozenset()  # migrations applied
    damage: str | None = None  # an integrity check's complaint


class StoreUnreachable(Exception):
    """The database does not answer; the message says why in the driver's words (first line only)."""


class SnapshotUnreadable(Exception):
    """A stored row cannot be read back into a snapshot (e.g. a timestamp an earlier version wrote in a form that
    cannot be parsed); the message names the row."""


class Snapshot(ABC):
    """One consistent, read-only view of the whole database (backup, export, cleanup's plan), streamed in id order
    while writers carry on: SQLite's WAL and PostgreSQL's REPEATABLE READ freeze it at its first read."""

    backend: str

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def pending_ids(self) -> set[str]:
        """Memories with index work still queued at snapshot time: their vectors may lag behind the record."""

    @abstractmethod
    def batches(self, batch_size: int = 1000, *, user_id: str | None = None) -> Iterator[list[Memory]]:
        """Every memory (or one user's), expired ones included, in id order."""

    @abstractmethod
    def history_batches(self, batch_size: int = 1000) -> Iterator[list[tuple[str, HistoryEvent]]]:
        """Every history event as (user_id, event), by memory id, oldest first within a memory."""

    @abstractmethod
    def message_batches(self, batch_size: int = 1000) -> Iterator[list[LoggedMessage]]:
        """Every session's message log, by user, session and seq."""

    @abstractmethod
    def scoped_keys(self) -> list[tuple[ApiKey, str]]:
        """Every scoped key, revoked ones included, with the digest of its secret."""

    @abstractmethod
    def webhooks(self) -> list[Webhook]:
        """Every webhook subscription, disabled ones included, with its signing secret, in id order."""

    @abstractmethod
    def ids_older_than(self, cutoff: datetime, types: tuple[str, ...], user_id: str | None) -> list[str]: ...

    @abstractmethod
    def live_updated_at(self, ids: list[str]) -> dict[str, datetime]:
        """Outside the snapshot: each id's current updated_at (absent when deleted since)."""


class LoadError(Exception):
    """The record store refused an as-given write; the transaction was rolled back, so nothing of it was kept."""


class AsGivenWriter(ABC):
    """One open transaction that writes records exactly as archived (ids, timestamps, history), each memory's
    vector queued in the outbox like every other write. Used by restore and import through MemoryService."""

    @abstractmethod
    def existing(self, ids: list[str]) -> dict[str, Memory | None]:
        """The stored version of each of these memories that exists here (None where it cannot be read)."""

    @abstractmethod
    def with_history(self, ids: list[str]) -> set[str]:
        """Of these memories, those with any history here."""

    @abstractmethod
    def insert(self, memories: list[Memory]) -> None: ...

    @abstractmethod
    def update(self, memory: Memory) -> None: ...

    @abstractmethod
    def add_history(self, events: list[tuple[str, HistoryEvent]]) -> None: ...

    @abstractmethod
    def add_key(self, key: ApiKey, digest: str) -> bool:
        """Store the key unless one with its id or digest exists; True if stored."""

    @abstractmethod
    def add_messages(self, messages: list[LoggedMessage]) -> int:
        """Put logged messages back under their own numbers and move each session's counter past them; returns
        how many were added."""

    @abstractmethod
    def add_webhook(self, hook: Webhook) -> bool:
        """Store the subscription (secret, enabled state and all) unless one with its id exists; True if stored."""


class RecordStore(JobQueue):
    """Durable memory records. Every write also records the index work it implies, in the same transaction,
    so a crash between the record and the vector index is repaired by replaying the outbox. The background job
    queue lives in the same database (`JobQueue`)."""

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
    async def adjacent_turns(self, ids: list[str], *, reach: int = 1) -> dict[str, list[str]]:
        """For each of `ids` that is a conversation turn (type interaction), the `reach` turns stored just before
        and just after it in the same conversation (same user, session and agent), in creation order (created_at,
        then id). Turns with none are left out. 2 x reach index probes per turn, whatever the number of memories."""

    @abstractmethod
    async def select(self, where: Filter, *, limit: int | None, offset: int = 0) -> tuple[list[Memory], int]:
        """One page (all from `offset` when `limit` is None) of the live memories the filter admits, newest first
        (created_at, then id), and how many there are: counted and cut by the database."""

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
        """Delete records; `erase` also scrubs their contents from the history, the delivery log and the stored
        Idempotency-Key answers that show them, and drops their quarantined index work (GDPR). With
        `expected_version` (one id): only that version is deleted, PreconditionFailed otherwise."""

    @abstractmethod
    async def delete_scope(self, scope: Scope, *, actor: str = "api", erase: bool = True) -> list[str]:
        """Delete every memory in scope (erased as by `delete` with `erase`); returns their ids."""

    @abstractmethod
    async def erase_owner(self, user_id: str, agent_id: str | None = None) -> None:
        """After a user's (or one of its agents') memories are erased, what else holds their content, in one
        transaction: jobs (queued, done and dead letters), stored Idempotency-Key answers, the contents of webhook
        deliveries (any status), and, for the whole user, the history contents of memories deleted earlier without
        erasure and their quarantined index work (their vectors are queued for deletion)."""

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
    async def complete_idempotent(self, key: str, status: int, body: str,
                                  owners: Collection[IdempotentOwner] = (), *, reserved_at: datetime) -> None:
        """Store the answer of the key's reservation made at `reserved_at`: later requests with it replay this
        answer, until one of the `owners` whose content it holds is erased (see `erase_owner`, and `delete` with
        `erase`). Nothing is stored when that reservation is gone (expired, or taken over after its lease), whatever
        reservation or answer of the key a later request holds now, nor when it is answered already."""

    @abstractmethod
    async def release_idempotent(self, key: str, *, reserved_at: datetime) -> None:
        """Give the key's reservation made at `reserved_at` up (its request failed): a retry with it does the work
        again. A later request's reservation of the key, or an answer, stays."""

    @abstractmethod
    async def expire_idempotency(self, before: datetime) -> int:
        """Drop every Idempotency-Key reserved before `before`, answered or not (a live reservation is seconds old),
        with the owners of its answer; returns how many keys went. Keys go in batches, each with its owners in one
        transaction, so a large backlog never holds the write lock for long. A retry with a dropped key does the work
        again."""

    @abstractmethod
    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]: ...

    @abstractmethod
    async def list_users(self, prefix: str, *, limit: int, offset: int) -> tuple[builtins.list[UserSummary], int]:
        """One page of the users with live memories whose id starts with `prefix`, by user id, and how many
        such users there are. Read through the user_id index: no scan of the memories outside the prefix."""

    @abstractmethod
    async def keyword_search(self, scope: Scope, query: str, *, limit: int) -> builtins.list[tuple[str, float]]:
        """Full-text candidates in scope, best first, each with keyword evidence in (0, 1): how strongly
        the words match, on a scale shared by every store so that ranking does not depend on the backend."""

    @abstractmethod
    async def find_by_hash(self, scope: Scope, digest: str) -> Memory | None: ...

    @abstractmethod
    async def quarantine(self, ops: builtins.list[IndexOp], cause: str) -> None:
        """Move these outbox entries (all of one memory) aside with the reason they cannot be applied."""

    @abstractmethod
    async def quarantined(self, limit: int = 100) -> builtins.list[QuarantineEntry]: ...

    @abstractmethod
    async def count_quarantined(self) -> int: ...

    @abstractmethod
    async def retry_quarantined(self, ids: builtins.list[str] | None) -> int:
        """Queue quarantined memories (all when None) for indexing again; returns how many."""

    @abstractmethod
    async def drop_quarantined(self, ids: builtins.list[str] | None, *, actor: str = "quarantine") -> int:
        """Delete quarantined memories (all when None), their vectors through the outbox; returns how many."""

    @abstractmethod
    async def pending_index_ops(self, limit: int) -> builtins.list[IndexOp]: ...

    @abstractmethod
    async def ack_index_ops(self, seqs: builtins.list[int]) -> None: ...

    @abstractmethod
    async def count_pending_index_ops(self) -> int: ...

    @abstractmethod
    def iter_all(self, batch_size: int = 500) -> AsyncIterator[builtins.list[Memory]]:
        """Every memory, in id order, batch by batch (export, re-embedding)."""

    @abstractmethod
    async def count(self) -> int: ...

    @abstractmethod
    async def enqueue_reindex_all(self) -> int:
        """Queue every memory for (re-)indexing, e.g. after the index was lost or the model changed."""

    @abstractmethod
    async def owner_groups(self, access: Access, now: datetime, tag_key: str) -> builtins.list[OwnerGroup]:
        """The live memories `access` admits, grouped by owner (see OwnerGroup), counted by the database: listing
        entities reads one row per group instead of every memory."""

    # -- scoped keys: a table of the same database, reached through the same connections ----------------------

    @abstractmethod
    async def insert_key(self, key: ApiKey, digest: str, *, if_absent: bool = False) -> bool:
        """Store a scoped key with the digest of its secret; with `if_absent`, skip it when a key with its id or
        digest exists. True if stored."""

    @abstractmethod
    async def find_key(self, digest: str) -> ApiKey | None:
        """The active key whose secret has this digest."""

    @abstractmethod
    async def list_keys(self, *, include_revoked: bool = False) -> builtins.list[ApiKey]: ...

    @abstractmethod
    async def revoke_key(self, key_id: str, now: datetime) -> ApiKey | None:
        """Mark the key revoked at `now` (an already revoked key keeps its time); None if no such key exists."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[Snapshot]:
        """A consistent view of the database, on a connection of its own held for the view's lifetime. Works on a
        store that is not opened (it neither creates nor migrates the database: backups next to a running service)."""

    @abstractmethod
    def as_given(self) -> AbstractContextManager[AsGivenWriter]:
        """One transaction for writing records as given, committed when the block completes and rolled back
        (LoadError) otherwise. The schema must be migrated already (open the store first)."""

    @abstractmethod
    async def inspect(self) -> StoreInspection:
        """Look at the database without opening the store (which would create and migrate it); raises
        StoreUnreachable when it does not answer."""

    # -- session message logs -------------------------------------------------------------------------------

    @abstractmethod
    async def append_messages(self, user_id: str, session_id: str, agent_id: str | None,
                              messages: builtins.list[NewMessage]) -> builtins.list[LoggedMessage]:
        """Append to a session's log, numbering the messages after every message appended before (by any
        process); returns them as stored."""

    @abstractmethod
    async def read_messages(self, user_id: str, session_id: str, agent_id: str | None,
                            window: LogWindow) -> LogPage:
        """A window of a session's log, oldest first; only the agent's messages when one is named."""

    @abstractmethod
    async def clear_messages(self, user_id: str, session_id: str | None = None, agent_id: str | None = None) -> int:
        """Delete a session's log (every session's when `session_id` is None, the sequence counters too);
        returns how many messages went."""

    @abstractmethod
    async def idle_message_logs(self, cutoff: datetime, *, limit: int = 1000) -> builtins.list[tuple[str, str]]:
        """(user_id, session_id) of logs with no message appended since cutoff."""

    @abstractmethod
    async def user_messages(self, user_id: str) -> builtins.list[LoggedMessage]:
        """Every logged message of a user, by session and sequence (export)."""

    @abstractmethod
    def iter_messages(self, batch_size: int = 1000) -> AsyncIterator[builtins.list[LoggedMessage]]:
        """Every logged message, by user, session and sequence, batch by batch (backup)."""
