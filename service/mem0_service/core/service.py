"""MemoryService: the one place where memories are created, found, changed and forgotten."""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mem0_service import failpoints
from mem0_service.core.access import EVERYTHING, Access
from mem0_service.core.as_given import write_as_given
from mem0_service.core.extraction import Extractor, Message, transcript
from mem0_service.core.filters import Filter, all_of, payload_bounds, scope_filter
from mem0_service.core.indexing import Indexer
from mem0_service.core.memory import HistoryEvent, Memory, MemoryType, Scope, new_memory_id, utcnow
from mem0_service.core.messages import LoggedMessage, LogPage, LogWindow, NewMessage
from mem0_service.core.ports import AsGivenWriter, OwnerGroup, RecordStore
from mem0_service.core.query_rewrite import OFF, QueryRewrite, QueryRewriter
from mem0_service.core.query_subject import query_vectors
from mem0_service.core.ranking import (
    CONTEXT_LENDERS,
    CONTEXT_REACH,
    HUB_MIN_CANDIDATES,
    KEYWORD_WEIGHT,
    Ranked,
    fuse,
    with_context,
    without_hubs,
)
from mem0_service.embedders.base import Embedder
from mem0_service.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from mem0_service.llm.client import LLMJunk
from mem0_service.vectors.base import VectorFilter, VectorIndex

if TYPE_CHECKING:  # webhooks are an adapter the application attaches; the core only announces to it
    from mem0_service.webhooks.events import WebhookEvent
    from mem0_service.webhooks.store import WebhookStore

log = logging.getLogger("mem0_service.core")

# Candidates fetched from each retriever before fusion: enough for the fused top-k to be stable.
CANDIDATES = 50
# Taken off a rewrite's cosine: an alternative is the chat model's reading of the query, not the query. 0.05 kept
# unrelated pairs passing 0.7 at the query's own level (7.5% vs 7.7%; 8.5% with none) and every gain of 0
# (bench/results/relevance-query-rewrite.md).
REWRITE_DISCOUNT = 0.05


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
    ranking: Ranked | None = None  # the fused terms behind the score (None for query-less searches)
    matched_query: str | None = None  # the rewrite of the query whose meaning matched best (None: the query)


@dataclass(frozen=True)
class ConversationEvent:
    memory: Memory
    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    previous_content: str | None = None


@dataclass
class ConversationOutcome:
    events: list[ConversationEvent] = field(default_factory=list)
    extraction: Literal["done", "skipped", "deferred"] = "skipped"
    reason: str | None = None


@dataclass(frozen=True)
class Erasure:
    memories: int
    messages: int


@dataclass
class SweepStats:
    expired_removed: int = 0
    session_memories_removed: int = 0
    session_messages_removed: int = 0
    idempotency_expired: int = 0
    runs: int = 0
    last_error: str | None = None


