"""The worker loop of the job queue: claim a job, keep its lease alive while working, then settle it.

Every process runs one; they share the queue through the record store. A job that fails because a dependency
is down (the chat model, the embedder) is retried with exponential backoff; after `max_attempts`, or at once when
the job itself is at fault (a 4xx), it becomes a dead letter with the cause."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from mem0_service import failpoints
from mem0_service.core.job_queue import Job
from mem0_service.core.jobs import event_records, perform
from mem0_service.core.memory import utcnow
from mem0_service.core.service import ConversationEvent, MemoryService
from mem0_service.errors import ApiError, ServiceUnavailable
from mem0_service.llm.client import LLMJunk

log = logging.getLogger("mem0_service.jobs")


@dataclass(frozen=True)
class JobSettings:
    lease: float = 60.0  # seconds a claim lasts unless renewed; a dead worker's job waits this long
    max_attempts: int = 8
    backoff: float = 2.0  # first retry delay; doubles per attempt
    backoff_max: float = 300.0
    poll: float = 1.0  # how often an idle worker looks for work queued by other processes
    # How often conversations parked by a synchronous add (or an earlier version) are looked for: rarely, since
    # the model just failed them; the first look is at start-up.
    rescan: float = 600.0
    retention: float = 7 * 86400.0  # how long the event of a done job stays readable


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: `done` with its events, `failed` (a dead letter) with the cause."""

    job: Job
    status: str
    events: list[ConversationEvent] = field(default_factory=list)
    error: str | None = None


Listener = Callable[[JobOutcome], Awaitable[None]]


@dataclass
class RunnerStats:
    completed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    last_error: str | None = None


class JobRunner:
    def __init__(self, service: MemoryService, settings: JobSettings | None = None):
        self.service = service
        self.settings = settings or JobSettings()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.listeners: list[Listener] = []  # told of every job that finished or failed for good
        self.stats = RunnerStats()
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Work was queued by this process: look now instead of at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                if await self.run_once():
                    continue
            except ServiceUnavailable as exc:  # the record store itself is down: wait, then look again
                self.stats.last_error = exc.message
                log.warning("job queue unreachable: %s", exc.message)
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll)

    async def rescan_forever(self) -> None:
        """Queue the conversations parked as pending extraction (also those parked by earlier versions), and
        forget the events of jobs done longer ago than the retention."""
        while True:
            try:
                if queued := await self.service.store.enqueue_pending_extractions():
                    log.info("queued %d parked conversations for extraction", queued)
                    self.notify()
                pruned = await self.service.store.prune_jobs(utcnow() - timedelta(seconds=self.settings.retention))
                if pruned:
                    log.info("forgot %d events of jobs done more than %g s ago", pruned, self.settings.retention)
            except ServiceUnavailable as exc:
                log.warning("could not look for parked extractions: %s", exc.message)
            await asyncio.sleep(self.settings.rescan)

    async def run_once(self) -> bool:
        """Run one due job, if there is one; False when there was none."""
        store = self.service.store
        job = await store.claim_job(self.owner, self.settings.lease)
        if job is None:
            return False
        heartbeat = asyncio.create_task(self._keep_lease(job))
        try:
            events = await perform(self.service, job)
            failpoints.crash_if("job-before-done")
            error, retry = None, False
        except (ServiceUnavailable, LLMJunk) as exc:
            events, error, retry = [], _cause(exc), True
        except ApiError as exc:  # the job asks for something impossible: running it again cannot help
            events, error, retry = [], _cause(exc), False
        except Exception as exc:
            log.exception("job %s (%s) failed unexpectedly", job.id, job.kind)
            events, error, retry = [], f"{type(exc).__name__}: {exc}", True
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        await self._settle(job, events, error, retry=retry)
        return True

    async def _settle(self, job: Job, events: list[ConversationEvent], error: str | None, *, retry: bool) -> None:
        """The one place a job ends or is put back: the listeners hear of every job that is done or dead."""
        store = self.service.store
        if error is None:
            if not await store.finish_job(job.id, self.owner, event_records(events)):
                log.warning("job %s finished after its lease passed to another worker", job.id)
                return
            self.stats.completed += 1
            outcome = JobOutcome(job, "done", events)
        elif retry and job.attempts < self.settings.max_attempts:
            delay = min(self.settings.backoff_max, self.settings.backoff * 2 ** (job.attempts - 1))
            delay *= 0.75 + random.random() / 2  # spread the retries of jobs that failed together
            await store.retry_job(job.id, self.owner, error, utcnow() + timedelta(seconds=delay))
            self.stats.retried += 1
            self.stats.last_error = error
            log.warning("job %s attempt %d failed, retrying in %.1f s: %s", job.id, job.attempts, delay, error)
            return
        else:
            if not await store.dead_letter_job(job.id, self.owner, error):
                return
            self.stats.dead_lettered += 1
            self.stats.last_error = error
            log.error("job %s gave up after %d attempts: %s", job.id, job.attempts, error)
            outcome = JobOutcome(job, "failed", error=error)
        for listener in self.listeners:
            try:
                await listener(outcome)
            except Exception:  # a listener's trouble must not undo the job's outcome
                log.exception("job listener failed for job %s", job.id)

    async def _keep_lease(self, job: Job) -> None:
        while True:
            await asyncio.sleep(self.settings.lease / 3)
            try:
                if not await self.service.store.renew_job(job.id, self.owner, self.settings.lease):
                    log.warning("job %s: lease lost to another worker", job.id)
                    return
            except ServiceUnavailable as exc:
                log.warning("job %s: lease not renewed: %s", job.id, exc.message)


def _cause(exc: Exception) -> str:
    return exc.message if isinstance(exc, ApiError) else str(exc)
