"""An Idempotency-Key under contention: a request that finds the key held while its holder gives it up gets an
answer (it reserves the key, or waits for whoever did), never a server error. Both record stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mem0_service.core.ports import IdempotencyState, RecordStore
from mem0_service.stores.postgres import PostgresRecordStore
from mem0_service.stores.sqlite import SQLiteRecordStore
from tests.support.postgres import fresh_database

KEY = "retried-request"
ROUNDS = 300


async def _give_up(store: RecordStore, state: IdempotencyState) -> None:
    """A request gives its own reservation up (its handler failed); one that found the key held has none."""
    if state.state == "reserved":
        assert state.reserved_at is not None
        await store.release_idempotent(KEY, reserved_at=state.reserved_at)


async def _contend(store: RecordStore) -> list[str]:
    """Two requests take the key and give it up (their handler failed) over and over, while two others ask for it
    (and give it up too when they got it)."""
    seen: list[str] = []

    async def holder() -> None:
        for _ in range(ROUNDS):
            await _give_up(store, await store.reserve_idempotent(KEY, "holder", lease_seconds=60))

    async def asker() -> None:
        for _ in range(ROUNDS):
            state = await store.reserve_idempotent(KEY, "asker", lease_seconds=60)
            seen.append(state.state)
            await _give_up(store, state)

    await asyncio.gather(holder(), holder(), asker(), asker())
    return seen


async def _contend_on(store: RecordStore) -> list[str]:
    await store.open()
    try:
        return await _contend(store)
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_key_given_up_while_another_request_reads_it_is_answered_on_postgres():
    with fresh_database() as url:
        seen = await _contend_on(PostgresRecordStore(url))
    assert len(seen) == 2 * ROUNDS
    assert set(seen) <= {"reserved", "pending"}


async def test_a_key_given_up_while_another_request_reads_it_is_answered_on_sqlite(tmp_path: Path):
    seen = await _contend_on(SQLiteRecordStore(tmp_path / "records.db"))
    assert len(seen) == 2 * ROUNDS
    assert set(seen) <= {"reserved", "pending"}
