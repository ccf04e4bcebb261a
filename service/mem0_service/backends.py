"""Choosing and opening the record store, vector index and embedder that the settings ask for."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mem0_service.config import Settings
from mem0_service.core.ports import RecordStore
from mem0_service.core.service import MemoryService
from mem0_service.database import database
from mem0_service.embedders.base import Calibration, Embedder
from mem0_service.errors import ConfigError
from mem0_service.metrics import Metrics
from mem0_service.timed.embedder import TimedEmbedder
from mem0_service.timed.records import TimedRecordStore
from mem0_service.timed.timer import DependencyTimer
from mem0_service.timed.vectors import TimedVectorIndex
from mem0_service.vectors.base import VectorIndex

if TYPE_CHECKING:
    from mem0_service.core.extraction import Extractor
    from mem0_service.core.query_rewrite import QueryRewriter

log = logging.getLogger("mem0_service")


def make_embedder(settings: Settings) -> Embedder:
    try:
        calibration = Calibration.parse(settings.score_calibration) if settings.score_calibration else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if settings.embedder == "openai":
        from mem0_service.embedders.openai import OpenAIEmbedder

        return OpenAIEmbedder(model=settings.embedding_model, api_key=settings.openai_api_key,
                              base_url=settings.openai_base_url, timeout=settings.openai_timeout,
                              dims=settings.embedding_dims, calibration=calibration)
    from mem0_service.embedders.local import LocalEmbedder

    embedder = LocalEmbedder()
    if calibration:
        embedder.calibration = calibration
    return embedder


def make_store(settings: Settings) -> RecordStore:
    """The record store (not opened yet): the owner of every connection to its database."""
    db = database(settings)
    if db.kind == "postgres":
        from mem0_service.stores.postgres import PostgresRecordStore

        return PostgresRecordStore(db.location)
    from mem0_service.stores.sqlite import SQLiteRecordStore

    return SQLiteRecordStore(path=Path(db.location))


def make_index(settings: Settings, embedder: Embedder) -> VectorIndex:
    if settings.vector_index == "qdrant":
        from mem0_service.vectors.qdrant import QdrantVectorIndex, collection_name

        name = collection_name("mem0", embedder.name, embedder.dim)
        if settings.qdrant_url:
            return QdrantVectorIndex(collection=name, dim=embedder.dim, url=settings.qdrant_url,
                                     api_key=settings.qdrant_api_key)
        return QdrantVectorIndex(collection=name, dim=embedder.dim, path=settings.data_dir / "qdrant")
    from mem0_service.vectors.embedded import EmbeddedVectorIndex

    return EmbeddedVectorIndex(settings.data_dir / f"vectors-{embedder.name}-{embedder.dim}.sqlite3", embedder.dim)


@dataclass(frozen=True)
class Backends:
    """The opened dependencies a MemoryService is built over."""

    store: RecordStore
    index: VectorIndex
    embedder: Embedder
    extractor: Extractor | None = None
    rewriter: QueryRewriter | None = None

    def timed(self, metrics: Metrics) -> Backends:
        """The same backends with every call of theirs timed for /metrics and the request's Server-Timing."""
        return replace(self, store=TimedRecordStore(self.store, DependencyTimer(metrics, "record_store")),
                       index=TimedVectorIndex(self.index, DependencyTimer(metrics, "vector_index")),
                       embedder=TimedEmbedder(self.embedder, DependencyTimer(metrics, "embedder")),
                       rewriter=self.rewriter.timed(DependencyTimer(metrics, "llm")) if self.rewriter else None)

    def service(self, settings: Settings) -> MemoryService:
        return MemoryService(self.store, self.index, self.embedder, deduplicate=settings.deduplicate,
                             extractor=self.extractor, session_ttl=settings.session_ttl,
                             idempotency_ttl=settings.idempotency_ttl, keyword_weight=settings.keyword_weight,
                             rewriter=self.rewriter, rewrite_by_default=settings.query_rewrite)


@contextlib.asynccontextmanager
async def open_dependencies(settings: Settings) -> AsyncIterator[Backends]:
    """Open everything in dependency order and close it in reverse, even when opening fails half-way."""
    async with contextlib.AsyncExitStack() as stack:
        embedder = make_embedder(settings)
        await embedder.open()
        stack.push_async_callback(embedder.close)
        store = make_store(settings)
        await store.open()
        stack.push_async_callback(store.close)
        index = make_index(settings, embedder)
        await index.open()
        stack.push_async_callback(index.close)
        log.info("backends: records=%s vectors=%s embedder=%s (%d-d)", store.name, index.name, embedder.name,
                 embedder.dim)
        extractor, rewriter = None, None
        if settings.llm_configured:
            from mem0_service.core.extraction import Extractor
            from mem0_service.core.query_rewrite import QueryRewriter
            from mem0_service.llm.client import ChatModel

            model = ChatModel(model=settings.llm_model, api_key=settings.openai_api_key,
                              base_url=settings.llm_base_url or settings.openai_base_url, timeout=settings.openai_timeout)
            stack.push_async_callback(model.close)
            extractor = Extractor(model)
            rewriter = QueryRewriter(model, timeout=settings.query_rewrite_timeout)
        yield Backends(store, index, embedder, extractor, rewriter)


@contextlib.asynccontextmanager
async def open_backends(settings: Settings) -> AsyncIterator[MemoryService]:
    """A MemoryService over freshly opened backends (the commands of the CLI; the application composes its own)."""
    async with open_dependencies(settings) as backends:
        yield backends.service(settings)


@contextlib.asynccontextmanager
async def open_records(settings: Settings) -> AsyncIterator[MemoryService]:
    """A MemoryService over the opened record store alone, for work next to a running service (cleanup): its
    vector index and embedder are not opened (Qdrant's local mode admits one process), so it must only be asked for
    operations that leave the index work in the outbox."""
    store = make_store(settings)
    await store.open()
    try:
        embedder = make_embedder(settings)
        yield MemoryService(store, make_index(settings, embedder), embedder, deduplicate=settings.deduplicate,
                            keyword_weight=settings.keyword_weight)
    finally:
        await store.close()
