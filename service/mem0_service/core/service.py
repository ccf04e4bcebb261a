"""MemoryService: the one place where memories are created, found, changed and forgotten."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mem0_service.core.indexing import Indexer
from mem0_service.core.memory import Memory, MemoryType, Scope, new_memory_id, utcnow
from mem0_service.core.ranking import fuse
from mem0_service.embedders.base import Embedder
from mem0_service.errors import NotFound
from mem0_service.stores.base import RecordStore
from mem0_service.vectors.base import VectorFilter, VectorIndex

log = logging.getLogger("mem0_service.core")

# Candidates fetched from each retriever before fusion: enough for the fused top-k to be stable.
CANDIDATES = 50


@dataclass(frozen=True)
class NewMemory:
    user_id: str
    content: str
    type: MemoryType = MemoryType.fact
    session_id: str | None = None
    agent_id: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class SearchHit:
    memory: Memory
    relevance_score: float | None


class MemoryService:
    def __init__(self, store: RecordStore, index: VectorIndex, embedder: Embedder, *, deduplicate: bool = True):
        self.store, self.index, self.embedder = store, index, embedder
        self.indexer = Indexer(store, index, embedder)
        self.deduplicate = deduplicate

    # -- writes -------------------------------------------------------------------------------------------

    async def create(self, new: NewMemory) -> tuple[Memory, bool]:
        """Store a memory; returns (memory, created). An exact duplicate in the same scope returns the existing one.

        Interactions are exempt: a conversation may say the same thing twice and both turns are history."""
        created, flags = await self.create_many([new])
        return created[0], flags[0]

    async def create_many(self, items: list[NewMemory]) -> tuple[list[Memory], list[bool]]:
        now = utcnow()
        results: list[Memory | None] = [None] * len(items)
        fresh: list[tuple[int, Memory]] = []
        for position, item in enumerate(items):
            memory = Memory(id=new_memory_id(), user_id=item.user_id, content=item.content, type=item.type,
                            session_id=item.session_id, agent_id=item.agent_id, metadata=dict(item.metadata or {}),
                            created_at=now, updated_at=now)
            if self.deduplicate and item.type != MemoryType.interaction:
                scope = Scope(user_id=item.user_id, session_id=item.session_id, agent_id=item.agent_id)
                existing = await self.store.find_by_hash(scope, memory.hash)
                existing = existing or next((m for _, m in fresh if m.hash == memory.hash and scope.admits(m)), None)
                if existing is not None:
                    results[position] = existing
                    continue
            fresh.append((position, memory))
        if fresh:
            # Embed before committing: a provider outage answers 503 with nothing stored, never a record
            # that can't be found.
            vectors = await self.embedder.embed([m.content for _, m in fresh])
            await self.store.insert([m for _, m in fresh])
            for (position, memory), vector in zip(fresh, vectors):
                self.indexer.remember_vector(memory.id, vector)
                results[position] = memory
            await self.indexer.flush()
        created_ids = {m.id for _, m in fresh}
        final = [m for m in results if m is not None]
        return final, [m.id in created_ids for m in final]

    async def update(self, memory_id: str, *, content: str | None = None, metadata: dict[str, Any] | None = None,
                     type: MemoryType | None = None, scope_user: str | None = None) -> Memory:
        current = await self.get(memory_id, scope_user=scope_user)
        changes: dict[str, Any] = {"updated_at": utcnow()}
        if content is not None:
            changes["content"] = content
        if metadata is not None:
            changes["metadata"] = metadata
        if type is not None:
            changes["type"] = type
        updated = current.with_changes(**changes)
        reindex = updated.content != current.content or updated.type != current.type
        if updated.content != current.content:
            self.indexer.remember_vector(memory_id, await self.embedder.embed_one(updated.content))
        if not await self.store.update(updated, reindex=reindex):
            raise NotFound(f"Memory {memory_id} not found")
        if reindex:
            await self.indexer.flush()
        return updated

    async def delete(self, memory_id: str, *, scope_user: str | None = None) -> None:
        await self.get(memory_id, scope_user=scope_user)
        if not await self.store.delete([memory_id]):
            raise NotFound(f"Memory {memory_id} not found")
        await self.indexer.flush()

    async def delete_scope(self, scope: Scope) -> int:
        ids = await self.store.delete_scope(scope)
        if ids:
            await self.indexer.flush()
        return len(ids)

    # -- reads --------------------------------------------------------------------------------------------

    async def get(self, memory_id: str, *, scope_user: str | None = None) -> Memory:
        memory = await self.store.get(memory_id)
        # Another user's memory is reported as missing, not forbidden: ids must not leak across tenants.
        if memory is None or (scope_user is not None and memory.user_id != scope_user) or _expired(memory):
            raise NotFound(f"Memory {memory_id} not found")
        return memory

    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]:
        return await self.store.list(scope, limit=limit, offset=offset, newest_first=newest_first)

    async def search(self, scope: Scope, query: str | None, *, threshold: float, limit: int) -> tuple[list[SearchHit], int]:
        """Memories relevant to the query, best first, none below the threshold. Without a query: the most recent."""
        if not query or not query.strip():
            memories, _ = await self.store.list(scope, limit=limit, offset=0)
            return [SearchHit(m, None) for m in memories], len(memories)
        flt = VectorFilter(user_id=scope.user_id, session_id=scope.session_id, agent_id=scope.agent_id,
                           types=tuple(t.value for t in scope.types))
        vector = await self.embedder.embed_one(query)
        dense = dict(await self.index.search(vector, flt, limit=max(CANDIDATES, limit * 4)))
        keyword = dict(await self.store.keyword_search(scope, query, limit=CANDIDATES))
        keyword_only = [i for i in keyword if i not in dense]
        if keyword_only:
            dense.update(await self.index.similarity(vector, flt, keyword_only))
        ranked = [r for r in fuse(self.embedder.calibration, dense, keyword) if r.relevance >= threshold]
        # Records are the source of truth: a vector whose record is gone or out of scope never surfaces.
        records = await self.store.get_many([r.memory_id for r in ranked])
        hits = [SearchHit(records[r.memory_id], round(r.relevance, 4)) for r in ranked
                if r.memory_id in records and scope.admits(records[r.memory_id]) and not _expired(records[r.memory_id])]
        return hits[:limit], len(hits)


def _expired(memory: Memory) -> bool:
    return memory.expires_at is not None and memory.expires_at <= utcnow()
