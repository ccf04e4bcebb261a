"""MemoryService: the one place where memories are created, found, changed and forgotten."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mem0_service import failpoints
from mem0_service.core.access import EVERYTHING, Access
from mem0_service.core.extraction import Extractor, Message, transcript
from mem0_service.core.indexing import Indexer
from mem0_service.core.memory import HistoryEvent, Memory, MemoryType, Scope, new_memory_id, utcnow
from mem0_service.core.ranking import fuse
from mem0_service.embedders.base import Embedder
from mem0_service.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from mem0_service.llm.client import LLMJunk
from mem0_service.vectors.base import VectorFilter, VectorIndex

if TYPE_CHECKING:  # the record stores import the domain model from this package
    from mem0_service.stores.base import RecordStore

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
    expires_at: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    memory: Memory
    relevance_score: float | None


@dataclass(frozen=True)
class ConversationEvent:
    memory: Memory
    event: str  # ADD, UPDATE, DELETE, NONE
    previous_content: str | None = None


@dataclass
class ConversationOutcome:
    events: list[ConversationEvent] = field(default_factory=list)
    extraction: str = "skipped"  # done | skipped | deferred
    reason: str | None = None


@dataclass
class SweepStats:
    expired_removed: int = 0
    session_memories_removed: int = 0
    runs: int = 0
    last_error: str | None = None


class MemoryService:
    def __init__(self, store: RecordStore, index: VectorIndex, embedder: Embedder, *, deduplicate: bool = True,
                 extractor: Extractor | None = None, session_ttl: float | None = None):
        self.store, self.index, self.embedder = store, index, embedder
        self.indexer = Indexer(store, index, embedder)
        self.deduplicate = deduplicate
        self.extractor = extractor
        self.session_ttl = session_ttl
        self.sweeps = SweepStats()

    # -- writes -------------------------------------------------------------------------------------------

    async def create(self, new: NewMemory) -> tuple[Memory, bool]:
        """Store a memory; returns (memory, created). An exact duplicate in the same scope returns the existing one.

        Interactions are exempt: a conversation may say the same thing twice and both turns are history."""
        created, flags = await self.create_many([new])
        return created[0], flags[0]

    async def create_many(self, items: list[NewMemory], *, actor: str = "api") -> tuple[list[Memory], list[bool]]:
        now = utcnow()
        results: list[Memory | None] = [None] * len(items)
        is_new = [False] * len(items)
        fresh: list[tuple[int, Memory]] = []
        for position, item in enumerate(items):
            memory = Memory(id=new_memory_id(), user_id=item.user_id, content=item.content, type=item.type,
                            session_id=item.session_id, agent_id=item.agent_id, metadata=dict(item.metadata or {}),
                            created_at=now, updated_at=now, expires_at=item.expires_at)
            if self.deduplicate and item.type != MemoryType.interaction:
                scope = Scope(user_id=item.user_id, session_id=item.session_id, agent_id=item.agent_id)
                existing = await self.store.find_by_hash(scope, memory.hash)
                existing = existing or next((m for _, m in fresh if m.hash == memory.hash and scope.admits(m)), None)
                if existing is not None:
                    results[position] = existing
                    continue
            fresh.append((position, memory))
            is_new[position] = True
        if fresh:
            # Embed before committing: a provider outage answers 503 with nothing stored, never a record
            # that can't be found.
            vectors = await self.embedder.embed([m.content for _, m in fresh])
            # The unique index has the last word on duplicates: a create racing another with the same content
            # in the same scope gets the memory that was stored first, exactly like a create that came later.
            stored = await self.store.insert([m for _, m in fresh], actor=actor, deduplicate=self.deduplicate)
            failpoints.crash_if("after-record-commit")
            for (position, memory), kept, vector in zip(fresh, stored, vectors):
                if kept.id == memory.id:
                    self.indexer.remember_vector(memory.id, memory.content, vector)
                else:
                    is_new[position] = False
                results[position] = kept
            # The records are committed: this answer stands even if indexing fails now. The outbox keeps the
            # work, the background loop retries it, and work that fails for one memory alone is quarantined.
            await self.indexer.flush()
        return [m for m in results if m is not None], is_new

    async def update(self, memory_id: str, *, content: str | None = None, metadata: dict[str, Any] | None = None,
                     type: MemoryType | None = None, expires_at: datetime | None = None, access: Access = EVERYTHING,
                     actor: str = "api", if_version: int | None = None) -> Memory:
        """Change the named fields only; the others keep whatever they hold at the moment of the write, even if a
        concurrent update changed them after this one began. `if_version`: only if the memory is still at that
        version (If-Match), PreconditionFailed otherwise."""
        current = await self.get(memory_id, access=access)
        changes: dict[str, Any] = {}
        if content is not None:
            changes["content"] = content
        if metadata is not None:
            changes["metadata"] = metadata
        if type is not None:
            changes["type"] = type
        if expires_at is not None:
            changes["expires_at"] = expires_at
        if content is not None and content != current.content:
            # embedded before the write: a provider outage answers 503 with nothing changed
            self.indexer.remember_vector(memory_id, content, await self.embedder.embed_one(content))
        result = await self.store.update_fields(memory_id, changes, expected_version=if_version,
                                                deduplicate=self.deduplicate, actor=actor)
        if result is None:
            raise NotFound(f"Memory {memory_id} not found")
        before, after = result
        if after.content != before.content or after.type != before.type:
            await self.indexer.flush()
        return after

    async def delete(self, memory_id: str, *, access: Access = EVERYTHING, actor: str = "api",
                     erase: bool = False, if_version: int | None = None) -> None:
        await self.get(memory_id, access=access)
        if not await self.store.delete([memory_id], actor=actor, erase=erase, expected_version=if_version):
            raise NotFound(f"Memory {memory_id} not found")
        await self.indexer.flush()

    async def delete_scope(self, scope: Scope, *, actor: str = "api", erase: bool = True) -> int:
        """Forget everything in scope: records, vectors and (by default) the contents kept in the history."""
        ids = await self.store.delete_scope(scope, actor=actor, erase=erase)
        if ids:
            await self.indexer.flush()
        if erase and scope == Scope(user_id=scope.user_id, agent_id=scope.agent_id):
            # the conversations queued for learning, and what their jobs answered, are the user's data too
            await self.store.erase_jobs(scope.user_id, scope.agent_id)
        return len(ids)

    async def add_conversation(self, *, user_id: str, messages: list[Message], infer: bool,
                               session_id: str | None = None, agent_id: str | None = None,
                               metadata: dict[str, Any] | None = None, actor: str = "api",
                               park_on_failure: bool = True) -> ConversationOutcome:
        """Remember a conversation: as extracted facts reconciled with what is known (infer), or turn by turn.

        When the chat model fails, the conversation is parked as a pending interaction (`park_on_failure`), or the
        failure is raised for a caller that retries the whole extraction itself (the job queue)."""
        metadata = dict(metadata or {})
        if not infer:
            items = [NewMemory(user_id=user_id, content=m.content, type=MemoryType.interaction, session_id=session_id,
                               agent_id=agent_id, metadata={**metadata, "role": m.role}) for m in messages]
            created, _ = await self.create_many(items, actor=actor)
            return ConversationOutcome(events=[ConversationEvent(m, "ADD") for m in created])
        if self.extractor is None:
            raise BadRequest("infer=true needs a chat model: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible "
                             "server) and optionally MEM0_LLM_MODEL, or send infer=false", field="infer")
        scope = Scope(user_id=user_id, agent_id=agent_id)
        within = Access(user_id=user_id, agent_id=agent_id)  # the plan may touch only what the search could see
        try:
            facts = await self.extractor.facts(messages)
            existing: dict[str, str] = {}
            for fact in facts:
                hits, _ = await self.search(scope, fact.content, threshold=0.5, limit=5)
                existing.update((h.memory.id, h.memory.content) for h in hits)
            plan = await self.extractor.plan(facts, existing)
        except (LLMJunk, ServiceUnavailable) as exc:
            if (isinstance(exc, ServiceUnavailable) and exc.dependency != "llm") or not park_on_failure:
                raise
            # Never drop what the user said: keep the conversation, flagged so extraction can be retried later.
            reason = str(exc) if isinstance(exc, LLMJunk) else exc.message
            log.warning("extraction deferred for user %s: %s", user_id, reason)
            raw = NewMemory(user_id=user_id, content=transcript(messages), type=MemoryType.interaction,
                            session_id=session_id, agent_id=agent_id,
                            metadata={**metadata, "extraction": "pending", "extraction_error": reason[:500]})
            memory, _ = await self.create(raw)
            return ConversationOutcome([ConversationEvent(memory, "ADD")], extraction="deferred", reason=reason)
        outcome = ConversationOutcome(extraction="done")
        if plan.add:
            items = [NewMemory(user_id=user_id, content=text, type=kind, session_id=session_id, agent_id=agent_id,
                               metadata={**metadata, "source": "extraction"}) for text, kind in plan.add]
            created, fresh = await self.create_many(items, actor="llm")
            outcome.events += [ConversationEvent(m, "ADD" if new else "NONE") for m, new in zip(created, fresh)]
        for memory_id, text in plan.update:
            before = existing[memory_id]
            updated = await self.update(memory_id, content=text, access=within, actor="llm")
            outcome.events.append(ConversationEvent(updated, "UPDATE", previous_content=before))
        for memory_id in plan.delete:
            memory = await self.get(memory_id, access=within)
            await self.delete(memory_id, access=within, actor="llm")
            outcome.events.append(ConversationEvent(memory, "DELETE", previous_content=memory.content))
        for memory_id in plan.unchanged:
            outcome.events.append(ConversationEvent(await self.get(memory_id, access=within), "NONE"))
        return outcome

    async def repair_index(self) -> int:
        """Queue every record for indexing when the vector index is empty but records exist: a new embedding
        model (its own collection), a lost index file, or a restore of records only. Resumable: the queue is
        the outbox, so a restart continues where it stopped."""
        if await self.index.count() > 0:
            return 0
        records = await self.store.count()
        if records == 0:
            return 0
        queued = await self.store.enqueue_reindex_all()
        log.warning("vector index %s is empty but %d memories exist: re-embedding them with %s in the background",
                    self.index.name, records, self.embedder.name)
        return queued

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def sweep(self) -> SweepStats:
        """Remove expired memories and the session memories of sessions idle longer than the session TTL."""
        now = utcnow()
        while expired := await self.store.delete_expired(now):
            self.sweeps.expired_removed += len(expired)
            await self.indexer.flush()
        if self.session_ttl:
            for user_id, session_id in await self.store.idle_sessions(now - timedelta(seconds=self.session_ttl)):
                removed = await self.delete_scope(Scope(user_id=user_id, session_id=session_id), actor="session-expiry",
                                                  erase=False)
                self.sweeps.session_memories_removed += removed
        self.sweeps.runs += 1
        return self.sweeps

    async def run_sweeper(self, interval: float) -> None:
        while True:
            try:
                before = (self.sweeps.expired_removed, self.sweeps.session_memories_removed)
                stats = await self.sweep()
                self.sweeps.last_error = None
                if (stats.expired_removed, stats.session_memories_removed) != before:
                    log.info("sweeper: %d expired and %d idle-session memories removed so far",
                             stats.expired_removed, stats.session_memories_removed)
            except ServiceUnavailable as exc:
                self.sweeps.last_error = exc.message
                log.warning("sweeper skipped a run: %s", exc.message)
            await asyncio.sleep(interval)

    # -- reads --------------------------------------------------------------------------------------------

    async def get(self, memory_id: str, *, access: Access = EVERYTHING) -> Memory:
        found, unreadable = await self.store.load_many([memory_id])
        memory = found.get(memory_id)
        if memory_id in unreadable and access.unbounded:
            raise Conflict(f"Memory {memory_id} is quarantined: its stored record cannot be read back "
                           f"({unreadable[memory_id]}); see `mem0-service quarantine list`")
        # Another tenant's memory is reported as missing, not forbidden: ids must not leak across tenants.
        if memory is None or not access.admits(memory) or _expired(memory):
            raise NotFound(f"Memory {memory_id} not found")
        return memory

    async def history(self, memory_id: str, *, access: Access = EVERYTHING) -> list[HistoryEvent]:
        if not access.unbounded:
            # A deleted memory keeps its audit trail for unbounded keys only: its owner and agent are gone from
            # the records, so a bounded key could not be shown to be entitled to it.
            await self.get(memory_id, access=access)
        events = await self.store.history(memory_id)
        if not events:
            raise NotFound(f"Memory {memory_id} not found")
        return events

    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]:
        return await self.store.list(scope, limit=limit, offset=offset, newest_first=newest_first)

    async def search(self, scope: Scope, query: str | None, *, threshold: float, limit: int) -> tuple[list[SearchHit], int]:
        """Memories relevant to the query, best first, none below the threshold. Without a query: the most recent."""
        if not query or not query.strip():
            memories, _ = await self.store.list(scope, limit=limit, offset=0)
            return [SearchHit(m, None) for m in memories], len(memories)
        flt = VectorFilter(user_id=scope.user_id, session_id=scope.session_id, agent_id=scope.agent_id,
                           types=tuple(t.value for t in scope.types))
        # Neither the keyword lookup nor catching up with other processes' vector writes needs the query
        # vector: both run while the model embeds.
        vector, keyword_hits, _ = await asyncio.gather(self.embedder.embed_one(query),
                                                       self.store.keyword_search(scope, query, limit=CANDIDATES),
                                                       self.index.refresh())
        keyword = dict(keyword_hits)
        dense = dict(await self.index.search(vector, flt, limit=max(CANDIDATES, limit * 4)))
        keyword_only = [i for i in keyword if i not in dense]
        if keyword_only:
            dense.update(await self.index.similarity(vector, flt, keyword_only))
        ranked = [r for r in fuse(self.embedder.calibration, dense, keyword) if r.relevance >= threshold]
        # Records are the source of truth: a vector whose record is gone, expired or out of scope never surfaces.
        records, total = await self.store.first_in_scope(scope, [r.memory_id for r in ranked], limit)
        relevance = {r.memory_id: r.relevance for r in ranked}
        return [SearchHit(m, round(relevance[m.id], 4)) for m in records], total


def _expired(memory: Memory) -> bool:
    return memory.expires_at is not None and memory.expires_at <= utcnow()
