"""Events about work rather than records (extraction.completed / extraction.failed) reach webhooks through one call,
`MemoryService.announce`, on both backends, filtered like memory changes: by event, user and agent. A delivery
connects to the addresses its target was checked with, whatever a later DNS answer says."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mem0_service.app import create_app
from mem0_service.state import SERVICE, SETTINGS
from mem0_service.webhooks import targets
from mem0_service.webhooks.dispatcher import Dispatcher
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


class Receiver:
    """A webhook receiver on one loopback address; remembers the Host header of every request it got."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.server: TestServer | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        self.hosts.append(request.headers["Host"])
        return web.Response(status=204)

    async def start(self, host: str, port: int = 0) -> int:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.server = TestServer(app, host=host, port=port)
        await self.server.start_server()
        return self.server.port

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[Receiver, Receiver, int]]:
    """A "public" receiver on 127.0.0.2 and a "private" one on 127.0.0.1, on the same port."""
    public, private = Receiver(), Receiver()
    for _ in range(20):
        port = await public.start("127.0.0.2")
        try:
            await private.start("127.0.0.1", port)
            break
        except OSError:  # that port is taken on 127.0.0.1: try another
            await public.close()
    else:
        pytest.fail("no port free on both loopback addresses")
    yield public, private, port
    await public.close()
    await private.close()


@pytest.fixture
async def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`rebind.test` answers 127.0.0.2 to its first lookup and 127.0.0.1 to every later one; 127.0.0.2 counts as a
    public address here, 127.0.0.1 stays the private network. Returns the answers given, in order."""
    answers: list[str] = []
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.test":
            return await real(host, port, *args, **kwargs)
        answers.append("127.0.0.1" if answers else "127.0.0.2")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[-1], port or 0))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(targets, "_private", lambda address: address != "127.0.0.2")
    return answers


async def _deliver(api: InProcessApi, *, allow_private: bool) -> Dispatcher:
    app = api.client.server.app
    dispatcher = Dispatcher(app[WEBHOOK_STORE], app[SETTINGS].model_copy(
        update={"webhook_allow_private": allow_private, "webhook_timeout": 5.0}))
    async with dispatcher.client() as session:
        await dispatcher.run_once(session)
    return dispatcher


async def test_a_delivery_connects_to_the_address_that_was_checked(api: InProcessApi, receivers, rebinding_dns):
    public, private, port = receivers
    hook = await _hook(api, url=f"http://rebind.test:{port}/hook")  # (the fixture's settings skip the lookup here)
    await api.create("eve", "Lives in Lisbon")

    dispatcher = await _deliver(api, allow_private=False)

    # checked once (public), then sent there: the later answer (the private network) is never asked for nor used
    assert rebinding_dns == ["127.0.0.2"]
    assert (dispatcher.sent, public.hosts, private.hosts) == (1, [f"rebind.test:{port}"], [])
    assert [d["status"] for d in await _queued(api, hook)] == ["delivered"]

    # the next delivery checks again, gets the private answer and is refused before connecting anywhere
    await api.create("eve", "Works in Porto")
    dispatcher = await _deliver(api, allow_private=False)
    assert rebinding_dns == ["127.0.0.2", "127.0.0.1"]
    assert (dispatcher.failed, len(public.hosts), private.hosts) == (1, 1, [])
    latest = (await _queued(api, hook))[0]
    assert latest["status"] == "pending" and "private" in latest["last_error"]


async def test_allowed_private_targets_are_still_reached_by_name(api: InProcessApi, receivers, rebinding_dns):
    public, private, port = receivers
    rebinding_dns.append("first answer already given")  # every lookup now answers 127.0.0.1
    await _hook(api, url=f"http://rebind.test:{port}/hook")
    await api.create("eve", "Lives in Lisbon")

    dispatcher = await _deliver(api, allow_private=True)

    assert (dispatcher.sent, public.hosts, private.hosts) == (1, [], [f"rebind.test:{port}"])
