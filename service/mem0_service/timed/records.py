"""A record store whose reads and writes of memories are timed; everything else it forwards unchanged.

Every method of the port is forwarded explicitly (tests/inprocess/test_timed_backends.py checks that none is
inherited), so the wrapped store's own implementation always runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from mem0_service.core.access import Access
from mem0_service.core.filters import Filter
from mem0_service.core.job_queue import Job, JobQueue, JobStats, NewJob
from mem0_service.core.memory import HistoryEvent, Memory, Scope
from mem0_service.core.messages import LoggedMessage, LogPage, LogWindow, NewMessage
from mem0_service.core.ports import (
    AsGivenWriter,
    IdempotencyState,
    IdempotentOwner,
    IndexOp,
    OwnerGroup,
    QuarantineEntry,
    RecordStore,
    Snapshot,
    StoreInspection,
    UserSummary,
)
from mem0_service.keys.model import ApiKey
from mem0_service.timed.timer import DependencyTimer


class TimedRecordStore(RecordStore, JobQueue):
    def __init__(self, records: RecordStore, timer: DependencyTimer):
        if not isinstance(records, JobQueue):
            raise TypeError(f"{type(records).__name__} keeps no job queue")
        self.records, self.jobs, self.timer = records, records, timer
        self.name = records.name

    async def open(self) -> None:
        await self.records.open()

    async def close(self) -> None:
        await self.records.close()

    async def ping(self) -> None:
        await self.records.ping()

    async def insert(self, memories: list[Memory], *, actor: str = "api", deduplicate: bool = True) -> list[Memory]:
        return await self.timer("insert", self.records.insert(memories, actor=actor, deduplicate=deduplicate))

    async def load_many(self, ids: list[str]) -> tuple[dict[str, Memory], dict[str, str]]:
        return await self.timer("load_many", self.records.load_many(ids))

    async def get_many(self, ids: list[str]) -> dict[str, Memory]:
        return await self.records.get_many(ids)

    async def get(self, memory_id: str) -> Memory | None:
        return await self.records.get(memory_id)

    async def first_in_scope(self, scope: Scope, ids: list[str], limit: int,
                             where: Filter | None = None) -> tuple[list[Memory], int]:
        return await self.timer("first_in_scope", self.records.first_in_scope(scope, ids, limit, where))

    async def adjacent_turns(self, ids: list[str], *, reach: int = 1) -> dict[str, list[str]]:
        return await self.timer("adjacent_turns", self.records.adjacent_turns(ids, reach=reach))

    async def select(self, where: Filter, *, limit: int | None, offset: int = 0) -> tuple[list[Memory], int]:
        return await self.timer("select", self.records.select(where, limit=limit, offset=offset))

    async def update(self, memory: Memory, *, reindex: bool, actor: str = "api") -> bool:
        return await self.timer("update", self.records.update(memory, reindex=reindex, actor=actor))

    async def update_fields(self, memory_id: str, changes: dict[str, Any], *, expected_version: int | None = None,
                            deduplicate: bool = True, actor: str = "api") -> tuple[Memory, Memory] | None:
        return await self.timer("update_fields", self.records.update_fields(
            memory_id, changes, expected_version=expected_version, deduplicate=deduplicate, actor=actor))

    async def delete(self, ids: list[str], *, actor: str = "api", erase: bool = False,
                     expected_version: int | None = None) -> int:
        return await self.timer("delete", self.records.delete(ids, actor=actor, erase=erase,
                                                              expected_version=expected_version))

    async def delete_scope(self, scope: Scope, *, actor: str = "api", erase: bool = True) -> list[str]:
        return await self.timer("delete_scope", self.records.delete_scope(scope, actor=actor, erase=erase))

    async def delete_expired(self, now: datetime, *, limit: int = 1000) -> list[str]:
        return await self.records.delete_expired(now, limit=limit)

    async def idle_sessions(self, cutoff: datetime, *, limit: int = 1000) -> list[tuple[str, str]]:
        return await self.records.idle_sessions(cutoff, limit=limit)

    async def history(self, memory_id: str) -> list[HistoryEvent]:
        return await self.records.history(memory_id)

    async def restore_history(self, events: list[tuple[str, HistoryEvent]]) -> int:
        return await self.records.restore_history(events)

    async def reserve_idempotent(self, key: str, fingerprint: str, *, lease_seconds: float) -> IdempotencyState:
        return await self.timer("reserve_idempotent",
                                self.records.reserve_idempotent(key, fingerprint, lease_seconds=lease_seconds))

    async def complete_idempotent(self, key: str, status: int, body: str,
                                  owners: Collection[IdempotentOwner] = (), *, reserved_at: datetime) -> None:
        await self.records.complete_idempotent(key, status, body, owners, reserved_at=reserved_at)

    async def erase_owner(self, user_id: str, agent_id: str | None = None) -> None:
        await self.timer("erase_owner", self.records.erase_owner(user_id, agent_id))

    async def release_idempotent(self, key: str, *, reserved_at: datetime) -> None:
        await self.records.release_idempotent(key, reserved_at=reserved_at)

    async def expire_idempotency(self, before: datetime) -> int:
        return await self.records.expire_idempotency(before)

    async def list_users(self, prefix: str, *, limit: int, offset: int) -> tuple[list[UserSummary], int]:
        return await self.records.list_users(prefix, limit=limit, offset=offset)

    async def keyword_search(self, scope: Scope, query: str, *, limit: int) -> list[tuple[str, float]]:
        return await self.timer("keyword_search", self.records.keyword_search(scope, query, limit=limit))

    async def find_by_hash(self, scope: Scope, digest: str) -> Memory | None:
        return await self.timer("find_by_hash", self.records.find_by_hash(scope, digest))

    async def quarantine(self, ops: list[IndexOp], cause: str) -> None:
        await self.records.quarantine(ops, cause)

    async def quarantined(self, limit: int = 100) -> list[QuarantineEntry]:
        return await self.records.quarantined(limit)

    async def count_quarantined(self) -> int:
        return await self.records.count_quarantined()

    async def retry_quarantined(self, ids: list[str] | None) -> int:
        return await self.records.retry_quarantined(ids)

    async def drop_quarantined(self, ids: list[str] | None, *, actor: str = "quarantine") -> int:
        return await self.records.drop_quarantined(ids, actor=actor)

    async def pending_index_ops(self, limit: int) -> list[IndexOp]:
        return await self.records.pending_index_ops(limit)

    async def ack_index_ops(self, seqs: list[int]) -> None:
        await self.records.ack_index_ops(seqs)

    async def count_pending_index_ops(self) -> int:
        return await self.records.count_pending_index_ops()

    def iter_all(self, batch_size: int = 500) -> AsyncIterator[list[Memory]]:
        return self.records.iter_all(batch_size)

    async def count(self) -> int:
        return await self.records.count()

    async def enqueue_reindex_all(self) -> int:
        return await self.records.enqueue_reindex_all()

    async def owner_groups(self, access: Access, now: datetime, tag_key: str) -> list[OwnerGroup]:
        return await self.records.owner_groups(access, now, tag_key)

    async def insert_key(self, key: ApiKey, digest: str, *, if_absent: bool = False) -> bool:
        return await self.records.insert_key(key, digest, if_absent=if_absent)

    async def find_key(self, digest: str) -> ApiKey | None:
        return await self.records.find_key(digest)

    async def list_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        return await self.records.list_keys(include_revoked=include_revoked)

    async def revoke_key(self, key_id: str, now: datetime) -> ApiKey | None:
        return await self.records.revoke_key(key_id, now)

    def snapshot(self) -> AbstractContextManager[Snapshot]:
        return self.records.snapshot()

    def as_given(self) -> AbstractContextManager[AsGivenWriter]:
        return self.records.as_given()

    async def inspect(self) -> StoreInspection:
        return await self.records.inspect()

    async def append_messages(self, user_id: str, session_id: str, agent_id: str | None,
                              messages: list[NewMessage]) -> list[LoggedMessage]:
        return await self.records.append_messages(user_id, session_id, agent_id, messages)

    async def read_messages(self, user_id: str, session_id: str, agent_id: str | None, window: LogWindow) -> LogPage:
        return await self.records.read_messages(user_id, session_id, agent_id, window)

    async def clear_messages(self, user_id: str, session_id: str | None = None, agent_id: str | None = None) -> int:
        return await self.records.clear_messages(user_id, session_id, agent_id)

    async def idle_message_logs(self, cutoff: datetime, *, limit: int = 1000) -> list[tuple[str, str]]:
        return await self.records.idle_message_logs(cutoff, limit=limit)

    async def user_messages(self, user_id: str) -> list[LoggedMessage]:
        return await self.records.user_messages(user_id)

    def iter_messages(self, batch_size: int = 1000) -> AsyncIterator[list[LoggedMessage]]:
        return self.records.iter_messages(batch_size)

    # -- the job queue, part of the same store ------------------------------------------------------------

    async def enqueue_job(self, job: NewJob) -> Job:
        return await self.jobs.enqueue_job(job)

    async def claim_job(self, owner: str, lease_seconds: float) -> Job | None:
        return await self.jobs.claim_job(owner, lease_seconds)

    async def renew_job(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        return await self.jobs.renew_job(job_id, owner, lease_seconds)

    async def finish_job(self, job_id: str, owner: str, result: list[dict[str, Any]]) -> bool:
        return await self.jobs.finish_job(job_id, owner, result)

    async def retry_job(self, job_id: str, owner: str, error: str, run_after: datetime) -> bool:
        return await self.jobs.retry_job(job_id, owner, error, run_after)

    async def dead_letter_job(self, job_id: str, owner: str, error: str) -> bool:
        return await self.jobs.dead_letter_job(job_id, owner, error)

    async def get_job(self, job_id: str) -> Job | None:
        return await self.jobs.get_job(job_id)

    async def job_stats(self) -> JobStats:
        return await self.jobs.job_stats()

    async def prune_jobs(self, finished_before: datetime, *, limit: int = 10000) -> int:
        return await self.jobs.prune_jobs(finished_before, limit=limit)

    async def enqueue_pending_extractions(self, limit: int = 1000) -> int:
        return await self.jobs.enqueue_pending_extractions(limit)

    # kept last: below it, `list` in an annotation would name this method rather than the builtin
    async def list(self, scope: Scope, *, limit: int, offset: int,
                   newest_first: bool = True) -> tuple[list[Memory], int]:
        return await self.timer("list", self.records.list(scope, limit=limit, offset=offset, newest_first=newest_first))
