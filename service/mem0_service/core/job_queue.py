"""The job queue's rows and its interface, part of the record store port `core.ports.RecordStore` (see migrations
sqlite 008, postgres 007).

A job is claimed by one worker at a time under a lease the worker renews while it works. Delivery is at least
once: a worker that dies mid-job leaves its lease to run out, and the job runs again on another claim, so what a
job applies must be idempotent. The jobs of one user run one after another, in the order they were queued."""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

JobStatus = Literal["queued", "running", "done", "failed"]
# A user's later job waits while an earlier one is still open, so reconciliation sees the earlier facts.
OPEN = ("queued", "running")


def new_job_id() -> str:
    """A UUID-shaped id, as mem0's platform gives its events."""
    h = secrets.token_hex(16)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class NewJob:
    kind: str
    user_id: str
    payload: dict[str, Any]
    agent_id: str | None = None
    # a job for the same thing queued twice (a parked extraction found on every start) stays one job
    dedup_key: str | None = None
    # work done at once is still recorded, so its event reads like any other
    status: JobStatus = "queued"
    result: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Job:
    id: str
    seq: int
    kind: str
    user_id: str
    agent_id: str | None
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    run_after: datetime
    lease_owner: str | None
    result: list[dict[str, Any]] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class JobStats:
    queued: int  # waiting, including those waiting for a retry
    running: int
    failed: int  # dead letters: gave up, with the cause kept
    oldest_open_at: datetime | None  # when the oldest job still waiting or running was queued


JOB_COLUMNS = ("id, seq, kind, user_id, agent_id, payload, status, attempts, run_after, lease_owner, result, error, "
               "created_at, started_at, finished_at")


class JobQueue(ABC):
    """Durable background work in the record store."""

    @abstractmethod
    async def enqueue_job(self, job: NewJob) -> Job:
        """Store a job; with a `dedup_key` already queued (at any status), returns that job instead."""

    @abstractmethod
    async def claim_job(self, owner: str, lease_seconds: float) -> Job | None:
        """Take the oldest job that is due (queued and past its run_after, or running under a lease that ran out)
        and whose user has no earlier open job; it is then `running` under `owner` until the lease ends."""

    @abstractmethod
    async def renew_job(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False when `owner` no longer holds the job."""

    @abstractmethod
    async def finish_job(self, job_id: str, owner: str, result: list[dict[str, Any]]) -> bool:
        """Mark the job done with its result; False when `owner` no longer holds it."""

    @abstractmethod
    async def retry_job(self, job_id: str, owner: str, error: str, run_after: datetime) -> bool:
        """Put the job back in the queue, due again at `run_after`, keeping the last error."""

    @abstractmethod
    async def dead_letter_job(self, job_id: str, owner: str, error: str) -> bool:
        """Give up on the job: `failed`, with the cause."""

    @abstractmethod
    async def get_job(self, job_id: str) -> Job | None: ...

    @abstractmethod
    async def job_stats(self) -> JobStats: ...

    @abstractmethod
    async def prune_jobs(self, finished_before: datetime, *, limit: int = 10_000) -> int:
        """Forget jobs that finished (done) before the cutoff; dead letters stay until dealt with."""

    @abstractmethod
    async def enqueue_pending_extractions(self, limit: int = 1000) -> int:
        """Queue a job for each conversation parked with metadata extraction=pending (by a synchronous add whose
        chat model failed, here or in an earlier version) that has no job yet; returns how many were queued."""
