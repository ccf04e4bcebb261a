"""A session's message log through the HTTP API, on both backends: order assigned by the service, windows and
cursors, clearing, scoped keys, erasure, export, session end and the session TTL."""

from __future__ import annotations

import asyncio

from mem0_service.state import SERVICE

LOG = "/api/sessions/{}/messages"


def turns(*pairs: tuple[str, str]) -> list[dict]:
    return [{"role": role, "content": content} for role, content in pairs]


async def append(api, session: str, messages: list[dict], user: str = "alice", **fields) -> dict:
    status, body = await api.call("POST", LOG.format(session), json={"user_id": user, "messages": messages, **fields})
    assert status == 201, body
    return body


async def read(api, session: str, user: str = "alice", **params) -> dict:
    status, body = await api.call("GET", LOG.format(session), params={"user_id": user, **params})
    assert status == 200, body
    return body


async def test_appended_messages_come_back_in_append_order_whatever_their_clocks_say(api):
    await append(api, "s1", [{"role": "user", "content": "Hi, I am Alice", "created_at": "2030-01-01T00:00:00Z"},
                             {"role": "assistant", "content": "Hello Alice", "name": "bot",
                              "metadata": {"model": "x"}}])
    await append(api, "s1", [{"role": "user", "content": "I live in Lyon", "created_at": "2001-01-01T00:00:00Z"}])
    log = await read(api, "s1")
    assert [(m["seq"], m["role"], m["content"]) for m in log["messages"]] == [
        (1, "user", "Hi, I am Alice"), (2, "assistant", "Hello Alice"), (3, "user", "I live in Lyon")]
    assert log["messages"][0]["created_at"] == "2030-01-01T00:00:00.000000Z"
    assert log["messages"][1]["name"] == "bot" and log["messages"][1]["metadata"] == {"model": "x"}
    assert log["total"] == 3 and log["has_more"] is False
    assert (await read(api, "s1", user="bob"))["messages"] == []  # another user's session of the same id
    assert (await read(api, "s2"))["messages"] == []


async def test_a_window_is_the_last_n_and_cursors_page_both_ways(api):
    await append(api, "long", turns(*[("user", f"message {i}") for i in range(1, 11)]))
    last = await read(api, "long", limit=3)
    assert [m["content"] for m in last["messages"]] == ["message 8", "message 9", "message 10"]
    assert last["has_more"] and last["next_before"] == 8 and last["total"] == 10
    older = await read(api, "long", limit=5, before=last["next_before"])
    assert [m["seq"] for m in older["messages"]] == [3, 4, 5, 6, 7] and older["next_before"] == 3
    oldest = await read(api, "long", limit=5, before=3)
    assert [m["seq"] for m in oldest["messages"]] == [1, 2] and not oldest["has_more"]
    assert oldest["next_before"] is None
    forward = await read(api, "long", limit=4, after=0)
    assert [m["seq"] for m in forward["messages"]] == [1, 2, 3, 4] and forward["next_after"] == 4
    rest = await read(api, "long", limit=100, after=4)
    assert [m["seq"] for m in rest["messages"]] == [5, 6, 7, 8, 9, 10] and rest["next_after"] is None


async def test_concurrent_appends_interleave_but_keep_one_total_order(api):
    async def writer(n: int) -> dict:
        return await append(api, "busy", turns(*[("user", f"w{n} part {p}") for p in range(3)]))

    answers = await asyncio.gather(*(writer(n) for n in range(12)))
    log = await read(api, "busy", limit=1000)
    assert [m["seq"] for m in log["messages"]] == list(range(1, 37))
    for n, answer in enumerate(answers):  # each append got consecutive numbers, its messages in the order sent
        seqs = [m["seq"] for m in answer["messages"]]
        assert seqs == list(range(seqs[0], seqs[0] + 3))
        assert [log["messages"][s - 1]["content"] for s in seqs] == [f"w{n} part {p}" for p in range(3)]


async def test_clearing_the_log_keeps_long_term_memories(api):
    await api.create("alice", "Alice is vegetarian", session_id="s1")
    await append(api, "s1", turns(("user", "hello"), ("assistant", "hi")))
    status, body = await api.call("DELETE", LOG.format("s1"), params={"user_id": "alice"})
    assert status == 200 and body["deleted"] == 2, body
    assert (await read(api, "s1"))["messages"] == []
    status, listed = await api.call("GET", "/api/memories/user/alice")
    assert [m["content"] for m in listed["memories"]] == ["Alice is vegetarian"]
    again = await append(api, "s1", turns(("user", "back again")))
    assert again["messages"][0]["seq"] == 3  # numbers are never reused: a cursor held across the clear stays valid


