"""mem0's Python SDK (`MemoryClient`, pinned in tests/requirements.txt) with only host and key changed."""

from __future__ import annotations

import time

import pytest
import requests

from tests.platform.conftest import unique


def conversation(*texts: str) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)]


def api(live_service, method: str, path: str, **kwargs):
    return requests.request(method, live_service.url + path, timeout=30,
                            headers={"Authorization": f"Bearer {live_service.api_key}"}, **kwargs)


def test_add_without_inference_then_search_list_and_get(mem0_client):
    user = unique("alice")
    added = mem0_client.add(conversation("I am allergic to peanuts", "Noted, no peanuts."), user_id=user,
                            infer=False, metadata={"source": "onboarding"})
    assert added["status"] == "SUCCEEDED" and [e["event"] for e in added["results"]] == ["ADD", "ADD"]
    peanuts = added["results"][0]

    found = mem0_client.search("food allergy peanuts", filters={"user_id": user})["results"]
    assert found[0]["id"] == peanuts["id"]
    assert found[0]["memory"] == "I am allergic to peanuts"
    assert 0 < found[0]["score"] <= 1

    listed = mem0_client.get_all(filters={"user_id": user})
    assert listed["count"] == 2
    assert {m["memory"] for m in listed["results"]} == {"I am allergic to peanuts", "Noted, no peanuts."}

    memory = mem0_client.get(peanuts["id"])
    assert memory["user_id"] == user
    assert memory["metadata"] == {"source": "onboarding", "role": "user"}


def test_update_is_visible_and_recorded_in_history(mem0_client):
    user = unique("bob")
    memory_id = mem0_client.add("I live in Berlin", user_id=user, infer=False)["results"][0]["id"]
    updated = mem0_client.update(memory_id, text="I live in Munich")
    assert updated["memory"] == "I live in Munich"
    assert mem0_client.get(memory_id)["memory"] == "I live in Munich"
    assert mem0_client.search("Munich", filters={"user_id": user})["results"][0]["id"] == memory_id

    history = mem0_client.history(memory_id)
    assert [(h["event"], h["old_memory"], h["new_memory"]) for h in history] == [
        ("ADD", None, "I live in Berlin"), ("UPDATE", "I live in Berlin", "I live in Munich")]


def test_delete_and_delete_all_forget_only_what_they_name(mem0_client):
    from mem0.exceptions import MemoryNotFoundError

    user, other = unique("carol"), unique("dave")
    first, second = (r["id"] for r in mem0_client.add(conversation("I drink green tea", "Tea noted"), user_id=user,
                                                          infer=False)["results"])
    mem0_client.add("I drink black coffee", user_id=other, infer=False)

    assert "deleted" in mem0_client.delete(first)["message"]
    with pytest.raises(MemoryNotFoundError):
        mem0_client.get(first)
    assert [m["id"] for m in mem0_client.get_all(filters={"user_id": user})["results"]] == [second]

    mem0_client.delete_all(user_id=user)
    assert mem0_client.get_all(filters={"user_id": user})["count"] == 0
    assert mem0_client.get_all(filters={"user_id": other})["count"] == 1


def test_batch_update_and_delete_are_all_or_nothing(mem0_client):
    from mem0.exceptions import MemoryNotFoundError

    user = unique("erin")
    ids = [r["id"] for r in mem0_client.add(conversation("likes jazz", "likes rock", "likes opera"), user_id=user,
                                            infer=False)["results"]]
    mem0_client.batch_update([{"memory_id": ids[0], "text": "likes blues"},
                              {"memory_id": ids[1], "text": "likes punk"}])
    assert [mem0_client.get(i)["memory"] for i in ids] == ["likes blues", "likes punk", "likes opera"]

    with pytest.raises(MemoryNotFoundError):
        mem0_client.batch_update([{"memory_id": ids[2], "text": "likes techno"},
                                  {"memory_id": "mem_does_not_exist", "text": "x"}])
    assert mem0_client.get(ids[2])["memory"] == "likes opera"

    mem0_client.batch_delete([{"memory_id": ids[0]}, {"memory_id": ids[1]}])
    assert [m["id"] for m in mem0_client.get_all(filters={"user_id": user})["results"]] == [ids[2]]


