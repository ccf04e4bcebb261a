"""The access policy declared on the route table holds for every route, and the scope a key is bound to holds for
every way of naming a memory (query parameters given twice, histories, platform events)."""

from __future__ import annotations

import re

import pytest

from mem0_service.api.routes import ROUTES

OWNER = "policy-owner"


def concrete(path: str, memory_id: str, key_id: str) -> str:
    values = {"memory_id": memory_id, "user_id": OWNER, "session_id": "s1", "key_id": key_id, "entity_type": "user",
              "entity_id": OWNER, "event_id": "00000000-0000-0000-0000-000000000000", "project_id": "p", "org_id": "o",
              "webhook_id": "w"}
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)


async def _fixture(api):
    memory = await api.create(OWNER, "The owner's router is a TP-Link", agent_id="support")
    status, created = await api.call("POST", "/api/keys", json={"user_id": "someone-else"})
    assert status == 201
    return memory, created["id"]


async def test_every_non_public_route_refuses_a_missing_or_wrong_key(api):
    memory, key_id = await _fixture(api)
    for route in ROUTES:
        if route.public:
            continue
        path = concrete(route.path, memory["id"], key_id)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Token wrong"}):
            status, body = await api.call(route.method, path, auth=False, headers=headers)
            assert status == 401, (route.method, path, status, body)
            assert body["error"] == "Unauthorized" and body["message"] == "Invalid API key"
            assert ("detail" in body) == (route.errors == "mem0"), (route.method, path)


async def test_public_routes_answer_without_a_key(api):
    for route in ROUTES:
        if route.public:
            status, _ = await api.call(route.method, route.path, auth=False)
            assert status == 200, route.path
    status, document = await api.call("GET", "/api/openapi.json", auth=False)
    assert status == 200 and {op.get("x-access") for ops in document["paths"].values() for op in ops.values()} \
        == {"public", "read", "write", "admin"}


async def test_a_read_only_key_is_refused_on_every_write_and_admin_route_and_changes_nothing(api):
    memory, key_id = await _fixture(api)
    reader = await api.key(user_id=OWNER, access="read")
    checked = 0
    for route in ROUTES:
        if route.access not in ("write", "admin"):
            continue
        path = concrete(route.path, memory["id"], key_id)
        status, body = await api.call(route.method, path, key=reader, json={"user_id": OWNER, "content": "planted",
                                                                           "messages": [{"role": "user",
                                                                                         "content": "planted"}]})
        assert status == 403, (route.method, path, status, body)
        checked += 1
    assert checked >= 15
    status, listed = await api.call("GET", f"/api/memories/user/{OWNER}")
    assert status == 200 and [m["content"] for m in listed["memories"]] == [memory["content"]]
    status, keys = await api.call("GET", "/api/keys")
    assert key_id in {k["id"] for k in keys["keys"]}


async def test_a_scoped_key_is_refused_on_every_admin_route(api):
    memory, key_id = await _fixture(api)
    writer = await api.key(user_id=OWNER)
    admin_routes = [r for r in ROUTES if r.access == "admin"]
    assert {(r.method, r.path) for r in admin_routes} >= {("POST", "/api/keys"), ("GET", "/api/keys"),
                                                         ("DELETE", "/api/keys/{key_id}"), ("GET", "/metrics")}
    for route in admin_routes:
        status, body = await api.call(route.method, concrete(route.path, memory["id"], key_id), key=writer,
                                      json={"user_id": OWNER})
        assert status == 403, (route.path, body)


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
async def test_an_agent_key_cannot_escape_its_agent_with_a_repeated_parameter(api, method):
    mine = await api.create("dave", "Agent A: dave prefers e-mail", agent_id="agA")
    theirs = await api.create("dave", "Agent B: dave's account number ends in 42", agent_id="agB")
    key = await api.key(user_id="dave", agent_id="agA")
    for query in ("agent_id=agA&agent_id=agB", "agent_id=agB&agent_id=agA"):
        status, body = await api.call(method, f"/api/memories/user/dave?{query}", key=key)
        assert 400 <= status < 500, (query, status, body)
        if body is not None:
            assert theirs["content"] not in str(body)
    status, kept = await api.call("GET", f"/api/memories/{theirs['id']}")
    assert status == 200 and kept == theirs
    status, listed = await api.call("GET", "/api/memories/user/dave?agent_id=agA", key=key)
    assert status == 200 and [m["id"] for m in listed["memories"]] == [mine["id"]]


async def test_histories_are_read_only_within_the_keys_whole_scope(api):
    other_agent = await api.create("erin", "Agent B: erin's flight is on Friday", agent_id="agB")
    gone = await api.create("erin", "Agent A: erin's old address", agent_id="agA")
    assert (await api.call("DELETE", f"/api/memories/{gone['id']}"))[0] == 200
    agent_key = await api.key(user_id="erin", agent_id="agA")
    user_key = await api.key(user_id="erin")
    for path in ("/api/memories/{}/history", "/v1/memories/{}/history/"):
        assert (await api.call("GET", path.format(other_agent["id"]), key=agent_key))[0] == 404
        assert (await api.call("GET", path.format(gone["id"]), key=agent_key))[0] == 404
        assert (await api.call("GET", path.format(gone["id"]), key=user_key))[0] == 404
        assert (await api.call("GET", path.format(other_agent["id"]), key=user_key))[0] == 200
        status, _ = await api.call("GET", path.format(gone["id"]))
        assert status == 200  # the audit trail of a deleted memory stays readable with an admin key


async def test_platform_events_are_read_only_within_the_keys_whole_scope(api):
    status, added = await api.call("POST", "/v3/memories/add/", json={
        "user_id": "frank", "agent_id": "agB", "infer": False,
        "messages": [{"role": "user", "content": "Frank's locker code is 1234"}]})
    assert status == 200, added
    event = f"/v1/event/{added['event_id']}/"
    assert (await api.call("GET", event, key=await api.key(user_id="frank", agent_id="agA")))[0] == 404
    assert (await api.call("GET", event, key=await api.key(user_id="someone-else")))[0] == 404
    status, found = await api.call("GET", event, key=await api.key(user_id="frank", agent_id="agB"))
    assert status == 200 and found["status"] == "SUCCEEDED"
