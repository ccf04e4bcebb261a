"""Webhooks through the real HTTP API and real service processes, on both backends: every committed change is
delivered once, in order per memory, signed; a receiver that is down gets everything when it comes back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mem0_service.webhooks.signing import verify
from tests.support.api import Api
from tests.support.fixtures import BACKENDS, backend_process, unique_user
from tests.support.service_process import ServiceProcess
from tests.support.webhook_receiver import WebhookReceiver

FAST_RETRIES = {"MEM0_WEBHOOK_ALLOW_PRIVATE": "true", "MEM0_WEBHOOK_RETRY_BASE": "0.2", "MEM0_WEBHOOK_RETRY_MAX": "1"}


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def hooked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with backend_process(request.param, tmp_path_factory.mktemp(f"hooks-{request.param}"), FAST_RETRIES) as service:
        yield service


@pytest.fixture
def api(hooked: ServiceProcess) -> Api:
    return Api(hooked.url, hooked.api_key)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def register(api: Api, url: str, key: str | None = None, **fields) -> dict:
    response = api.post("/api/webhooks", json={"url": url, **fields}, key=key)
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(api: Api, webhook_id: str, **query) -> list[dict]:
    response = api.get(f"/api/webhooks/{webhook_id}/deliveries", params=query)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


def test_a_receiver_down_then_up_gets_every_event_once_in_order_per_memory(api: Api, receiver: WebhookReceiver):
    user = unique_user("hooks")
    hook = register(api, receiver.url, user_id=user)  # the receiver is not listening yet
    first = api.create(user, "I prefer tea in the morning")
    second = api.create(user, "My favourite city is Lisbon")
    assert api.put(f"/api/memories/{first['id']}", json={"content": "I prefer green tea"}).status_code == 200
    assert api.put(f"/api/memories/{second['id']}", json={"metadata": {"checked": True}}).status_code == 200
    assert api.delete(f"/api/memories/{first['id']}").status_code == 200
    api.create(unique_user("someone-else"), "not this user's business")

    # While the receiver is down, the log shows the failed attempts and nothing is lost.
    failed = _wait(lambda: [d for d in deliveries(api, hook["id"]) if d["attempts"] > 0])
    assert failed[0]["status"] == "pending" and failed[0]["last_error"]
    assert _gauge(api, "mem0_webhook_deliveries_pending") >= 5

    receiver.start()
    arrived = receiver.wait_for(5)
    _wait(lambda: all(d["status"] == "delivered" for d in deliveries(api, hook["id"])) or None)
    assert len(receiver.received) == 5  # every queued delivery reached the receiver once
    events = [r.json for r in arrived]
    assert len({e["id"] for e in events}) == 5
    by_memory = {m: [e["event"] for e in events if e["data"]["memory"]["id"] == m] for m in (first["id"], second["id"])}
    assert by_memory[first["id"]] == ["memory.created", "memory.updated", "memory.deleted"]
    assert by_memory[second["id"]] == ["memory.created", "memory.updated"]
    updated = next(e for e in events if e["event"] == "memory.updated" and e["data"]["memory"]["id"] == first["id"])
    assert updated["data"]["memory"]["content"] == "I prefer green tea"
    assert updated["data"]["previous_content"] == "I prefer tea in the morning"
    assert {e["data"]["user_id"] for e in events} == {user}
    for delivery in arrived:
        headers = {k.lower(): v for k, v in delivery.headers.items()}
        assert verify(hook["secret"], delivery.body, headers["x-mem0-timestamp"], headers["x-mem0-signature"])
        assert not verify("whsec_" + "x" * 40, delivery.body, headers["x-mem0-timestamp"], headers["x-mem0-signature"])
        assert headers["x-mem0-delivery"] == delivery.json["id"]
        assert headers["x-mem0-event"] == delivery.json["event"]


def test_acknowledged_changes_survive_a_crash_of_the_service(hooked: ServiceProcess, api: Api,
                                                             receiver: WebhookReceiver):
    user = unique_user("hooks")
    hook = register(api, receiver.url, user_id=user)  # the receiver is down
    written = [api.create(user, f"fact number {n} before the crash")["id"] for n in range(3)]
    hooked.kill()  # SIGKILL: whatever was only in memory is gone
    hooked.start()
    receiver.start()
    arrived = receiver.wait_for(3)
    _wait(lambda: all(d["status"] == "delivered" for d in deliveries(api, hook["id"])) or None)
    assert len(receiver.received) == 3
    assert [r.json["data"]["memory"]["id"] for r in arrived] == written  # in commit order


def test_a_change_that_does_not_happen_is_never_announced(api: Api, receiver: WebhookReceiver):
    receiver.start()
    user = unique_user("hooks")
    hook = register(api, receiver.url, user_id=user, events=["memory.created", "memory.updated"])
    memory = api.create(user, "Allergic to peanuts")
    api.create(user, "Allergic to peanuts")  # an exact duplicate: the stored memory is answered, nothing changes
    stale = api.put(f"/api/memories/{memory['id']}", json={"content": "Allergic to nothing"},
                    headers={"If-Match": '"v999"'})
    assert stale.status_code == 412  # refused: nothing written, nothing announced
    assert api.put(f"/api/memories/{memory['id']}", json={"content": "Allergic to walnuts"}).status_code == 200
    assert api.delete(f"/api/memories/{memory['id']}").status_code == 200  # not subscribed
    received = receiver.wait_for(2)
    _wait(lambda: all(d["status"] == "delivered" for d in deliveries(api, hook["id"])) or None)
    assert [r.json["event"] for r in receiver.received] == ["memory.created", "memory.updated"]
    assert received[1].json["data"]["memory"]["content"] == "Allergic to walnuts"
    assert len(deliveries(api, hook["id"])) == 2


def test_a_user_bound_key_watches_its_own_user_only(api: Api, receiver: WebhookReceiver):
    receiver.start()
    user, other = unique_user("hooks"), unique_user("hooks")
    key = api.post("/api/keys", json={"user_id": user}).json()["key"]
    refused = api.post("/api/webhooks", json={"url": receiver.url, "user_id": other}, key=key)
    assert refused.status_code == 403 and refused.json()["field"] == "user_id"
    hook = register(api, receiver.url, key=key)
    assert hook["user_id"] == user  # filled in from the key: never more than the key reads
    everyone = register(api, receiver.url)  # an admin's webhook for every user
    assert everyone["user_id"] is None
    assert [h["id"] for h in api.get("/api/webhooks", key=key).json()["webhooks"]] == [hook["id"]]
    assert api.get(f"/api/webhooks/{everyone['id']}", key=key).status_code == 404
    assert api.delete(f"/api/webhooks/{everyone['id']}", key=key).status_code == 404
    assert api.get(f"/api/webhooks/{everyone['id']}/deliveries", key=key).status_code == 404

    api.create(other, "the other user's secret")
    api.create(user, "the key's own user")
    receiver.wait_for(3)  # two for the admin's webhook, one for the key's
    _wait(lambda: all(d["status"] == "delivered" for d in deliveries(api, everyone["id"])) or None)
    mine = [r.json for r in receiver.received if r.json["webhook_id"] == hook["id"]]
    assert [e["data"]["memory"]["content"] for e in mine] == ["the key's own user"]
    assert api.delete(f"/api/webhooks/{everyone['id']}").json()["success"] is True

    # the webhook reads through the key that made it: revoking the key stops it
    key_id = next(k["id"] for k in api.get("/api/keys").json()["keys"] if key.startswith(k["prefix"]))
    assert api.delete(f"/api/keys/{key_id}").status_code == 200
    api.create(user, "after the key was revoked")
    revoked = _wait(lambda: (h := api.get(f"/api/webhooks/{hook['id']}").json()) and not h["enabled"] and h)
    assert revoked["disabled_reason"] == "the API key that created it was revoked"
    assert [d["status"] for d in deliveries(api, hook["id"])] == ["failed", "delivered"]
    assert len([r for r in receiver.received if r.json["webhook_id"] == hook["id"]]) == 1
    assert api.delete(f"/api/webhooks/{hook['id']}").status_code == 200
    assert api.get(f"/api/webhooks/{hook['id']}").status_code == 404


def test_bad_webhooks_are_refused_naming_the_field(api: Api):
    for body, field in [({"url": "ftp://example.com/hook"}, "url"), ({"url": "http://"}, "url"),
                        ({"url": "https://example.com", "events": ["memory.exploded"]}, "events"),
                        ({"url": "https://example.com", "events": []}, "events"),
                        ({"url": "https://example.com", "secret": "short"}, "secret"),
                        ({"events": ["memory.created"]}, "url")]:
        response = api.post("/api/webhooks", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["field"].startswith(field), (body, response.json())
    assert api.get("/api/webhooks/wh_missing").status_code == 404
    read_only = api.post("/api/keys", json={"user_id": unique_user(), "access": "read"}).json()["key"]
    assert api.post("/api/webhooks", json={"url": "https://example.com"}, key=read_only).status_code == 403


def test_private_targets_are_refused_unless_allowed(service_factory):
    service = service_factory()  # MEM0_WEBHOOK_ALLOW_PRIVATE is not set
    api = Api(service.url, service.api_key)
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://169.254.169.254/"):
        response = api.post("/api/webhooks", json={"url": url})
        assert response.status_code == 400, response.text
        assert response.json()["field"] == "url"
        assert "MEM0_WEBHOOK_ALLOW_PRIVATE" in response.json()["message"]


def test_a_webhook_that_keeps_failing_is_disabled(tmp_path: Path, receiver: WebhookReceiver):
    receiver.status = 500
    receiver.start()
    env = {**FAST_RETRIES, "MEM0_WEBHOOK_MAX_FAILURES": "3"}
    with backend_process("sqlite", tmp_path / "svc", env) as service:
        api = Api(service.url, service.api_key)
        user = unique_user("hooks")
        hook = register(api, receiver.url, user_id=user)
        api.create(user, "will never arrive")
        api.create(user, "neither will this")
        def disabled():
            state = api.get(f"/api/webhooks/{hook['id']}").json()
            return state if not state["enabled"] else None
        state = _wait(disabled)
        assert "3 failed attempts" in state["disabled_reason"] and "HTTP 500" in state["disabled_reason"]
        log = deliveries(api, hook["id"])
        assert {d["status"] for d in log} == {"failed"}
        assert max(d["attempts"] for d in log) == 3 and log[-1]["response_status"] == 500
        api.create(user, "after disabling")  # a disabled webhook queues nothing more
        assert len(deliveries(api, hook["id"])) == 2
        assert receiver.received == []
        assert _gauge(api, "mem0_webhooks_disabled") == 1 and _gauge(api, "mem0_webhook_deliveries_pending") == 0


def _gauge(api: Api, name: str) -> float:
    [line] = [line for line in api.get("/metrics").text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[1])


def _wait(probe, timeout: float = 60.0):
    """Poll `probe` until it returns something truthy (no timing is asserted, only the outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached")
