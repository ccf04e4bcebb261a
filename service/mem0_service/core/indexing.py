"""Keeps the vector index in step with the records by replaying the store's outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import numpy as np

from mem0_service import failpoints
from mem0_service.core.ports import IndexOp, RecordStore
from mem0_service.embedders.base import Embedder
from mem0_service.errors import ServiceUnavailable
from mem0_service.vectors.base import VectorIndex, VectorPoint

log = logging.getLogger("mem0_service.indexing")
BATCH = 256
# Embedded to tell an outage from content the embedder refuses.
PROBE_TEXT = "index health probe"


class Indexer:
    """Applies pending index work. Writes call `flush()` so their memory is searchable when they answer;
    a background loop retries whatever a failed flush left (index down, crash between the two steps)."""

    def __init__(self, store: RecordStore, index: VectorIndex, embedder: Embedder, retry_seconds: float = 2.0):
        self.store, self.index, self.embedder = store, index, embedder
        self.retry_seconds = retry_seconds
        self._lock = asyncio.Lock()
        self._fresh_vectors: dict[str, tuple[str, np.ndarray]] = {}
        self._wakeup = asyncio.Event()
        self.backlog = 0
        self.last_error: str | None = None

    def remember_vector(self, memory_id: str, content: str, vector: np.ndarray) -> None:
        """A vector computed on the request path, so flushing does not embed the same text twice. Kept with its
        text: when concurrent updates race, only a vector of the content that finally won is used."""
        self._fresh_vectors[memory_id] = (content, vector)

    async def flush(self, on_progress: Callable[[int], object] | None = None, *, limit: int | None = None) -> bool:
        """Apply all pending work (or the oldest `limit` operations); False (and logged) if the index or embedder
        is down: the work stays queued.

        Never raises: the writes that call it have committed their records already. Their answer stands, and
        whatever could not be indexed is retried by the background loop, or quarantined when it fails for one
        memory alone, so that one bad entry never holds up everyone else's."""
        async with self._lock:
            try:
                done = 0
                while (limit is None or done < limit) and (ops := await self.store.pending_index_ops(
                        BATCH if limit is None else min(BATCH, limit - done))):
                    try:
                        await self._apply(ops)
                    except Exception as exc:
                        await self._isolate(ops, exc)
                    done += len(ops)
                    if on_progress is not None:
                        on_progress(len(ops))
                if limit is None:
                    self.backlog = 0
                self.last_error = None
                return True
            except Exception as exc:
                self.last_error = exc.message if isinstance(exc, ServiceUnavailable) else f"{type(exc).__name__}: {exc}"
                self.backlog = await self._safe_backlog()
                if isinstance(exc, ServiceUnavailable):
                    log.warning("index sync deferred: %s (%s pending)", self.last_error, self.backlog)
                else:
                    log.exception("index sync failed: %s (%s pending)", self.last_error, self.backlog)
                self._wakeup.set()
                return False

    async def _isolate(self, ops: list[IndexOp], batch_error: Exception) -> None:
        """A batch failed: apply it memory by memory, and quarantine the work of each memory that fails while the
        dependencies answer (its own fault: a record that cannot be read back, content the embedder refuses).
        While a dependency does not answer, that is an outage: the error is raised and the work stays queued."""
        if isinstance(batch_error, ServiceUnavailable) and not await self._dependencies_answer():
            raise batch_error
        groups: dict[str, list[IndexOp]] = {}
        for op in ops:
            groups.setdefault(op.memory_id, []).append(op)
        for group in groups.values():
            try:
                await self._apply(group)
            except Exception as exc:
                if isinstance(exc, ServiceUnavailable) and not await self._dependencies_answer():
                    raise
                cause = exc.message if isinstance(exc, ServiceUnavailable) else f"{type(exc).__name__}: {exc}"
                log.error("index work for memory %s quarantined: %s", group[-1].memory_id, cause)
                await self.store.quarantine(group, cause)

    async def _dependencies_answer(self) -> bool:
        """Whether the embedder and the vector index work for a harmless input, i.e. a failure was the data's."""
        try:
            await self.embedder.embed_one(PROBE_TEXT)
            await self.index.ping()
            return True
        except ServiceUnavailable:
            return False

    async def _safe_backlog(self) -> int:
        try:
            return await self.store.count_pending_index_ops()
        except ServiceUnavailable:
            return -1

    async def _apply(self, ops: list[IndexOp]) -> None:
        final: dict[str, str] = {}
        for op in ops:  # only the last operation per memory matters
            final[op.memory_id] = op.op
        upsert_ids = [i for i, op in final.items() if op == "upsert"]
        delete_ids = [i for i, op in final.items() if op == "delete"]
        records, unreadable = await self.store.load_many(upsert_ids)
        for memory_id, cause in unreadable.items():
            log.error("memory %s cannot be read back; its index work is quarantined: %s", memory_id, cause)
            await self.store.quarantine([op for op in ops if op.memory_id == memory_id], cause)
            final.pop(memory_id)
        ops = [op for op in ops if op.memory_id not in unreadable]
        # A record gone since it was queued is skipped: its delete op is in the outbox too.
        live = [records[i] for i in upsert_ids if i in records]
        vectors: dict[str, np.ndarray] = {}
        for memory in live:
            cached = self._fresh_vectors.get(memory.id)
            if cached is not None and cached[0] == memory.content:
                vectors[memory.id] = cached[1]
        missing = [m for m in live if m.id not in vectors]
        if missing:
            for memory, vector in zip(missing, await self.embedder.embed([m.content for m in missing])):
                vectors[memory.id] = vector
        await self.index.upsert([VectorPoint(m.id, vectors[m.id], m.vector_payload()) for m in live])
        if delete_ids:
            await self.index.delete(delete_ids)
        if live:
            await self._settle(live, vectors)
        failpoints.crash_if("before-index-ack")
        if ops:
            await self.store.ack_index_ops([op.seq for op in ops])
        for memory_id in final:
            self._fresh_vectors.pop(memory_id, None)

    async def _settle(self, written: list, vectors: dict[str, np.ndarray]) -> None:
        """Another process (a worker, a replica) may have changed or deleted these memories between our read and
        our upsert, and flushed before us: our older vector would then have overwritten its newer one. Reading
        the records again after the upsert catches that; whatever changed is written again from the record."""
        for _ in range(3):
            now = await self.store.get_many([m.id for m in written])
            gone = [m.id for m in written if m.id not in now]
            changed = [now[m.id] for m in written if m.id in now and (now[m.id].content != m.content
                                                                      or now[m.id].vector_payload() != m.vector_payload())]
            if not gone and not changed:
                return
            if gone:
                await self.index.delete(gone)
            if changed:
                fresh = await self.embedder.embed([m.content for m in changed])
                await self.index.upsert([VectorPoint(m.id, v, m.vector_payload()) for m, v in zip(changed, fresh)])
            written = changed
        log.warning("memories kept changing while being indexed; the outbox will bring their vectors up to date")

    async def run_forever(self) -> None:
        """Background repair: start-up replay and retries after failures."""
        while True:
            await self.flush()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.retry_seconds if self.backlog else 30.0)
            except asyncio.TimeoutError:
                pass
            self._wakeup.clear()
            if self.backlog:
                await asyncio.sleep(self.retry_seconds)
