"""Idempotency-Keys expire: the sweeper drops a stored answer once it is older than MEM0_IDEMPOTENCY_TTL, and a
retry with that key is a new request; a younger answer still replays. Both backends."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mem0_service.app import create_app
from mem0_service.core.memory import utcnow
from mem0_service.core.ports import IdempotencyState, IdempotentOwner, RecordStore
from mem0_service.state import RECORDS, SERVICE
from mem0_service.stores.base import EXPIRY_BATCH, iso
from mem0_service.stores.postgres import PostgresRecordStore
from mem0_service.stores.sqlite import SQLiteRecordStore
from tests.inprocess.conftest import BACKENDS, InProcessApi, backend_settings
from tests.support.postgres import fresh_database

TTL = 60.0  # the least the setting allows: a reservation's lease


@pytest.fixture(params=BACKENDS)
async def api(request: pytest.FixtureRequest, aiohttp_client, tmp_path: Path) -> AsyncIterator[InProcessApi]:
    # Without deduplication a create done again stores a new memory: a replay and a new create differ by their id.
    with backend_settings(request.param, tmp_path, idempotency_ttl=TTL, deduplicate=False) as settings:
        client = await aiohttp_client(create_app(settings, background=False))
        yield InProcessApi(client, settings.api_keys[0])


async def _create(api: InProcessApi, key: str) -> tuple[int, str, bool]:
    headers = {"Authorization": f"Bearer {api.admin_key}", "Idempotency-Key": key}
    async with api.client.post("/api/memories", json={"user_id": "alice", "content": "Prefers tea"},
                               headers=headers) as response:
        body = await response.json()
        return response.status, body["id"], response.headers.get("Idempotent-Replayed") == "true"


async def _age_every_key(api: InProcessApi, seconds: float) -> None:
    """Move every stored key's creation back in time, in the record store's own database (the stored key is the
    header's value scoped to its caller, so the test does not name it)."""
    records = api.client.app[RECORDS]
    then = utcnow() - timedelta(seconds=seconds)
    if isinstance(records, PostgresRecordStore):
        async with records._tx() as cur:
            await cur.execute("UPDATE idempotency_keys SET created_at = %s", (then,))
    else:
        await records._run(lambda c: c.execute("UPDATE idempotency_keys SET created_at = ?", (iso(then),)))


async def test_a_key_older_than_the_ttl_creates_anew_after_a_sweep_and_a_younger_one_still_replays(api):
    status, first, _ = await _create(api, "old")
    assert status == 201
    assert await _create(api, "old") == (201, first, True)
    await _age_every_key(api, TTL + 1)
    status, young, _ = await _create(api, "young")
    assert status == 201

    stats = await api.client.app[SERVICE].sweep()
    assert stats.idempotency_expired == 1

    status, again, replayed = await _create(api, "old")
    assert status == 201 and again != first and not replayed
    assert await _create(api, "young") == (201, young, True)
    status, metrics = await api.call("GET", "/metrics")
    assert status == 200 and "mem0_sweeper_idempotency_expired 1" in metrics, metrics


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RecordStore]:
    with fresh_database() if request.param == "postgres-qdrant" else contextlib.nullcontext() as url:
        records: RecordStore = PostgresRecordStore(url) if url else SQLiteRecordStore(tmp_path / "records.db")
        await records.open()
        try:
            yield records
        finally:
            await records.close()


async def test_every_key_before_the_cutoff_goes_with_its_owners_however_many(store: RecordStore):
    keys = [f"k{n}" for n in range(EXPIRY_BATCH + 7)]  # more than one batch
    first = [await store.reserve_idempotent(key, "first", lease_seconds=60) for key in keys]
    assert {state.state for state in first} == {"reserved"}
    await store.complete_idempotent(keys[0], 201, "{}", [IdempotentOwner("alice")], reserved_at=first[0].reserved_at)
    assert await store.expire_idempotency(utcnow() - timedelta(hours=1)) == 0

    assert await store.expire_idempotency(utcnow() + timedelta(seconds=1)) == len(keys)

    # The key is new again, answered and dead reservations alike, and the old answer's owner is not its owner
    # any more: erasing alice leaves bob's answer under the same key.
    second = [await store.reserve_idempotent(key, "second", lease_seconds=60) for key in keys]
    assert {state.state for state in second} == {"reserved"}
    await store.complete_idempotent(keys[0], 201, '{"bob": true}', [IdempotentOwner("bob")],
                                    reserved_at=second[0].reserved_at)
    await store.erase_owner("alice")
    replay = await store.reserve_idempotent(keys[0], "second", lease_seconds=60)
    assert (replay.state, replay.body) == ("done", '{"bob": true}')


KEY = "slow-request"


async def _sweep_then_retry(store: RecordStore) -> IdempotencyState:
    assert await store.expire_idempotency(utcnow() + timedelta(seconds=1)) == 1
    return await store.reserve_idempotent(KEY, "retry", lease_seconds=60)


async def _retry_after_the_lease(store: RecordStore) -> IdempotencyState:
    return await store.reserve_idempotent(KEY, "retry", lease_seconds=0)


async def _answer(store: RecordStore, reserved_at: datetime) -> None:
    await store.complete_idempotent(KEY, 201, '{"first": true}', [IdempotentOwner("alice")], reserved_at=reserved_at)


async def _answer_showing_an_erased_memory(store: RecordStore, reserved_at: datetime) -> None:
    # an answer showing a memory erased while the request finished is dropped, not kept
    await store.complete_idempotent(KEY, 201, '{"first": true}', [IdempotentOwner("alice", memory_id="mem_erased")],
                                    reserved_at=reserved_at)


async def _fail(store: RecordStore, reserved_at: datetime) -> None:
    await store.release_idempotent(KEY, reserved_at=reserved_at)


@pytest.mark.parametrize("finish", [_answer, _answer_showing_an_erased_memory, _fail])
@pytest.mark.parametrize("lose", [_sweep_then_retry, _retry_after_the_lease])
async def test_a_slow_request_that_lost_its_reservation_leaves_the_next_one_of_its_key_alone(store: RecordStore,
                                                                                             lose, finish):
    """A slow request's reservation expires (or its lease runs out) and a retry reserves the key afresh: when the
    slow request finishes, the retry's reservation is intact, and the retry's answer is the one kept, with its
    owners only."""
    first = await store.reserve_idempotent(KEY, "retry", lease_seconds=60)
    assert first.state == "reserved" and first.reserved_at is not None
    second = await lose(store)
    assert second.state == "reserved" and second.reserved_at is not None

    await finish(store, first.reserved_at)

    assert (await store.reserve_idempotent(KEY, "retry", lease_seconds=60)).state == "pending"
    await store.complete_idempotent(KEY, 201, '{"second": true}', [IdempotentOwner("bob")],
                                    reserved_at=second.reserved_at)
    # an answer, once stored, is not overwritten by its request finishing again
    await store.complete_idempotent(KEY, 500, '{"late": true}', [IdempotentOwner("carol")],
                                    reserved_at=second.reserved_at)
    await store.erase_owner("alice")
    await store.erase_owner("carol")
    replay = await store.reserve_idempotent(KEY, "retry", lease_seconds=60)
    assert (replay.state, replay.status, replay.body) == ("done", 201, '{"second": true}')
    await store.erase_owner("bob")
    assert (await store.reserve_idempotent(KEY, "retry", lease_seconds=60)).state == "reserved"
