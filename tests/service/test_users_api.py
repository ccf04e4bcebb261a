"""GET /api/users: the users that have memories, for admins, on every backend."""

from __future__ import annotations

import secrets
import time

from tests.support.fixtures import unique_user


def users_of(api, prefix: str, **params) -> dict:
    response = api.get("/api/users", params={"prefix": prefix, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_users_are_listed_by_id_with_their_counts_and_last_activity(api):
    tenant = f"t{secrets.token_hex(4)}-"
    api.create(tenant + "bob", "Bob likes tea")
    first = api.create(tenant + "alice", "Alice lives in Porto")
    api.create(tenant + "alice", "Alice has a cat", session_id="chat-1")
    api.create(tenant + "carol", "Carol plays chess")
    api.create(unique_user("outsider"), "Not part of the tenant")

    listed = users_of(api, tenant)
    assert listed["total"] == 3 and listed["limit"] == 100 and listed["offset"] == 0
    assert [(u["user_id"], u["memory_count"]) for u in listed["users"]] == [
        (tenant + "alice", 2), (tenant + "bob", 1), (tenant + "carol", 1)]

    changed = api.put(f"/api/memories/{first['id']}", json={"content": "Alice lives in Lisbon"}).json()
    alice = users_of(api, tenant + "alice")["users"]
    assert alice == [{"user_id": tenant + "alice", "memory_count": 2, "last_activity": changed["updated_at"]}]

    page = users_of(api, tenant, limit=1, offset=1)
    assert [u["user_id"] for u in page["users"]] == [tenant + "bob"]
    assert page["total"] == 3 and page["limit"] == 1 and page["offset"] == 1

    api.delete(f"/api/memories/user/{tenant}bob")
    assert [u["user_id"] for u in users_of(api, tenant)["users"]] == [tenant + "alice", tenant + "carol"]


def test_without_prefix_every_user_is_counted(api):
    user = unique_user("everyone")
    api.create(user, "Counted without a prefix")
    everyone = users_of(api, "", limit=1000)
    assert everyone["total"] >= 1
    ids = [u["user_id"] for u in everyone["users"]]
    assert ids == sorted(ids)
    if everyone["total"] <= 1000:
        assert user in ids


def test_users_whose_memories_all_expired_are_not_listed(api):
    tenant = f"t{secrets.token_hex(4)}-"
    api.create(tenant + "brief", "Forgotten in a second", ttl_seconds=1)
    api.create(tenant + "lasting", "Kept")
    time.sleep(1.3)
    assert [u["user_id"] for u in users_of(api, tenant)["users"]] == [tenant + "lasting"]


def test_scoped_keys_may_not_list_users(api):
    user = unique_user()
    key = api.post("/api/keys", json={"user_id": user}).json()["key"]
    response = api.get("/api/users", key=key)
    assert response.status_code == 403
    assert "admin" in response.json()["message"]
    assert api.get("/api/users", auth=False).status_code == 401


def test_bad_paging_and_prefixes_are_refused_naming_the_field(api):
    for params, field in [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"offset": -1}, "offset"),
                          ({"limit": "many"}, "limit"), ({"prefix": "a/b"}, "prefix"), ({"prefix": "x" * 129}, "prefix")]:
        response = api.get("/api/users", params=params)
        assert response.status_code == 400, params
        assert response.json()["field"] == field
    too_long = api.get("/api/users", params={"prefix": "x" * 129}).json()
    assert too_long["message"] == ("Invalid value for field 'prefix': must be at most 128 characters: "
                                   "letters, digits and _ . @ : + -")


def test_the_listing_is_in_the_openapi_document(api):
    spec = api.get("/api/openapi.json", auth=False).json()
    operation = spec["paths"]["/api/users"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"prefix", "limit", "offset"}


def test_ids_come_in_byte_order_and_a_prefix_is_literal(api):
    tenant = f"t{secrets.token_hex(4)}"
    ids = [f"{tenant}-a", f"{tenant}-B", f"{tenant}_c", f"{tenant}-Z", f"{tenant}.dot"]
    for user in ids:
        api.create(user, "Counted")
    # The same order on every backend, whatever the database's collation: by the bytes of the id.
    assert [u["user_id"] for u in users_of(api, tenant)["users"]] == sorted(ids, key=str.encode)
    # "_" is a character like any other here, not a wildcard.
    assert [u["user_id"] for u in users_of(api, f"{tenant}_")["users"]] == [f"{tenant}_c"]