class MemoryService:
    def __init__(self, store: RecordStore, index: VectorIndex, embedder: Embedder, *, deduplicate: bool = True,
                 extractor: Extractor | None = None, session_ttl: float | None = None,
                 idempotency_ttl: float = 86400.0, keyword_weight: float = KEYWORD_WEIGHT,
                 rewriter: QueryRewriter | None = None, rewrite_by_default: bool = False):
        self.store, self.index, self.embedder = store, index, embedder
        self.keyword_weight = keyword_weight
        self.indexer = Indexer(store, index, embedder)
        self.deduplicate = deduplicate
        self.extractor = extractor
        self.rewriter, self.rewrite_by_default = rewriter, rewrite_by_default
        self.session_ttl = session_ttl
        self.idempotency_ttl = idempotency_ttl
        self.sweeps = SweepStats()
        # Memory changes reach webhooks through the record store's triggers; this is for events about work.
        self.webhooks: WebhookStore | None = None

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
            # the conversations queued for learning, what their jobs answered, the answers kept for retries and
            # what webhooks were sent are the user's data too
            await self.store.erase_owner(scope.user_id, scope.agent_id)
            await self.indexer.flush()  # quarantined vectors of memories deleted earlier
        return len(ids)

    async def erase(self, scope: Scope, *, actor: str = "api") -> Erasure:
        """GDPR erasure of what `scope` names: its memories with their vectors and history contents, and the
        logged messages of its sessions unless it narrows memory types (a message has none); for a whole user (or
        agent), everything else that holds their content too (see `RecordStore.erase_owner`)."""
        deleted = await self.delete_scope(scope, actor=actor, erase=True)
        messages = 0 if scope.types else await self.erase_messages(scope)
        return Erasure(memories=deleted, messages=messages)

    async def forget(self, ids: list[str], *, actor: str, apply_index: bool = True, batch_size: int = 500,
                     on_progress: Callable[[int], object] | None = None) -> int:
        """Delete these memories (cleanup), batch by batch; their vectors go through the outbox, applied here unless
        `apply_index` is False (the running service applies them: search never shows a memory whose record is
        gone, so the order is safe). Returns how many existed."""
        deleted = 0
        for start in range(0, len(ids), batch_size):
            chunk = ids[start:start + batch_size]
            deleted += await self.store.delete(chunk, actor=actor)
            if on_progress is not None:
                on_progress(len(chunk))
        if deleted and apply_index:
            await self.indexer.flush()
        return deleted

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

    async def announce(self, event: WebhookEvent) -> int:
        """Queue an event that is not a memory change (extraction.completed / extraction.failed) for the webhooks
        that subscribe to it; how many deliveries were queued."""
        return await self.webhooks.publish(event) if self.webhooks is not None else 0

    # -- session message logs -------------------------------------------------------------------------------

    async def append_messages(self, scope: Scope, messages: list[NewMessage]) -> list[LoggedMessage]:
        """Append to the log of `scope.session_id`: messages of `scope.agent_id` (None: of no agent)."""
        return await self.store.append_messages(scope.user_id, _session(scope), scope.agent_id, messages)

    async def read_messages(self, scope: Scope, window: LogWindow) -> LogPage:
        return await self.store.read_messages(scope.user_id, _session(scope), scope.agent_id, window)

    async def clear_messages(self, scope: Scope) -> int:
        """Empty a session's log (only the agent's messages when the scope names one); memories stay."""
        return await self.store.clear_messages(scope.user_id, _session(scope), scope.agent_id)

    async def erase_messages(self, scope: Scope) -> int:
        """GDPR erasure of logged messages: every session of the user unless the scope names one (or an agent)."""
        return await self.store.clear_messages(scope.user_id, scope.session_id, scope.agent_id)

    async def user_messages(self, user_id: str) -> list[LoggedMessage]:
        """Every logged message of a user, by session and seq (data-access export)."""
        return await self.store.user_messages(user_id)

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def sweep(self) -> SweepStats:
        """Remove expired memories, the session memories of sessions idle longer than the session TTL and the
        Idempotency-Keys older than the idempotency TTL."""
        now = utcnow()
        while expired := await self.store.delete_expired(now):
            self.sweeps.expired_removed += len(expired)
            await self.indexer.flush()
        if self.session_ttl:
            for user_id, session_id in await self.store.idle_sessions(now - timedelta(seconds=self.session_ttl)):
                removed = await self.delete_scope(Scope(user_id=user_id, session_id=session_id), actor="session-expiry",
                                                  erase=False)
                self.sweeps.session_memories_removed += removed
            for user_id, session_id in await self.store.idle_message_logs(now - timedelta(seconds=self.session_ttl)):
                self.sweeps.session_messages_removed += await self.store.clear_messages(user_id, session_id)
        self.sweeps.idempotency_expired += await self.store.expire_idempotency(
            now - timedelta(seconds=self.idempotency_ttl))
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

    def as_given(self) -> AbstractContextManager[AsGivenWriter]:
        """One transaction for `write_as_given` (restore, import): committed when the block completes. The vectors
        of what it wrote are queued in the outbox; `indexer.flush()` applies them once it has committed."""
        return self.store.as_given()

    write_as_given = staticmethod(write_as_given)

    async def owner_groups(self, access: Access, tag_key: str) -> list[OwnerGroup]:
        """The live memories `access` admits, counted per owner (user, agent, session, `tag_key` in metadata)."""
        return await self.store.owner_groups(access, utcnow(), tag_key)

    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]:
        return await self.store.list(scope, limit=limit, offset=offset, newest_first=newest_first)

    async def find(self, where: Filter, *, limit: int | None, offset: int = 0) -> tuple[builtins.list[Memory], int]:
        """One page of the live memories a filter admits, newest first, and how many there are."""
        return await self.store.select(where, limit=limit, offset=offset)

    async def delete_where(self, where: Filter, *, actor: str = "api", batch: int = 500) -> int:
        """Delete every live memory the filter admits (their history keeps its contents), batch by batch."""
        deleted = 0
        while True:
            memories, _ = await self.store.select(where, limit=batch)
            if not memories:
                return deleted
            deleted += await self.store.delete([m.id for m in memories], actor=actor)
            await self.indexer.flush()

    async def rewrite_query(self, query: str | None, wanted: bool | None) -> QueryRewrite:
        """The chat model's alternatives for a search's query (core.query_rewrite); `wanted` None: the service's
        default (MEM0_QUERY_REWRITE). Never fails: a search without them runs on the query as written."""
        if not (self.rewrite_by_default if wanted is None else wanted):
            return OFF
        if not query or not query.strip():
            return QueryRewrite("skipped", reason="a search without a query has nothing to rewrite")
        if self.rewriter is None:
            return QueryRewrite("skipped", reason="no chat model is configured (OPENAI_API_KEY or MEM0_LLM_BASE_URL)")
        return await self.rewriter.rewrite(query)

    async def search(self, scope: Scope, query: str | None, *, threshold: float, limit: int,
                     where: Filter | None = None, alternatives: Sequence[str] = ()) -> tuple[builtins.list[SearchHit], int]:
        """Memories relevant to the query, best first, none below the threshold. Without a query: the most recent.
        `where` narrows the scope further (the record store applies it to the ranked candidates). `alternatives`
        (rewrite_query) are matched beside the query: a memory counts with its best match."""
        if not query or not query.strip():
            if where is not None:
                memories, _ = await self.store.select(all_of([scope_filter(scope), where]), limit=limit)
            else:
                memories, _ = await self.store.list(scope, limit=limit, offset=0)
            return [SearchHit(m, None) for m in memories], len(memories)
        flt = _vector_filter(scope, where)
        if flt is None:
            return [], 0
        # Neither the keyword lookup nor catching up with other processes' vector writes needs the query
        # vector: both run while the model embeds.
        texts = [query, *alternatives]
        vectors, keyword, _ = await asyncio.gather(query_vectors(self.embedder, texts), self._keywords(scope, texts),
                                                   self.index.refresh())
        dense, winners = await self._nearest(vectors, flt, max(CANDIDATES, limit * 4), also=list(keyword))
        raw = dict(dense)
        # Too few candidates say nothing about what is typical: no need to ask the index (a round trip on Qdrant).
        if len(dense) >= HUB_MIN_CANDIDATES:
            dense = without_hubs(dense, await self.index.typicality(flt, list(dense)))
        fused = fuse(self.embedder.calibration, dense, keyword, self.keyword_weight)
        ranked = await self._in_context(fused, dense, keyword, vectors, flt)
        ranked = [r for r in ranked if r.relevance >= threshold]
        # Records are the source of truth: a vector whose record is gone, expired or out of scope never surfaces.
        records, total = await self.store.first_in_scope(scope, [r.memory_id for r in ranked], limit, where)
        by_id = {r.memory_id: r for r in ranked}
        hits = []
        for memory in records:
            why = by_id[memory.id]
            # The explanation shows each memory's own cosine, from before the hub correction.
            hits.append(SearchHit(memory, round(why.relevance, 4), replace(why, cosine=raw.get(memory.id, why.cosine)),
                                  texts[winners[memory.id]] if winners.get(memory.id) else None))
        return hits, total

    async def _keywords(self, scope: Scope, texts: builtins.list[str]) -> dict[str, float]:
        """Keyword evidence for the query and its rewrites (looked up at once): each memory with its best match."""
        found = await asyncio.gather(*(self.store.keyword_search(scope, text, limit=CANDIDATES) for text in texts))
        if len(found) == 1:
            return dict(found[0])
        return _best_of([dict(hits) for hits in found], discount=0.0)[0]

    async def _nearest(self, vectors: builtins.list[np.ndarray], flt: VectorFilter, limit: int, *,
                       also: builtins.list[str]) -> tuple[dict[str, float], dict[str, int]]:
        """Each vector's nearest `limit` memories and the `also` ones (found by their words), with their best cosine
        over the vectors (the query's, then its rewrites') and which vector gave it."""
        found = [dict(await self.index.search(v, flt, limit=limit)) for v in vectors]
        ids = list(dict.fromkeys([*(i for hits in found for i in hits), *also]))
        for vector, hits in zip(vectors, found):
            missing = [i for i in ids if i not in hits]
            if missing:
                hits.update(await self.index.similarity(vector, flt, missing))
        if len(found) == 1:  # the query alone (no rewrite): its cosines as the index gave them
            return found[0], {}
        best, winners = _best_of(found)
        return {i: best[i] for i in ids if i in best}, winners

    async def _similarity(self, vectors: builtins.list[np.ndarray], flt: VectorFilter,
                          ids: builtins.list[str]) -> dict[str, float]:
        """The memories' best cosine over the vectors, as _nearest scores them."""
        return _best_of([await self.index.similarity(v, flt, ids) for v in vectors])[0]

    async def _in_context(self, ranked: builtins.list[Ranked], dense: dict[str, float], keyword: dict[str, float],
                          vectors: builtins.list[np.ndarray], flt: VectorFilter) -> builtins.list[Ranked]:
        """The fused candidates with conversation context (ranking.with_context): the best ones' neighbouring turns
        are scored too, so that each is ranked on its own evidence or on what its neighbour lends, whichever is more.
        Only conversation turns lend and borrow: a search kept to other types (a type filter without `interaction`)
        returns no turn whatever context it lends, so it skips the record store's look-up of neighbours."""
        if flt.types and MemoryType.interaction.value not in flt.types:
            return ranked
        adjacent = await self.store.adjacent_turns([r.memory_id for r in ranked[:CONTEXT_LENDERS]], reach=CONTEXT_REACH)
        unseen = list(dict.fromkeys(n for turns in adjacent.values() for n in turns if n not in dense))
        if unseen:
            with_neighbours = {**dense, **await self._similarity(vectors, flt, unseen)}
            ranked = fuse(self.embedder.calibration, with_neighbours, keyword, self.keyword_weight)
        return with_context(ranked, adjacent)


