"""Scoped API keys: a key bound to one tenant can never read or change another tenant's memories."""

from __future__ import annotations

import sqlite3
import time

import psycopg
import pytest

from tests.support.api import Api
from tests.support.fixtures import unique_user

# Every memory endpoint, and how the isolation test below exercises it. A new endpoint fails
# test_every_memory_endpoint_is_covered until it is added here and checked.
COVERED = {
    ("post", "/api/memories"), ("post", "/api/memories/batch"), ("post", "/api/memories/search"),
    ("get", "/api/memories/user/{user_id}"), ("delete", "/api/memories/user/{user_id}"),
    ("get", "/api/memories/user/{user_id}/export"), ("delete", "/api/sessions/{session_id}"),
    ("get", "/api/memories/{memory_id}/history"), ("get", "/api/memories/{memory_id}"),
    ("put", "/api/memories/{memory_id}"), ("delete", "/api/memories/{memory_id}"),
    ("post", "/api/sessions/{session_id}/messages"), ("get", "/api/sessions/{session_id}/messages"),
    ("delete", "/api/sessions/{session_id}/messages"),
}


def make_key(api: Api, **body) -> dict:
    response = api.post("/api/keys", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["key"].startswith("m0s_") and created["id"].startswith("key_")
    return created


def test_every_memory_endpoint_is_covered(api):
    spec = api.get("/api/openapi.json", auth=False).json()
    endpoints = {(method, path) for path, ops in spec["paths"].items() for method in ops
                 if path.startswith(("/api/memories", "/api/sessions"))}
    assert endpoints == COVERED


def test_user_key_sees_only_its_user_on_every_endpoint(api):
    alice, bob = unique_user("alice"), unique_user("bob")
    bobs = api.create(bob, "Bob's bank PIN hint is his dog's name", session_id="bob-session", agent_id="helper")
    logged = api.post("/api/sessions/bob-session/messages",
                      json={"user_id": bob, "messages": [{"role": "user", "content": "My PIN hint is the dog"}]})
    assert logged.status_code == 201, logged.text
    key = make_key(api, user_id=alice, name="alice's n8n flow")["key"]

    def as_alice(method: str, path: str, **kwargs):
        return api.request(method, path, key=key, **kwargs)

    # Own data: everything works.
    mine = as_alice("POST", "/api/memories", json={"user_id": alice, "content": "Alice likes tea",
                                                   "session_id": "a-session"})
    assert mine.status_code == 201
    mine = mine.json()
    assert as_alice("GET", f"/api/memories/{mine['id']}").status_code == 200
    assert as_alice("POST", "/api/memories/search", json={"user_id": alice, "query": "tea"}).status_code == 200
    assert as_alice("GET", f"/api/memories/user/{alice}").json()["total"] == 1
    assert as_alice("GET", f"/api/memories/user/{alice}/export").status_code == 200
    assert as_alice("GET", f"/api/memories/{mine['id']}/history").status_code == 200
    assert as_alice("PUT", f"/api/memories/{mine['id']}", json={"content": "Alice likes green tea"}).status_code == 200

    # Bob's data, on every endpoint: refused for named users, "not found" for ids (ids must not leak).
    refused = [
        as_alice("POST", "/api/memories", json={"user_id": bob, "content": "planted by alice"}),
        as_alice("POST", "/api/memories/search", json={"user_id": bob, "query": "PIN"}),
        as_alice("GET", f"/api/memories/user/{bob}"),
        as_alice("DELETE", f"/api/memories/user/{bob}"),
        as_alice("GET", f"/api/memories/user/{bob}/export"),
        as_alice("DELETE", "/api/sessions/bob-session", params={"user_id": bob}),
        as_alice("POST", "/api/sessions/bob-session/messages",
                 json={"user_id": bob, "messages": [{"role": "user", "content": "planted by alice"}]}),
        as_alice("GET", "/api/sessions/bob-session/messages", params={"user_id": bob}),
        as_alice("DELETE", "/api/sessions/bob-session/messages", params={"user_id": bob}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused), [r.text for r in refused]
    assert all(r.json()["field"] == "user_id" for r in refused)
    hidden = [
        as_alice("GET", f"/api/memories/{bobs['id']}"),
        as_alice("GET", f"/api/memories/{bobs['id']}/history"),
        as_alice("PUT", f"/api/memories/{bobs['id']}", json={"content": "overwritten by alice"}),
        as_alice("DELETE", f"/api/memories/{bobs['id']}"),
    ]
    assert [r.status_code for r in hidden] == [404] * len(hidden), [r.text for r in hidden]
    assert all("PIN" not in r.text for r in [*refused, *hidden])
    bobs_log = api.get("/api/sessions/bob-session/messages", params={"user_id": bob}).json()
    assert [m["content"] for m in bobs_log["messages"]] == ["My PIN hint is the dog"]  # nothing planted or cleared
    batch = as_alice("POST", "/api/memories/batch", json={"memories": [
        {"user_id": alice, "content": "Alice's second note"}, {"user_id": bob, "content": "planted in batch"}]})
    assert [item["status"] for item in batch.json()["results"]] == [201, 403]

    # Bob's memory is exactly as it was, and nothing was added to him.
    assert api.get(f"/api/memories/{bobs['id']}").json() == bobs
    assert [m["id"] for m in api.get(f"/api/memories/user/{bob}").json()["memories"]] == [bobs["id"]]


def test_idempotency_keys_do_not_cross_tenants(api):
    alice, bob = unique_user("alice"), unique_user("bob")
    replay = {"Idempotency-Key": "retry-" + bob}
    first = api.post("/api/memories", json={"user_id": bob, "content": "Bob's private note"}, headers=replay)
    assert first.status_code == 201
    key = make_key(api, user_id=alice)["key"]
    theirs = api.post("/api/memories", key=key, json={"user_id": alice, "content": "Alice's note"}, headers=replay)
    assert theirs.status_code == 201 and theirs.json()["user_id"] == alice
    again = api.post("/api/memories", key=key, json={"user_id": alice, "content": "Alice's note"}, headers=replay)
    assert again.json()["id"] == theirs.json()["id"]  # the key's own retries still replay


def test_read_only_key_reads_but_never_writes(api):
    user = unique_user()
    existing = api.create(user, "The user works night shifts")
    key = make_key(api, user_id=user, access="read")["key"]
    assert api.post("/api/memories/search", key=key, json={"user_id": user, "query": "work"}).status_code == 200
    assert api.get(f"/api/memories/{existing['id']}", key=key).status_code == 200
    writes = [
        api.post("/api/memories", key=key, json={"user_id": user, "content": "new"}),
        api.put(f"/api/memories/{existing['id']}", key=key, json={"content": "changed"}),
        api.delete(f"/api/memories/{existing['id']}", key=key),
        api.delete(f"/api/memories/user/{user}", key=key),
    ]
    assert [r.status_code for r in writes] == [403] * 4
    assert api.get(f"/api/memories/{existing['id']}").json() == existing


def test_agent_key_touches_only_its_agents_memories(api):
    user = unique_user()
    own = api.create(user, "Support agent: the user's router is a TP-Link", agent_id="support")
    other = api.create(user, "Sales agent: the user may buy the premium plan", agent_id="sales")
    key = make_key(api, user_id=user, agent_id="support")["key"]
    created = api.post("/api/memories", key=key, json={"user_id": user, "content": "Support: firmware updated"})
    assert created.status_code == 201 and created.json()["agent_id"] == "support"  # bound agent filled in
    assert api.post("/api/memories", key=key, json={"user_id": user, "content": "x", "agent_id": "sales"}) \
        .status_code == 403
    assert api.get(f"/api/memories/{own['id']}", key=key).status_code == 200
    for method in ("GET", "DELETE"):
        assert api.request(method, f"/api/memories/{other['id']}", key=key).status_code == 404
    assert api.put(f"/api/memories/{other['id']}", key=key, json={"content": "x"}).status_code == 404
    assert api.post("/api/memories/search", key=key, json={"user_id": user, "query": "plan"}).status_code == 403
    found = api.post("/api/memories/search", key=key, json={"user_id": user, "query": "router",
                                                            "agent_id": "support", "relevance_threshold": 0})
    assert {m["agent_id"] for m in found.json()["memories"]} == {"support"}
    assert api.get(f"/api/memories/user/{user}", key=key).status_code == 403
    listed = api.get(f"/api/memories/user/{user}", key=key, params={"agent_id": "support"}).json()
    assert {m["agent_id"] for m in listed["memories"]} == {"support"}
    # Operations that span every agent of the user are refused, even when the key names its agent.
    assert api.get(f"/api/memories/user/{user}/export", key=key, params={"agent_id": "support"}).status_code == 403
    assert api.delete("/api/sessions/s1", key=key, params={"user_id": user, "agent_id": "support"}).status_code == 403
    assert api.get(f"/api/memories/{other['id']}").json() == other


def test_keys_are_admin_only_listed_without_secrets_and_revocable(api, backend_service):
    user = unique_user()
    created = make_key(api, user_id=user, access="read", name="flowise tenant")
    scoped = created["key"]
    assert api.get("/api/auth/check", key=scoped).json() == {"authenticated": True, "role": "scoped", "user_id": user,
                                                             "agent_id": None, "read_only": True}
    for method, path in (("GET", "/api/keys"), ("POST", "/api/keys"), ("DELETE", f"/api/keys/{created['id']}")):
        response = api.request(method, path, key=scoped, json={"user_id": user})
        assert response.status_code == 403, (method, path)
    listing = api.get("/api/keys")
    assert listing.status_code == 200
    mine = [k for k in listing.json()["keys"] if k["id"] == created["id"]]
    assert mine and mine[0]["user_id"] == user and mine[0]["access"] == "read" and "key" not in mine[0]
    assert scoped not in listing.text
    assert api.post("/api/keys", json={"access": "read"}).status_code == 400  # bound to nobody
    assert api.post("/api/keys", json={"user_id": "a b"}).status_code == 400

    # Only a hash is stored.
    url = backend_service.extra_env.get("DATABASE_URL")
    if url:
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT * FROM api_keys").fetchall()
    else:
        with sqlite3.connect(backend_service.data_dir / "memories.sqlite3") as conn:
            rows = conn.execute("SELECT * FROM api_keys").fetchall()
    assert rows and not any(scoped in str(value) for row in rows for value in row)

    revoked = api.delete(f"/api/keys/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["key"]["revoked_at"]
    assert api.get("/api/auth/check", key=scoped).status_code == 401
    assert api.delete("/api/keys/key_missing").status_code == 404
    assert created["id"] not in api.get("/api/keys").text
    assert created["id"] in api.get("/api/keys", params={"include_revoked": "true"}).text


def test_several_admin_keys_are_valid_at_once(service_factory):
    service = service_factory({"MEM0_API_KEYS": "rotated-key-2, rotated-key-3"})
    api = Api(service.url, service.api_key)
    for key in (service.api_key, "rotated-key-2", "rotated-key-3"):
        assert api.get("/api/auth/check", key=key).json()["role"] == "admin", key
    assert api.get("/api/auth/check", key="rotated-key-4").status_code == 401


def test_revocation_reaches_other_replicas_within_the_cache_time(service_factory, tmp_path):
    shared = {"MEM0_KEY_CACHE_SECONDS": "1"}
    first = service_factory(shared, data_dir=tmp_path / "shared")
    api = Api(first.url, first.api_key)
    created = make_key(api, user_id=unique_user())
    assert api.get("/api/auth/check", key=created["key"]).status_code == 200
    from tests.ops.helpers import cli, service_env

    revoked = cli(service_env(first), "keys", "revoke", created["id"])  # another process: a second replica
    assert revoked.returncode == 0, revoked.stderr
    time.sleep(1.5)
    assert api.get("/api/auth/check", key=created["key"]).status_code == 401


@pytest.mark.parametrize("token", ["m0s_" + "x" * 43, "", "Bearer", "admin"])
def test_unknown_tokens_are_refused(api, token):
    response = api.get("/api/auth/check", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
