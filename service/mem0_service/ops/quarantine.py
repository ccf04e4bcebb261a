"""The index quarantine seen from outside the service: what doctor reports and the `quarantine` command works on.

Only the record store is opened: the running service applies what a retry or drop queues in the outbox (its
background loop, or the next write), so this is safe next to it, also with Qdrant's local mode."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mem0_service.backends import make_store
from mem0_service.config import Settings
from mem0_service.stores.base import QuarantineEntry, RecordStore

# Entries doctor names one by one before summing up the rest.
NAMED = 5


@contextlib.asynccontextmanager
async def record_store(settings: Settings) -> AsyncIterator[RecordStore]:
    store = make_store(settings)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def describe(entry: QuarantineEntry) -> str:
    return f"{entry.memory_id} (user {entry.user_id or '?'}, {entry.op}): {entry.cause}"


def summary(entries: list[QuarantineEntry], total: int) -> str:
    named = "; ".join(describe(e) for e in entries[:NAMED])
    more = f"; and {total - NAMED} more" if total > NAMED else ""
    return (f"{total} memor{'y' if total == 1 else 'ies'} quarantined from the vector index: {named}{more}. "
            "Run `mem0-service quarantine list`, then `quarantine retry` once the cause is fixed or "
            "`quarantine drop` to delete them")