def test_filters_with_and_or_agent_and_run(mem0_client):
    alice, bob = unique("alice"), unique("bob")
    travel = mem0_client.add("Prefers window seats on flights", user_id=alice, agent_id="travel", run_id="trip-1",
                             infer=False)["results"][0]
    mem0_client.add("Prefers aisle seats on trains", user_id=alice, agent_id="rail", run_id="trip-2", infer=False)
    bobs = mem0_client.add("Prefers window seats on buses", user_id=bob, agent_id="travel", infer=False)["results"][0]

    either = mem0_client.search("window seat", filters={"OR": [{"AND": [{"user_id": alice}, {"agent_id": "travel"}]},
                                                                {"user_id": bob}]}, threshold=0.0)["results"]
    assert {m["id"] for m in either} == {travel["id"], bobs["id"]}

    by_run = mem0_client.get_all(filters={"AND": [{"user_id": alice}, {"run_id": "trip-1"}]})["results"]
    assert [(m["id"], m["agent_id"], m["run_id"]) for m in by_run] == [(travel["id"], "travel", "trip-1")]

    any_agent_but_rail = mem0_client.get_all(filters={"AND": [{"user_id": {"in": [alice, bob]}},
                                                              {"agent_id": {"ne": "rail"}}]})["results"]
    assert {m["id"] for m in any_agent_but_rail} == {travel["id"], bobs["id"]}

    assert len(mem0_client.search("seats", filters={"user_id": alice}, top_k=1, threshold=0.0)["results"]) == 1
    assert mem0_client.search("seats", filters={"user_id": alice}, threshold=0.99)["results"] == []

    future = mem0_client.get_all(filters={"AND": [{"user_id": alice}, {"created_at": {"gte": "2999-01-01"}}]})
    assert future["count"] == 0


def test_memories_without_a_user_belong_to_their_agent(mem0_client, live_service):
    agent = unique("concierge")
    memory = mem0_client.add("Guests get late checkout on Sundays", agent_id=agent, infer=False)["results"][0]
    assert memory["user_id"] is None and memory["agent_id"] == agent

    listed = mem0_client.get_all(filters={"agent_id": agent})["results"]
    assert [m["id"] for m in listed] == [memory["id"]]
    assert mem0_client.search("checkout", filters={"agent_id": agent})["results"][0]["id"] == memory["id"]
    # The same memory through the guide's API: its owner is the documented stand-in user.
    stored = api(live_service, "GET", f"/api/memories/{memory['id']}").json()
    assert (stored["user_id"], stored["agent_id"]) == (f"agent:{agent}", agent)


def test_infer_true_without_a_chat_model_says_what_to_configure(mem0_client):
    from mem0.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        mem0_client.add("I moved to Lisbon", user_id=unique("frank"))
    assert "infer=false" in str(raised.value) and "OPENAI_API_KEY" in str(raised.value)


def test_wrong_key_is_refused_at_construction(live_service):
    from mem0 import MemoryClient

    with pytest.raises(ValueError, match="Invalid API key"):
        MemoryClient(api_key="not-the-key", host=live_service.url)


def test_guide_api_and_platform_routes_share_the_same_memories(mem0_client, live_service):
    user = unique("gina")
    created = api(live_service, "POST", "/api/memories", json={
        "user_id": user, "content": "Works as a nurse on night shifts", "type": "fact", "agent_id": "hr",
        "session_id": "s-9", "metadata": {"categories": ["work"], "source": "form"}}).json()
    seen = mem0_client.get(created["id"])
    assert (seen["memory"], seen["user_id"], seen["agent_id"], seen["run_id"]) == (
        "Works as a nurse on night shifts", user, "hr", "s-9")
    assert seen["categories"] == ["work"] and seen["metadata"] == {"source": "form"}
    assert mem0_client.search("job", filters={"AND": [{"user_id": user}, {"categories": {"contains": "work"}}]},
                              threshold=0.0)["results"][0]["id"] == created["id"]

    added = mem0_client.add("Allergic to penicillin", user_id=user, agent_id="hr", run_id="s-10", infer=False,
                            metadata={"urgent": True})["results"][0]
    stored = api(live_service, "GET", f"/api/memories/{added['id']}").json()
    assert (stored["content"], stored["user_id"], stored["agent_id"], stored["session_id"]) == (
        "Allergic to penicillin", user, "hr", "s-10")
    assert stored["metadata"] == {"urgent": True, "role": "user"}
    listed = api(live_service, "GET", f"/api/memories/user/{user}").json()
    assert {m["id"] for m in listed["memories"]} == {created["id"], added["id"]}


