"""SQLite keeps each user's number of memories beside the memories (the N of keyword evidence's IDF, read on every
search): it must equal a count of the rows after every kind of write, and keyword search must rank as it does on
a fresh count."""

from __future__ import annotations

import pytest

from mem0_service.app import create_app
from mem0_service.state import RECORDS
from tests.inprocess.conftest import InProcessApi, backend_settings


@pytest.fixture
async def api(aiohttp_client, tmp_path) -> InProcessApi:
    with backend_settings("sqlite", tmp_path) as settings:
        client = await aiohttp_client(create_app(settings, background=False))
        yield InProcessApi(client, settings.api_keys[0])


async def _kept_and_counted(api: InProcessApi) -> tuple[dict[str, int], dict[str, int]]:
    store = api.client.server.app[RECORDS]

    def read(c):
        kept = dict(c.execute("SELECT user_id, memories FROM user_memory_counts").fetchall())
        counted = dict(c.execute("SELECT user_id, COUNT(*) FROM memories GROUP BY user_id").fetchall())
        return kept, counted
    return await store._run(read)


async def _consistent(api: InProcessApi) -> dict[str, int]:
    kept, counted = await _kept_and_counted(api)
    assert kept == counted
    return kept


async def test_the_kept_count_follows_every_write(api):
    for n in range(4):
        await api.create("ann", f"Ann's note number {n} about gardening")
    await api.create("bob", "Bob plays the cello")
    assert await _consistent(api) == {"ann": 4, "bob": 1}

    status, body = await api.call("POST", "/api/memories/batch", json={"memories": [
        {"user_id": "bob", "content": f"Bob's batch fact {n}"} for n in range(3)]})
    assert status in (200, 201, 207), body
    await api.create("ann", "Ann's note number 0 about gardening")  # a duplicate: nothing new stored
    assert await _consistent(api) == {"ann": 4, "bob": 4}

    listed = (await api.call("GET", "/api/memories/user/ann"))[1]["memories"]
    status, _ = await api.call("DELETE", f"/api/memories/{listed[0]['id']}")
    assert status == 200
    status, _ = await api.call("PUT", f"/api/memories/{listed[1]['id']}", json={"content": "Ann now grows tomatoes"})
    assert status == 200
    assert await _consistent(api) == {"ann": 3, "bob": 4}

    # A restore brings a memory back under its archived owner by updating the row in place.
    store = api.client.server.app[RECORDS]
    await store._run(lambda c: c.execute("UPDATE memories SET user_id = 'cat' WHERE id = ?", (listed[1]["id"],)))
    assert await _consistent(api) == {"ann": 2, "bob": 4, "cat": 1}

    status, _ = await api.call("DELETE", "/api/memories/user/bob")
    assert status == 200
    assert await _consistent(api) == {"ann": 2, "cat": 1}  # the user's id leaves no row behind


async def test_keyword_evidence_reads_the_kept_count(api):
    for n in range(6):
        await api.create("dan", f"Dan went hiking in the hills, trip {n}")
    await api.create("dan", "Dan's sister is called Greta")
    status, found = await api.call("POST", "/api/memories/search", json={
        "user_id": "dan", "query": "Greta", "relevance_threshold": 0.0, "limit": 1, "explain": True})
    assert status == 200, found
    hit = found["memories"][0]
    assert hit["content"] == "Dan's sister is called Greta"
    assert hit["explanation"]["keyword_evidence"] > 0
    # With the kept count lost, the rare name would count as common and its evidence would vanish.
    store = api.client.server.app[RECORDS]
    await store._run(lambda c: c.execute("UPDATE user_memory_counts SET memories = 1 WHERE user_id = 'dan'"))
    status, again = await api.call("POST", "/api/memories/search", json={
        "user_id": "dan", "query": "Greta", "relevance_threshold": 0.0, "limit": 1, "explain": True})
    assert again["memories"][0]["explanation"]["keyword_evidence"] < hit["explanation"]["keyword_evidence"]
