"""Property tests: pagination sees every memory exactly once, filters agree with a model, text round-trips intact,
and concurrent updates of one memory end in one of the written states."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import Api
from tests.support.fixtures import unique_user

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
TYPES = ["fact", "preference", "interaction", "metadata", "pattern"]
# Any printable text, including emoji, RTL scripts, combining marks and CJK; not only whitespace.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300).filter(str.strip)


@pytest.fixture(scope="module")
def prop_api(tmp_path_factory):
    from tests.support.service_process import ServiceProcess

    service = ServiceProcess(tmp_path_factory.mktemp("props"), api_key="props-key").start()
    yield Api(service.url, service.api_key)
    service.stop()


@SETTINGS
@given(count=st.integers(0, 25), page=st.integers(1, 7), order=st.sampled_from(["desc", "asc"]))
def test_pagination_sees_every_memory_exactly_once(prop_api, count, page, order):
    user = unique_user()
    if count:
        prop_api.post("/api/memories/batch", json={"memories": [
            {"user_id": user, "content": f"item {i}", "type": "interaction"} for i in range(count)]})
    seen, offset = [], 0
    while True:
        body = prop_api.get(f"/api/memories/user/{user}", params={"limit": page, "offset": offset, "order": order}).json()
        assert body["total"] == count
        seen += [m["id"] for m in body["memories"]]
        offset += page
        if offset >= count:
            break
    assert len(seen) == len(set(seen)) == count
    created = [m["created_at"] for m in prop_api.get(f"/api/memories/user/{user}",
                                                      params={"limit": 1000, "order": order}).json()["memories"]]
    assert created == sorted(created, reverse=order == "desc")


@SETTINGS
@given(items=st.lists(st.tuples(st.sampled_from(TYPES), st.sampled_from([None, "s1", "s2"]),
                                st.sampled_from([None, "a1"])), min_size=1, max_size=12),
       want_type=st.sampled_from([None, *TYPES]), want_session=st.sampled_from([None, "s1", "s2"]),
       want_agent=st.sampled_from([None, "a1"]))
def test_list_filters_agree_with_a_model(prop_api, items, want_type, want_session, want_agent):
    user = unique_user()
    prop_api.post("/api/memories/batch", json={"memories": [
        {"user_id": user, "content": f"memory {i}", "type": t, "session_id": s, "agent_id": a}
        for i, (t, s, a) in enumerate(items)]})
    params = {k: v for k, v in {"type": want_type, "session_id": want_session, "agent_id": want_agent}.items() if v}
    body = prop_api.get(f"/api/memories/user/{user}", params={**params, "limit": 100}).json()
    expected = {f"memory {i}" for i, (t, s, a) in enumerate(items)
                if (want_type is None or t == want_type) and (want_session is None or s == want_session)
                and (want_agent is None or a == want_agent)}
    assert {m["content"] for m in body["memories"]} == expected and body["total"] == len(expected)


# What the API accepts (README, "Values the API accepts"): no NUL or lone surrogates, integers within 64 bits.
KEY = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@SETTINGS
@given(content=TEXT, metadata=st.dictionaries(KEY, TEXT | INT64 | st.booleans(), max_size=4))
def test_any_text_round_trips_unchanged(prop_api, content, metadata):
    user = unique_user()
    response = prop_api.post("/api/memories", json={"user_id": user, "content": content, "metadata": metadata})
    assert response.status_code == 201, response.text
    memory = prop_api.get(f"/api/memories/{response.json()['id']}").json()
    assert memory["content"] == content and memory["metadata"] == metadata
    search = prop_api.post("/api/memories/search", json={"user_id": user, "query": content, "relevance_threshold": 0})
    assert search.status_code == 200 and search.json()["memories"][0]["content"] == content


def test_very_long_and_mixed_script_content_round_trips(prop_api):
    user = unique_user()
    content = ("שלום עולם 👋🏽 مرحبا بالعالم — Привет, мир! 你好，世界。 " * 400)[:20_000]
    memory = prop_api.create(user, content)
    assert prop_api.get(f"/api/memories/{memory['id']}").json()["content"] == content
    assert prop_api.search(user, "Привет, мир", relevance_threshold=0)["memories"][0]["id"] == memory["id"]


def test_concurrent_updates_end_in_one_written_state(prop_api):
    user = unique_user()
    memory = prop_api.create(user, "initial")
    writes = [(f"version {i} " + "x" * i, {"writer": i}) for i in range(16)]
    barrier = threading.Barrier(len(writes))

    def write(content, metadata):
        barrier.wait()
        Api(prop_api.base_url, prop_api.api_key).put(f"/api/memories/{memory['id']}",
                                                     json={"content": content, "metadata": metadata})

    threads = [threading.Thread(target=write, args=w) for w in writes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = prop_api.get(f"/api/memories/{memory['id']}").json()
    assert (final["content"], final["metadata"]) in writes, "content and metadata come from the same write"
    hits = prop_api.search(user, final["content"], relevance_threshold=0)["memories"]
    assert hits[0]["content"] == final["content"], "the vector follows the final content"
    assert len(prop_api.get(f"/api/memories/{memory['id']}/history").json()["history"]) == 17
