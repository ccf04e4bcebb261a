"""The embedded record store's keyword search: one user's words only, kept in step with writes, across upgrades.

Searches go through the SQLite full-text index, which finds a user's rows by an owner token; these tests pin
what that must never change: another user's memories never come back, whatever the ids look like."""

from __future__ import annotations

import sqlite3

import mem0_service.stores.sqlite as sqlite_store
from mem0_service.backends import open_backends
from mem0_service.config import Settings
from mem0_service.core.memory import Scope
from mem0_service.core.service import NewMemory

# Ids the API accepts that tokenize badly: no word characters at all, one id a prefix of another, non-Latin
# letters, and ids that differ only by case or punctuation.
AWKWARD_IDS = ["+.:-", "ann", "ann-1", "ann.1", "Ann", "пользователь", "user@example.com", "user-example-com"]


async def _ids_found(service, user_id: str, query: str) -> set[str]:
    return {i for i, _ in await service.store.keyword_search(Scope(user_id=user_id), query, limit=50)}


async def test_each_user_finds_only_their_own_memories_whatever_their_id_looks_like(tmp_path):
    async with open_backends(Settings(data_dir=tmp_path, api_keys=["k"])) as service:
        own = {}
        for user in AWKWARD_IDS:
            memory, _ = await service.create(NewMemory(user_id=user, content=f"Keeps a parrot named Kiwi ({user})"))
            own[user] = memory.id
        for user in AWKWARD_IDS:
            assert await _ids_found(service, user, "parrot Kiwi") == {own[user]}, user
        assert await _ids_found(service, "nobody", "parrot") == set()


async def test_updates_and_deletes_reach_the_keyword_index(tmp_path):
    async with open_backends(Settings(data_dir=tmp_path, api_keys=["k"])) as service:
        boat, _ = await service.create(NewMemory(user_id="u", content="The user's boat is called Albatross"))
        bike, _ = await service.create(NewMemory(user_id="u", content="Rides a red bicycle to work"))
        await service.update(boat.id, content="Sold the boat; now sails a dinghy named Petrel")
        await service.delete(bike.id)

        assert await _ids_found(service, "u", "Albatross") == set()
        assert await _ids_found(service, "u", "Petrel") == {boat.id}
        assert await _ids_found(service, "u", "bicycle") == set()
    with sqlite3.connect(tmp_path / "memories.sqlite3") as db:
        db.execute("INSERT INTO memories_fts (memories_fts, rank) VALUES ('integrity-check', 1)")


async def test_memories_written_before_the_owner_token_upgrade_stay_findable(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path, api_keys=["k"])
    every_migration = sqlite_store.migrations
    monkeypatch.setattr(sqlite_store, "migrations", lambda dialect: [m for m in every_migration(dialect) if m[0] != 4])
    async with open_backends(settings) as before:
        old = {user: (await before.create(NewMemory(user_id=user, content=f"Learns Italian on Tuesdays ({user})")))[0]
               for user in ("user-00042", "user-00043", "+.:-")}
    monkeypatch.setattr(sqlite_store, "migrations", every_migration)

    async with open_backends(settings) as after:
        for user, memory in old.items():
            assert await _ids_found(after, user, "Italian lessons") == {memory.id}, user
        added, _ = await after.create(NewMemory(user_id="user-00042", content="Switched from Italian to Spanish"))
        assert await _ids_found(after, "user-00042", "Italian") == {old["user-00042"].id, added.id}
        await after.delete(old["user-00043"].id)
        assert await _ids_found(after, "user-00043", "Italian") == set()


async def test_a_narrow_scope_finds_its_matches_beyond_the_users_best_two_hundred(tmp_path):
    # Every memory holds the word once, so they tie and the session's three, written last, rank after the
    # 250 others: only the look past the first RESCORED matches can find them.
    async with open_backends(Settings(data_dir=tmp_path, api_keys=["k"])) as service:
        for n in range(250):
            await service.create(NewMemory(user_id="u", content=f"Lighthouse log entry {n}", session_id="log"))
        trip = set()
        for n in range(3):
            memory, _ = await service.create(NewMemory(user_id="u", content=f"Lighthouse trip day {n}",
                                                       session_id="trip"))
            trip.add(memory.id)
        assert sqlite_store.sqlite_keywords.RESCORED < 250
        found = await service.store.keyword_search(Scope(user_id="u", session_id="trip"), "lighthouse", limit=5)
        assert {i for i, _ in found} == trip
        everything = await service.store.keyword_search(Scope(user_id="u"), "lighthouse", limit=5)
        assert len(everything) == 5 and not {i for i, _ in everything} & trip
