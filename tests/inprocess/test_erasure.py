"""GDPR erasure leaves nothing of the user's content behind, whichever door it comes through (the REST route, mem0's
entity delete, the MCP tool) and on both backends: every table of the record store is searched for the erased
words afterwards, and a request replayed with an Idempotency-Key used before the erasure is a fresh create."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mem0_service.app import create_app
from mem0_service.core.access import EVERYTHING
from mem0_service.core.job_queue import NewJob
from mem0_service.core.memory import utcnow
from mem0_service.state import RECORDS, SERVICE
from mem0_service.stores.base import IndexOp
from mem0_service.webhooks.events import WebhookEvent
from mem0_service.webhooks.setup import WEBHOOK_STORE
from tests.inprocess.conftest import BACKENDS, InProcessApi, backend_settings

# One word each, so that it is found wherever it went: a text column, JSON, or a full-text index's terms.
ALICE_WORD, BOB_WORD = "zanzibarquokka", "kalahariaardvark"


@pytest.fixture(params=BACKENDS)
async def api(request: pytest.FixtureRequest, aiohttp_client, tmp_path: Path) -> AsyncIterator[InProcessApi]:
    with backend_settings(request.param, tmp_path, webhook_allow_private=True) as settings:
        # background=False: webhook deliveries stay in the log as they were queued
        client = await aiohttp_client(create_app(settings, background=False))
        yield InProcessApi(client, settings.api_keys[0])


async def _post(api: InProcessApi, path: str, body: dict, key: str) -> tuple[int, dict, bool]:
    headers = {"Authorization": f"Bearer {api.admin_key}", "Idempotency-Key": key}
    async with api.client.post(path, json=body, headers=headers) as response:
        return response.status, await response.json(), response.headers.get("Idempotent-Replayed") == "true"


async def _leave_traces(api: InProcessApi, user: str, word: str) -> dict[str, Any]:
    """Put the user's word everywhere the service keeps something: memories, history, retried answers, jobs (done
    and dead), message logs, webhook deliveries (pending, delivered, about work), quarantined index work."""
    service, webhooks = api.client.server.app[SERVICE], api.client.server.app[WEBHOOK_STORE]
    created = {"user_id": user, "content": f"Passport {word} 4471"}
    status, memory, _ = await _post(api, "/api/memories", created, f"create-{user}")
    assert status == 201, memory
    status, batch, _ = await _post(api, "/api/memories/batch",
                                   {"memories": [{"user_id": user, "content": f"Lives in {word} street"}]},
                                   f"batch-{user}")
    assert status == 201, batch
    status, queued, _ = await _post(api, "/api/memories", {"user_id": user, "async": True, "infer": False,
                                                           "messages": [{"role": "user", "content": f"I am {word}"}]},
                                    f"async-{user}")
    assert status == 202, queued
    await service.store.enqueue_job(NewJob(kind="extraction", user_id=user, status="failed",
                                           payload={"messages": [{"role": "user", "content": f"dead {word}"}]}))
    status, _ = await api.call("POST", "/api/sessions/s1/messages",
                               json={"user_id": user, "messages": [{"role": "user", "content": f"Log {word}"}]})
    assert status in (200, 201)
    gone = await api.create(user, f"Formerly {word} avenue")
    status, _ = await api.call("PUT", f"/api/memories/{gone['id']}", json={"content": f"Then {word} road"})
    assert status == 200
    # quarantined index work, of a memory deleted without erasure and of one still there
    await service.store.quarantine([IndexOp(seq=0, memory_id=gone["id"], op="upsert")], f"refused {word}")
    status, _ = await api.call("DELETE", f"/api/memories/{gone['id']}")  # no erase: its history keeps the text
    assert status == 200
    await service.store.quarantine([IndexOp(seq=0, memory_id=memory["id"], op="upsert")], f"refused {word}")
    await service.announce(WebhookEvent("extraction.completed", user_id=user, data={"facts": [f"{word} fact"]}))
    hook = (await webhooks.list(EVERYTHING))[0]
    first = (await webhooks.pending(hook.id, limit=1))[0]
    await webhooks.delivered(first, response_status=200, now=utcnow())  # a delivered one stays in the log
    return {"memory": memory, "created": created, "gone": gone["id"], "batch": batch["results"][0]["memory"]["id"]}


async def _tables_holding(api: InProcessApi, word: str) -> list[str]:
    """Every table of the record store that still holds `word` anywhere in a row (text, JSON or binary)."""
    store = api.client.server.app[RECORDS]
    if store.name == "sqlite":
        def scan(c) -> list[str]:
            names = [n for (n,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            found = []
            for name in names:
                rows = c.execute(f'SELECT * FROM "{name}"').fetchall()
                if any(word in (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)).casefold()
                       for row in rows for v in row):
                    found.append(name)
            return found
        return await store._run(scan)
    async with store._tx() as cur:
        await cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                          "AND table_type = 'BASE TABLE'")
        found = []
        for (name,) in await cur.fetchall():
            await cur.execute(f'SELECT count(*) FROM "{name}" t WHERE lower(t::text) LIKE %s', (f"%{word}%",))
            if (await cur.fetchone())[0]:
                found.append(name)
        return found


async def _file_holds(api: InProcessApi, word: str) -> bool:
    """Whether the SQLite database file still holds `word` in any page, free ones included (after a checkpoint, so
    that the file is what a copy of the data directory would hold)."""
    store = api.client.server.app[RECORDS]
    await store._run(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
    return any(word.encode() in path.read_bytes().lower()
               for path in store.path.parent.glob(store.path.name + "*"))


async def _erase_by_rest(api: InProcessApi, user: str) -> None:
    status, body = await api.call("DELETE", f"/api/memories/user/{user}")
    assert status == 200 and body["deleted"] == 3, body


async def _erase_by_entity(api: InProcessApi, user: str) -> None:
    status, body = await api.call("DELETE", f"/v2/entities/user/{user}/")
    assert status == 200 and body["deleted"] == 3, body


async def _erase_by_mcp(api: InProcessApi, user: str) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "forget_everything", "arguments": {"confirm": True}}}
    status, body = await api.call("POST", f"/mcp?user_id={user}", json=call,
                                  headers={"Accept": "application/json, text/event-stream"})
    assert status == 200 and not body["result"].get("isError"), body
    assert body["result"]["structuredContent"]["deleted"] == 3, body


@pytest.mark.parametrize("erase", [_erase_by_rest, _erase_by_entity, _erase_by_mcp], ids=["rest", "entity", "mcp"])
async def test_erasure_leaves_no_trace_of_the_user(api: InProcessApi, erase):
    status, _ = await api.call("POST", "/api/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    assert status == 201
    alice = await _leave_traces(api, "alice", ALICE_WORD)
    bob = await _leave_traces(api, "bob", BOB_WORD)
    assert set(await _tables_holding(api, ALICE_WORD)) >= {"memories", "memory_history", "idempotency_keys", "jobs",
                                                           "session_messages", "webhook_deliveries",
                                                           "index_quarantine"}

    await erase(api, "alice")

    assert await _tables_holding(api, ALICE_WORD) == []
    service = api.client.server.app[SERVICE]
    if service.store.name == "sqlite":
        assert not await _file_holds(api, ALICE_WORD) and await _file_holds(api, BOB_WORD)
    await service.indexer.flush()
    assert await service.index.fetch_vectors([alice["memory"]["id"], alice["batch"], alice["gone"]]) == {}
    # bob's traces are untouched, his retried create still replays its first answer
    assert {"memories", "idempotency_keys", "session_messages"} <= set(await _tables_holding(api, BOB_WORD))
    status, replayed, was_replayed = await _post(api, "/api/memories", bob["created"], "create-bob")
    assert (status, replayed["id"], was_replayed) == (201, bob["memory"]["id"], True)


async def test_a_request_retried_after_erasure_is_a_fresh_create(api: InProcessApi):
    body = {"user_id": "alice", "content": f"Passport {ALICE_WORD} 4471"}
    status, first, _ = await _post(api, "/api/memories", body, "retry-me")
    assert status == 201
    status, again, replayed = await _post(api, "/api/memories", body, "retry-me")
    assert (status, again["id"], replayed) == (201, first["id"], True)

    status, _ = await api.call("DELETE", "/api/memories/user/alice")
    assert status == 200

    # the stored answer went with the user: the retry does the work again instead of handing the old answer back
    status, retried, replayed = await _post(api, "/api/memories", body, "retry-me")
    assert status == 201 and not replayed and retried["id"] != first["id"]
    status, listed = await api.call("GET", "/api/memories/user/alice")
    assert [m["id"] for m in listed["memories"]] == [retried["id"]]
    # and that answer replays again, as any other
    status, again, replayed = await _post(api, "/api/memories", body, "retry-me")
    assert (again["id"], replayed) == (retried["id"], True)


async def test_erasing_one_memory_drops_the_answers_that_show_it(api: InProcessApi):
    body = {"memories": [{"user_id": "carol", "content": f"Secret {ALICE_WORD}"},
                         {"user_id": "carol", "content": "Likes tea"}]}
    status, batch, _ = await _post(api, "/api/memories/batch", body, "carol-batch")
    assert status == 201
    secret = batch["results"][0]["memory"]["id"]
    status, _ = await api.call("DELETE", f"/api/memories/{secret}?erase=true")
    assert status == 200
    assert await _tables_holding(api, ALICE_WORD) == []
    status, again, replayed = await _post(api, "/api/memories/batch", body, "carol-batch")
    assert status == 201 and not replayed and again["created"] == 1 and again["existing"] == 1


async def test_a_key_bound_to_an_agent_erases_that_agents_part_only(api: InProcessApi):
    planner = await api.key(user_id="alice", agent_id="planner")
    mine = {"user_id": "alice", "agent_id": "planner", "content": f"Planner knows {ALICE_WORD}"}
    theirs = {"user_id": "alice", "content": f"Alice herself said {BOB_WORD}"}
    status, _, _ = await _post(api, "/api/memories", mine, "planner-create")
    assert status == 201
    status, kept, _ = await _post(api, "/api/memories", theirs, "alice-create")
    assert status == 201

    status, body = await api.call("DELETE", "/api/memories/user/alice?agent_id=planner", key=planner)
    assert status == 200 and body["deleted"] == 1, body

    assert await _tables_holding(api, ALICE_WORD) == []
    status, replayed, was_replayed = await _post(api, "/api/memories", theirs, "alice-create")
    assert (status, replayed["id"], was_replayed) == (201, kept["id"], True)
    status, again, was_replayed = await _post(api, "/api/memories", mine, "planner-create")
    assert status == 201 and not was_replayed
