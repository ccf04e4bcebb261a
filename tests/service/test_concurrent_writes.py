"""Concurrent writes over real HTTP, on both backends: no lost updates, no resurrected deletes, one memory per
Idempotency-Key and per exact duplicate, and the end state agrees through GET, list, search and history."""

from __future__ import annotations

import hashlib
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import psycopg
import requests

from tests.support.fixtures import unique_user

PARALLEL = 20


def _parallel(api, calls: list[tuple[str, str, dict]]) -> list[requests.Response]:
    """Send the calls at once, each on its own connection, and return the answers in order."""
    def send(call: tuple[str, str, dict]) -> requests.Response:
        method, path, kwargs = call
        headers = {"Authorization": f"Bearer {api.api_key}", **kwargs.pop("headers", {})}
        return requests.request(method, api.base_url + path, headers=headers, timeout=60, **kwargs)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def _listed(api, user: str) -> list[dict]:
    response = api.get(f"/api/memories/user/{user}", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return response.json()["memories"]


def _found(api, user: str, query: str) -> list[dict]:
    return api.search(user, query, relevance_threshold=0.0, limit=20)["memories"]


def test_metadata_updates_racing_a_content_update_never_write_old_content_back(api):
    user = unique_user()
    for trial in range(5):
        memory = api.create(user, f"lives in Moscow, trial {trial}")
        path = f"/api/memories/{memory['id']}"
        calls = [("PUT", path, {"json": {"metadata": {"writer": n}}}) for n in range(PARALLEL // 2)]
        calls.insert(2, ("PUT", path, {"json": {"content": f"moved to Vladivostok, trial {trial}"}}))
        answers = _parallel(api, calls)
        assert [a.status_code for a in answers] == [200] * len(calls), [a.text for a in answers if a.status_code != 200]

        stored = api.get(path).json()
        assert stored["content"] == f"moved to Vladivostok, trial {trial}"
        assert stored["metadata"]["writer"] in range(PARALLEL // 2)
        assert [m["content"] for m in _listed(api, user) if m["id"] == memory["id"]] == [stored["content"]]
        assert memory["id"] in [m["id"] for m in _found(api, user, f"Vladivostok trial {trial}")]
        history = api.get(f"{path}/history").json()["history"]
        assert len(history) == 1 + len(calls)
        changed = [e for e in history if e["old_content"] != e["new_content"]]
        assert [(e["event"], e["old_content"], e["new_content"]) for e in changed] == [
            ("ADD", None, f"lives in Moscow, trial {trial}"),
            ("UPDATE", f"lives in Moscow, trial {trial}", f"moved to Vladivostok, trial {trial}")]


def test_updates_racing_a_delete_never_bring_the_memory_back(api):
    user = unique_user()
    memory = api.create(user, "a parcel waits at the post office")
    path = f"/api/memories/{memory['id']}"
    calls = [("PUT", path, {"json": {"content": f"the parcel was collected, version {n}"}}) for n in range(8)]
    calls.insert(4, ("DELETE", path, {}))
    answers = _parallel(api, calls)
    assert answers[4].status_code == 200, answers[4].text
    assert {a.status_code for a in answers} <= {200, 404}
    for answer in answers:
        if answer.status_code == 404:
            assert answer.json()["error"] == "Not Found"

    assert api.get(path).status_code == 404
    assert _listed(api, user) == []
    assert _found(api, user, "parcel post office collected") == []
    events = [e["event"] for e in api.get(f"{path}/history").json()["history"]]
    assert events[0] == "ADD" and events[-1] == "DELETE" and events.count("DELETE") == 1


def test_parallel_creates_with_one_idempotency_key_store_one_memory(api):
    user = unique_user()
    body = {"user_id": user, "content": "said hello", "type": "interaction"}  # interactions are never de-duplicated
    answers = _parallel(api, [("POST", "/api/memories", {"json": dict(body), "headers": {"Idempotency-Key": user}})
                              for _ in range(PARALLEL)])
    assert [a.status_code for a in answers] == [201] * PARALLEL, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == PARALLEL - 1

    listed = _listed(api, user)
    assert [m["id"] for m in listed] == [answers[0].json()["id"]]
    assert [m["id"] for m in _found(api, user, "said hello")] == [listed[0]["id"]]
    history = api.get(f"/api/memories/{listed[0]['id']}/history").json()["history"]
    assert [e["event"] for e in history] == ["ADD"]


def test_an_idempotency_key_reused_with_another_body_is_refused(api):
    user = unique_user()
    headers = {"Idempotency-Key": f"reuse-{user}"}
    first = api.post("/api/memories", json={"user_id": user, "content": "first"}, headers=headers)
    assert first.status_code == 201, first.text
    other = api.post("/api/memories", json={"user_id": user, "content": "second"}, headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["field"] == "Idempotency-Key"
    assert "Idempotency-Key" in other.json()["message"]
    assert [m["content"] for m in _listed(api, user)] == ["first"]


def test_a_failed_request_does_not_hold_its_idempotency_key(api):
    user = unique_user()
    headers = {"Idempotency-Key": f"retry-after-error-{user}"}
    body = {"user_id": user, "content": "kept", "ttl_seconds": 0}  # invalid: ttl_seconds >= 1
    assert api.post("/api/memories", json=body, headers=headers).status_code == 400
    assert api.post("/api/memories", json=body, headers=headers).status_code == 400  # not a replay, not a wait
    assert _listed(api, user) == []


def test_parallel_identical_creates_store_one_memory(api):
    user = unique_user()
    for scope in ({}, {"agent_id": "planner"}, {"agent_id": "planner", "session_id": "s1"}):
        body = {"user_id": user, "content": f"prefers tea {sorted(scope)}", **scope}
        answers = _parallel(api, [("POST", "/api/memories", {"json": dict(body)}) for _ in range(PARALLEL)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] * (PARALLEL - 1) + [201], [a.text for a in answers if a.status_code >= 300]
        assert len({a.json()["id"] for a in answers}) == 1
    listed = _listed(api, user)
    assert len(listed) == 3
    assert len(_found(api, user, "prefers tea")) == 3
    for memory in listed:
        assert [e["event"] for e in api.get(f"/api/memories/{memory['id']}/history").json()["history"]] == ["ADD"]


def test_parallel_identical_batches_store_each_memory_once(api):
    user = unique_user()
    items = [{"user_id": user, "content": f"batch fact {n}"} for n in range(4)]
    answers = _parallel(api, [("POST", "/api/memories/batch", {"json": {"memories": items}}) for _ in range(8)])
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    created = sum(a.json()["created"] for a in answers)
    existing = sum(a.json()["existing"] for a in answers)
    assert (created, existing) == (4, 4 * 7)
    ids = {r["memory"]["content"]: r["memory"]["id"] for a in answers for r in a.json()["results"]}
    assert len(ids) == 4
    assert sorted(m["id"] for m in _listed(api, user)) == sorted(ids.values())
    for answer in answers:  # every batch names the same memory for the same item
        assert {r["memory"]["content"]: r["memory"]["id"] for r in answer.json()["results"]} == ids


def test_etag_and_if_match_make_read_modify_write_safe(api):
    user = unique_user()
    memory = api.create(user, "the meeting is on Monday")
    path = f"/api/memories/{memory['id']}"
    read = api.get(path)
    tag = read.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')

    changed = api.put(path, json={"metadata": {"room": "A"}}, headers={"If-Match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] != tag
    assert api.get(path).headers["ETag"] == changed.headers["ETag"]

    stale = api.put(path, json={"content": "the meeting is on Tuesday"}, headers={"If-Match": tag})
    assert stale.status_code == 412, stale.text
    assert stale.json()["error"] == "Precondition Failed" and stale.json()["field"] == "If-Match"
    assert api.get(path).json()["content"] == "the meeting is on Monday"

    assert api.put(path, json={"content": "the meeting is on Tuesday"}, headers={"If-Match": "*"}).status_code == 200
    assert api.put(path, json={"type": "fact"}, headers={"If-Match": "not-an-etag"}).status_code == 400
    assert api.delete(path, headers={"If-Match": tag}).status_code == 412
    assert api.get(path).status_code == 200
    current = api.get(path).headers["ETag"]
    assert api.delete(path, headers={"If-Match": f'"v0", {current}'}).status_code == 200
    assert api.get(path).status_code == 404


def test_parallel_if_match_writes_let_exactly_one_win(api):
    user = unique_user()
    memory = api.create(user, "counter at zero")
    path = f"/api/memories/{memory['id']}"
    tag = api.get(path).headers["ETag"]
    answers = _parallel(api, [("PUT", path, {"json": {"content": f"counter at {n}"}, "headers": {"If-Match": tag}})
                              for n in range(1, 11)])
    assert sorted(a.status_code for a in answers) == [200] + [412] * 9
    winner = next(a.json()["content"] for a in answers if a.status_code == 200)
    assert api.get(path).json()["content"] == winner
    assert [e["event"] for e in api.get(f"{path}/history").json()["history"]] == ["ADD", "UPDATE"]


def test_openapi_documents_etag_if_match_and_idempotency_key(api):
    doc = api.get("/api/openapi.json", auth=False).json()
    put = doc["paths"]["/api/memories/{memory_id}"]["put"]
    assert "If-Match" in [p["name"] for p in put["parameters"] if p["in"] == "header"]
    assert "412" in put["responses"] and "ETag" in put["responses"]["200"]["headers"]
    assert "ETag" in doc["paths"]["/api/memories/{memory_id}"]["get"]["responses"]["200"]["headers"]
    assert "412" in doc["paths"]["/api/memories/{memory_id}"]["delete"]["responses"]
    create = doc["paths"]["/api/memories"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"] if p["in"] == "header"]
    assert "422" in create["responses"]


def test_platform_metadata_updates_racing_a_text_update_keep_the_new_text(api):
    user = unique_user()
    memory = api.create(user, "works in Kazan")
    path = f"/v1/memories/{memory['id']}/"
    calls = [("PUT", path, {"json": {"metadata": {"writer": n}}}) for n in range(8)]
    calls.insert(2, ("PUT", path, {"json": {"text": "works in Novosibirsk"}}))
    answers = _parallel(api, calls)
    assert [a.status_code for a in answers] == [200] * len(calls), [a.text for a in answers if a.status_code != 200]
    assert api.get(f"/api/memories/{memory['id']}").json()["content"] == "works in Novosibirsk"
    assert api.get(path).json()["memory"] == "works in Novosibirsk"


def _store_sql(service, sql: str, params: tuple) -> None:
    """Write straight into the service's record store, as a process that died mid-request leaves it."""
    if service.backend == "sqlite":
        with sqlite3.connect(service.data_dir / "memories.sqlite3", timeout=10) as conn:
            conn.execute(sql.replace("%s", "?"), params)
    else:
        with psycopg.connect(service.extra_env["DATABASE_URL"]) as conn:
            conn.execute(sql, params)


def test_a_reservation_left_by_a_crashed_request_does_not_block_its_key(api, backend_service):
    user = unique_user()
    raw = f"crashed-{user}"
    owner = "admin:" + hashlib.sha256(backend_service.api_key.encode()).hexdigest()[:8]
    stale = (datetime.now(timezone.utc) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _store_sql(backend_service, "INSERT INTO idempotency_keys (key, status, body, created_at, fingerprint) "
                                "VALUES (%s, 0, '', %s, 'fingerprint of the crashed request')",
               (f"{owner}:{raw}", stale))
    answer = api.post("/api/memories", json={"user_id": user, "content": "written after the crash"},
                      headers={"Idempotency-Key": raw})
    assert answer.status_code == 201, answer.text
    replay = api.post("/api/memories", json={"user_id": user, "content": "written after the crash"},
                      headers={"Idempotency-Key": raw})
    assert replay.status_code == 201 and replay.json() == answer.json()
    assert [m["id"] for m in _listed(api, user)] == [answer.json()["id"]]


def test_an_update_that_would_duplicate_another_memory_is_refused(api):
    user = unique_user()
    tea = api.create(user, "likes green tea")
    coffee = api.create(user, "likes black coffee")
    clash = api.put(f"/api/memories/{coffee['id']}", json={"content": "Likes  GREEN tea"})
    assert clash.status_code == 409, clash.text
    assert clash.json()["field"] == "content"
    assert api.get(f"/api/memories/{coffee['id']}").json()["content"] == "likes black coffee"
    assert [e["event"] for e in api.get(f"/api/memories/{coffee['id']}/history").json()["history"]] == ["ADD"]
    # as an interaction it is no duplicate: interactions are exempt
    moved = api.put(f"/api/memories/{coffee['id']}", json={"content": "likes green tea", "type": "interaction"})
    assert moved.status_code == 200, moved.text
    assert sorted(m["id"] for m in _listed(api, user)) == sorted([tea["id"], coffee["id"]])