def _best_of(scores: builtins.list[dict[str, float]],
             discount: float = REWRITE_DISCOUNT) -> tuple[dict[str, float], dict[str, int]]:
    """Each memory's best score over the query's and its rewrites' (all but the first, less `discount`), and the
    position of the one that gave it."""
    best: dict[str, float] = {}
    winners: dict[str, int] = {}
    for n, hits in enumerate(scores):
        lowered = discount if n else 0.0
        for i, score in hits.items():
            if i not in best or score - lowered > best[i]:
                best[i], winners[i] = score - lowered, n
    return best, winners


def _session(scope: Scope) -> str:
    if scope.session_id is None:
        raise ValueError("a message log belongs to a session")
    return scope.session_id


def _vector_filter(scope: Scope, where: Filter | None) -> VectorFilter | None:
    """The index's filter for a scope, narrowed by what `where` fixes of session, agent and type; None when nothing
    can pass (the scope and the filter disagree)."""
    types = frozenset(t.value for t in scope.types) or None
    session_id, agent_id = scope.session_id, scope.agent_id
    if where is not None:
        bounds = payload_bounds(where)
        if bounds.empty:
            return None
        for mine, theirs in ((session_id, bounds.session_id), (agent_id, bounds.agent_id)):
            if mine is not None and theirs is not None and mine != theirs:
                return None
        session_id, agent_id = session_id or bounds.session_id, agent_id or bounds.agent_id
        if bounds.types is not None:
            types = bounds.types if types is None else types & bounds.types
            if not types:
                return None
    return VectorFilter(user_id=scope.user_id, session_id=session_id, agent_id=agent_id,
                        types=tuple(sorted(types or ())))


def _expired(memory: Memory) -> bool:
    return memory.expires_at is not None and memory.expires_at <= utcnow()
