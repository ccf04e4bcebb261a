"""Keeps the vector index in step with the records by replaying the store's outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from mem0_service import failpoints
from mem0_service.embedders.base import Embedder
from mem0_service.errors import ServiceUnavailable
from mem0_service.vectors.base import VectorIndex, VectorPoint

if TYPE_CHECKING:  # the record stores import the domain model from this package
    from mem0_service.stores.base import RecordStore

log = logging.getLogger("mem0_service.indexing")
BATCH = 256


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

    async def flush(self, on_progress: Callable[[int], None] | None = None) -> bool:
        """Apply all pending work; False (and logged) if the index or embedder is down: the work stays queued."""
        async with self._lock:
            try:
                while ops := await self.store.pending_index_ops(BATCH):
                    await self._apply(ops)
                    if on_progress is not None:
                        on_progress(len(ops))
                self.backlog, self.last_error = 0, None
                return True
            except ServiceUnavailable as exc:
                self.last_error = exc.message
                self.backlog = await self._safe_backlog()
                log.warning("index sync deferred: %s (%s pending)", exc.message, self.backlog)
                self._wakeup.set()
                return False

    async def _safe_backlog(self) -> int:
        try:
            return await self.store.count_pending_index_ops()
        except ServiceUnavailable:
            return -1

    async def _apply(self, ops) -> None:
        final: dict[str, str] = {}
        for op in ops:  # only the last operation per memory matters
            final[op.memory_id] = op.op
        upsert_ids = [i for i, op in final.items() if op == "upsert"]
        delete_ids = [i for i, op in final.items() if op == "delete"]
        records = await self.store.get_many(upsert_ids)
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
