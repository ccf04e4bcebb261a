"""Events about work rather than records (extraction.completed / extraction.failed) reach webhooks through one call,
`MemoryService.announce`, on both backends, filtered like memory changes: by event, user and agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mem0_service.app import create_app
from mem0_service.state import SERVICE
from mem0_service.webhooks.events import WebhookEvent
from mem0_service.webhooks.setup import WEBHOOK_STORE
from tests.inprocess.conftest import BACKENDS, InProcessApi, backend_settings


@pytest.fixture(params=BACKENDS)
async def api(request: pytest.FixtureRequest, aiohttp_client, tmp_path: Path) -> AsyncIterator[InProcessApi]:
    with backend_settings(request.param, tmp_path, webhook_allow_private=True) as settings:
        # background=False: nothing is delivered, so the queue can be read as it was filled
        client = await aiohttp_client(create_app(settings, background=False))
        yield InProcessApi(client, settings.api_keys[0])


async def _hook(api: InProcessApi, **fields) -> str:
    status, body = await api.call("POST", "/api/webhooks", json={"url": "http://127.0.0.1:9/hook", **fields})
    assert status == 201, body
    return body["id"]


async def _queued(api: InProcessApi, webhook_id: str) -> list[dict]:
    status, body = await api.call("GET", f"/api/webhooks/{webhook_id}/deliveries")
    assert status == 200, body
    return body["deliveries"]


async def test_announced_work_reaches_the_webhooks_that_may_see_it(api: InProcessApi):
    everyone = await _hook(api)
    ann = await _hook(api, user_id="ann", events=["extraction.completed", "extraction.failed"])
    ann_planner = await _hook(api, user_id="ann", agent_id="planner")
    memories_only = await _hook(api, events=["memory.created"])
    service = api.client.server.app[SERVICE]

    queued = await service.announce(WebhookEvent("extraction.completed", user_id="ann", agent_id="support",
                                                 data={"event_id": "evt-1", "events": [{"event": "ADD"}]}))
    assert queued == 2  # everyone and ann; not ann's planner agent, not the memory-only webhook
    assert await service.announce(WebhookEvent("extraction.failed", user_id="bob", data={"reason": "model down"})) == 1

    assert [d["event"] for d in await _queued(api, everyone)] == ["extraction.failed", "extraction.completed"]
    [completed] = await _queued(api, ann)
    assert completed["event"] == "extraction.completed" and completed["status"] == "pending"
    assert await _queued(api, ann_planner) == []
    assert await _queued(api, memories_only) == []


async def test_a_memory_change_is_queued_with_the_write(api: InProcessApi):
    hook = await _hook(api, user_id="cid")
    memory = await api.create("cid", "Speaks Portuguese")
    await api.create("dan", "Speaks Danish")
    status, _ = await api.call("DELETE", f"/api/memories/{memory['id']}?erase=true")
    assert status == 200
    queued = await _queued(api, hook)
    assert [(d["event"], d["memory_id"]) for d in queued] == [("memory.deleted", memory["id"]),
                                                              ("memory.created", memory["id"])]
    created, deleted = await api.client.server.app[WEBHOOK_STORE].pending(hook, limit=10)  # oldest first
    # erasure blanks the contents of what was not delivered yet
    assert created.content is None and deleted.content is None and deleted.memory_id == memory["id"]