def test_users_lists_entities_and_delete_users_removes_them(mem0_client):
    user, agent, run = unique("hank"), unique("planner"), unique("run")
    mem0_client.add("Plans trips in spring", user_id=user, agent_id=agent, run_id=run, infer=False)
    entities = {(e["type"], e["name"]): e["total_memories"] for e in mem0_client.users()["results"]}
    assert entities[("user", user)] == 1 and entities[("agent", agent)] >= 1 and entities[("run", run)] == 1

    mem0_client.delete_users(user_id=user)
    assert mem0_client.get_all(filters={"user_id": user})["count"] == 0
    assert ("user", user) not in {(e["type"], e["name"]) for e in mem0_client.users()["results"]}


def test_unsupported_features_answer_clear_json(mem0_client, live_service):
    from mem0.exceptions import MemoryError as Mem0Error

    with pytest.raises(Mem0Error, match="Graph memory"):
        mem0_client.add("Knows Dr. Lee", user_id=unique("ivy"), infer=False, enable_graph=True)
    with pytest.raises(Mem0Error, match="not supported"):
        mem0_client.create_memory_export(schema="{}", user_id="x")
    for method, path in [("POST", "/v1/feedback/"), ("GET", "/v2/profiles/settings/"), ("GET", "/v1/nothing-here/")]:
        response = api(live_service, method, path, json={})
        assert response.status_code in (404, 501)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["message"]


def completed(service, event_id: str) -> dict:
    """The platform event of an add once its background extraction has finished."""
    deadline = time.monotonic() + 60  # a bound for polling, not a speed requirement
    while (event := api(service, "GET", f"/v1/event/{event_id}/").json())["status"] in ("PENDING", "RUNNING"):
        assert time.monotonic() < deadline, event
        time.sleep(0.1)
    assert event["status"] == "SUCCEEDED", event
    return event


def test_infer_true_learns_facts_with_the_configured_chat_model(llm_service, fake_openai):
    import json

    from mem0 import MemoryClient

    fake_openai.clear()
    client = MemoryClient(api_key=llm_service.api_key, host=llm_service.url)
    user = unique("nina")
    fake_openai.queue_chat({"content": json.dumps({"facts": [{"content": "Lives in Porto", "type": "fact"},
                                                             {"content": "Is vegetarian", "type": "preference"}]})})
    queued = client.add(conversation("Hi! I live in Porto and I don't eat meat.", "Nice to meet you!"), user_id=user)
    assert queued["status"] == "PENDING", "v3 adds with inference are answered at once, learned in the background"
    added = completed(llm_service, queued["event_id"])
    assert [(e["event"], e["memory"]) for e in added["results"]] == [("ADD", "Lives in Porto"),
                                                                     ("ADD", "Is vegetarian")]
    assert "I live in Porto" in fake_openai.chat_requests()[0]["messages"][-1]["content"]
    porto = added["results"][0]["id"]

    fake_openai.queue_chat({"content": json.dumps({"facts": [{"content": "Moved to Lisbon", "type": "fact"}]})})
    fake_openai.queue_chat({"content": json.dumps({"decisions": [
        {"event": "UPDATE", "id": porto, "content": "Lives in Lisbon", "type": "fact"}]})})
    changed = completed(llm_service, client.add("I moved to Lisbon last week", user_id=user)["event_id"])["results"]
    assert [(e["event"], e["id"], e["memory"], e["previous_memory"]) for e in changed] == [
        ("UPDATE", porto, "Lives in Lisbon", "Lives in Porto")]
    assert client.search("Where does the user live?", filters={"user_id": user})["results"][0]["memory"] == \
        "Lives in Lisbon"
    assert [h["event"] for h in client.history(porto)] == ["ADD", "UPDATE"]


async def test_async_client_works_the_same(live_service):
    from mem0 import AsyncMemoryClient

    user = unique("omar")
    async with AsyncMemoryClient(api_key=live_service.api_key, host=live_service.url) as client:
        added = await client.add("Has two children, Lina and Sami", user_id=user, infer=False)
        found = await client.search("kids names", filters={"user_id": user})
        assert found["results"][0]["id"] == added["results"][0]["id"]
        await client.delete_all(user_id=user)
        assert (await client.get_all(filters={"user_id": user}))["count"] == 0