async def test_bad_input_is_a_400_naming_the_field(api):
    cases = [
        ({"user_id": "alice", "messages": [{"content": "no role"}]}, "role"),
        ({"user_id": "alice", "messages": [{"role": "user", "content": "   "}]}, "content"),
        ({"user_id": "alice", "messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}]}, "user_id"),
        ({"user_id": "alice", "messages": [{"role": "user", "content": "x", "created_at": "yesterday"}]},
         "created_at"),
    ]
    for body, field in cases:
        status, error = await api.call("POST", LOG.format("s1"), json=body)
        assert status == 400 and field in (error.get("field") or ""), (body, error)
    status, error = await api.call("GET", LOG.format("s1"), params={"user_id": "alice", "before": 5, "after": 1})
    assert status == 400 and "before or after" in error["message"], error
    status, error = await api.call("GET", LOG.format("s1"), params={"user_id": "alice", "limit": 0})
    assert status == 400 and error["field"] == "limit", error
    status, error = await api.call("GET", LOG.format("s1"), params={"user_id": "alice", "after": 2**63})
    assert status == 400 and error["field"] == "after", error  # beyond what the stores hold: refused, not a 500
    status, error = await api.call("GET", LOG.format("bad session"), params={"user_id": "alice"})
    assert status == 400 and error["field"] == "session_id", error


async def test_scoped_keys_reach_only_their_own_log(api):
    await append(api, "s1", turns(("user", "from the admin")), agent_id="other-agent")
    alice = await api.key(user_id="alice")
    status, error = await api.call("POST", LOG.format("s1"), key=alice,
                                   json={"user_id": "bob", "messages": turns(("user", "x"))})
    assert status == 403 and error["field"] == "user_id", error
    status, _ = await api.call("GET", LOG.format("s1"), key=alice, params={"user_id": "bob"})
    assert status == 403

    agent = await api.key(user_id="alice", agent_id="support")
    status, body = await api.call("POST", LOG.format("s1"), key=agent,
                                  json={"user_id": "alice", "messages": turns(("user", "to support"))})
    assert status == 201 and body["messages"][0]["agent_id"] == "support", body
    status, body = await api.call("GET", LOG.format("s1"), key=agent, params={"user_id": "alice"})
    assert [m["content"] for m in body["messages"]] == ["to support"]  # not the other agent's turn
    status, error = await api.call("GET", LOG.format("s1"), key=agent,
                                   params={"user_id": "alice", "agent_id": "other-agent"})
    assert status == 403 and error["field"] == "agent_id"
    status, body = await api.call("DELETE", LOG.format("s1"), key=agent, params={"user_id": "alice"})
    assert status == 200 and body["deleted"] == 1
    assert [m["content"] for m in (await read(api, "s1"))["messages"]] == ["from the admin"]

    reader = await api.key(user_id="alice", access="read")
    status, body = await api.call("GET", LOG.format("s1"), key=reader, params={"user_id": "alice"})
    assert status == 200 and len(body["messages"]) == 1
    for method, kwargs in [("POST", {"json": {"user_id": "alice", "messages": turns(("user", "x"))}}),
                           ("DELETE", {"params": {"user_id": "alice"}})]:
        status, _ = await api.call(method, LOG.format("s1"), key=reader, **kwargs)
        assert status == 403, method
    status, _ = await api.call("GET", LOG.format("s1"), auth=False, params={"user_id": "alice"})
    assert status == 401


async def test_erasure_export_and_session_end_cover_the_log(api):
    await append(api, "s1", turns(("user", "Alice's secret"), ("assistant", "noted")))
    await append(api, "s2", turns(("user", "second session")))
    await append(api, "s1", turns(("user", "Bob's turn")), user="bob")

    status, export = await api.call("GET", "/api/memories/user/alice/export")
    assert status == 200
    assert [(m["session_id"], m["seq"], m["content"]) for m in export["messages"]] == [
        ("s1", 1, "Alice's secret"), ("s1", 2, "noted"), ("s2", 1, "second session")]

    status, ended = await api.call("DELETE", "/api/sessions/s2", params={"user_id": "alice"})
    assert status == 200 and "1 logged messages cleared" in ended["message"], ended
    assert (await read(api, "s2"))["messages"] == []

    status, erased = await api.call("DELETE", "/api/memories/user/alice")
    assert status == 200, erased
    assert (await read(api, "s1"))["messages"] == []
    status, export = await api.call("GET", "/api/memories/user/alice/export")
    assert export["messages"] == []
    assert [m["content"] for m in (await read(api, "s1", user="bob"))["messages"]] == ["Bob's turn"]


async def test_the_session_ttl_clears_idle_logs(api):
    await append(api, "idle", turns(("user", "said long ago")))
    service = api.client.app[SERVICE]
    service.session_ttl = 3600.0
    await service.sweep()
    assert len((await read(api, "idle"))["messages"]) == 1
    service.session_ttl = 0.05
    await asyncio.sleep(0.1)  # longer than the TTL: the log is idle by any clock
    stats = await service.sweep()
    assert stats.session_messages_removed == 1
    assert (await read(api, "idle"))["messages"] == []
    status, metrics = await api.call("GET", "/metrics")
    assert status == 200 and "mem0_sweeper_messages_removed 1" in metrics, metrics


async def test_learn_without_a_chat_model_is_refused_before_anything_is_logged(api):
    status, error = await api.call("POST", LOG.format("s1"), json={
        "user_id": "alice", "learn": True, "messages": turns(("user", "I moved to Porto"))})
    assert status == 400 and error["field"] == "learn" and "chat model" in error["message"], error
    assert (await read(api, "s1"))["messages"] == []
