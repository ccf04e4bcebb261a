"""A user with more memories than any scan cap: the platform routes answer completely, count and page correctly,
and delete exactly what a filter names, on both backends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from mem0_service.core.memory import Memory, MemoryType, new_memory_id
from mem0_service.state import RECORDS, SERVICE

# 20,000 memories per backend: in `make test`, left out of `make test-fast`
pytestmark = pytest.mark.scale

USER = "big-user"
TOTAL = 20_000
BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def group(position: int) -> str:
    return "b" if position % 4 == 0 else "a"  # 5,000 b and 15,000 a


async def _fill(api) -> list[Memory]:
    """20,000 memories written straight into the record store. The routes under test only list and delete, so their
    index work is marked done rather than embedding 20,000 texts."""
    memories = [Memory(id=new_memory_id(), user_id=USER, content=f"note number {i}", type=MemoryType.fact,
                       created_at=BASE + timedelta(seconds=i), updated_at=BASE + timedelta(seconds=i),
                       metadata={"group": group(i), "categories": ["even" if i % 2 == 0 else "odd"]})
              for i in range(TOTAL)]
    store = api.client.app[SERVICE].store
    for start in range(0, TOTAL, 2000):
        await store.insert(memories[start:start + 2000], deduplicate=False)
    while pending := await store.pending_index_ops(5000):
        await store.ack_index_ops([op.seq for op in pending])
    return memories


def newest_first(memories: list[Memory]) -> list[str]:
    return [m.id for m in sorted(memories, key=lambda m: (m.created_at, m.id), reverse=True)]


async def test_a_user_beyond_ten_thousand_memories_gets_complete_paged_answers(api):
    memories = await _fill(api)

    status, listed = await api.call("GET", "/v1/memories/", params={"user_id": USER})
    assert status == 200
    assert len(listed) == TOTAL
    assert [m["id"] for m in listed] == newest_first(memories)

    in_a = newest_first([m for m in memories if m.metadata["group"] == "a"])
    filters = {"AND": [{"user_id": USER}, {"metadata": {"group": "a"}}]}
    status, first = await api.call("POST", "/v3/memories/", params={"page": "1", "page_size": "200"},
                                   json={"filters": filters})
    assert status == 200, first
    assert first["count"] == 15_000 and first["previous"] is None and first["next"]
    assert [m["id"] for m in first["results"]] == in_a[:200]
    status, last = await api.call("POST", "/v3/memories/", params={"page": "75", "page_size": "200"},
                                  json={"filters": filters})
    assert last["count"] == 15_000 and last["next"] is None
    assert [m["id"] for m in last["results"]] == in_a[-200:]
    status, beyond = await api.call("POST", "/v3/memories/", params={"page": "76", "page_size": "200"},
                                    json={"filters": filters})
    assert beyond["count"] == 15_000 and beyond["results"] == []

    # OR, NOT, categories and dates together, counted by the database
    late = (BASE + timedelta(seconds=12_000)).isoformat()
    mixed = {"AND": [{"user_id": USER}, {"OR": [{"categories": {"in": ["even"]}}, {"created_at": {"gte": late}}]},
                     {"NOT": [{"metadata": {"group": "b"}}]}]}
    expected = [m for m in memories if (m.metadata["categories"] == ["even"] or m.created_at >= BASE + timedelta(
        seconds=12_000)) and m.metadata["group"] != "b"]
    status, page = await api.call("POST", "/v2/memories/", params={"page": "3", "page_size": "50"},
                                  json={"filters": mixed})
    assert status == 200, page
    assert page["count"] == len(expected)
    assert [m["id"] for m in page["results"]] == newest_first(expected)[100:150]

    status, deleted = await api.call("DELETE", "/v1/memories/",
                                     params={"user_id": USER, "filters": json.dumps({"metadata": {"group": "b"}})})
    assert status == 200, deleted
    assert deleted["deleted"] == 5_000
    status, rest = await api.call("POST", "/v3/memories/", params={"page": "1", "page_size": "10"},
                                  json={"filters": {"user_id": USER}})
    assert rest["count"] == 15_000
    assert [m["id"] for m in rest["results"]] == in_a[:10]


async def test_deleting_an_agent_run_or_app_of_a_big_user_takes_exactly_their_memories(api, monkeypatch):
    """Entity deletes go to the record store owner by owner: 20,000 memories are never read into the service."""
    entity = {0: {"agent_id": "planner"}, 1: {"session_id": "run-1"}, 2: {"agent_id": "planner"},
              3: {"metadata": {"app_id": "crm"}}}
    memories = [Memory(id=new_memory_id(), user_id=USER, content=f"note number {i}", type=MemoryType.fact,
                       created_at=BASE + timedelta(seconds=i), updated_at=BASE + timedelta(seconds=i),
                       **entity[i % 4]) for i in range(TOTAL)]
    memories.append(Memory(id=new_memory_id(), user_id="small-user", content="the planner's note", type=MemoryType.fact,
                           created_at=BASE, updated_at=BASE, agent_id="planner"))
    store = api.client.app[RECORDS]
    for start in range(0, len(memories), 2000):
        await store.insert(memories[start:start + 2000], deduplicate=False)
    while pending := await store.pending_index_ops(5000):
        await store.ack_index_ops([op.seq for op in pending])

    def walk_everything(*args, **kwargs):
        raise AssertionError("an entity delete read every memory")

    monkeypatch.setattr(type(store), "iter_all", walk_everything)
    small_only = await api.key(user_id="small-user")

    status, body = await api.call("DELETE", "/v2/entities/agent/planner/", key=small_only)
    assert (status, body["deleted"]) == (200, 1)
    for kind, name, expected in [("agent", "planner", 10_000), ("run", "run-1", 5_000), ("app", "crm", 5_000)]:
        status, body = await api.call("DELETE", f"/v2/entities/{kind}/{name}/")
        assert status == 200, body
        assert body == {"message": "Entity deleted successfully.", "deleted": expected}
        status, body = await api.call("DELETE", f"/v2/entities/{kind}/{name}/")
        assert status == 404, body
    status, rest = await api.call("GET", "/api/memories/user/big-user", params={"limit": "1"})
    assert rest["total"] == 0
