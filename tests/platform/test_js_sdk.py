"""mem0's JavaScript SDK at the version Flowise 3.1.2 bundles (mem0ai 2.4.6), driven by Node with only host and key
changed."""

from __future__ import annotations

import requests

from tests.platform.conftest import unique


def ok(outcome: dict) -> object:
    assert outcome["ok"], outcome
    return outcome["result"]


def test_js_client_full_round_trip(js_client, live_service):
    user = unique("jules")
    [added, search_v1, search_v2, listed_v1, listed_v2, paged] = js_client.run(
        ("add", [[{"role": "user", "content": "My dog is called Rex"},
                  {"role": "assistant", "content": "Rex is a lovely name"}],
                 {"user_id": user, "infer": False, "metadata": {"channel": "web"}}]),
        ("search", ["What is the dog's name?", {"user_id": user}]),
        ("search", ["dog", {"api_version": "v2", "filters": {"AND": [{"user_id": user}]}, "top_k": 1}]),
        ("getAll", [{"user_id": user}]),
        ("getAll", [{"api_version": "v2", "filters": {"OR": [{"user_id": user}]}}]),
        ("getAll", [{"user_id": user, "page": 1, "page_size": 1}]))
    added = ok(added)
    assert [(e["event"], e["data"]["memory"]) for e in added] == [
        ("ADD", "My dog is called Rex"), ("ADD", "Rex is a lovely name")]
    dog_id = added[0]["id"]
    assert ok(search_v1)[0]["id"] == dog_id
    assert [m["id"] for m in ok(search_v2)] == [dog_id]
    assert {m["memory"] for m in ok(listed_v1)} == {"My dog is called Rex", "Rex is a lovely name"}
    assert len(ok(listed_v2)) == 2
    assert ok(paged)["count"] == 2 and len(ok(paged)["results"]) == 1

    [got, updated, history, batch_updated, after_batch] = js_client.run(
        ("get", [dog_id]),
        ("update", [dog_id, {"text": "My dog is called Max"}]),
        ("history", [dog_id]),
        ("batchUpdate", [[{"memoryId": added[1]["id"], "text": "Max is a lovely name"}]]),
        ("getAll", [{"user_id": user}]))
    assert ok(got)["metadata"] == {"channel": "web", "role": "user"}
    assert ok(updated)["memory"] == "My dog is called Max"
    assert [h["event"] for h in ok(history)] == ["ADD", "UPDATE"]
    assert ok(history)[1]["old_memory"] == "My dog is called Rex"
    assert "updated" in ok(batch_updated)["message"]
    assert {m["memory"] for m in ok(after_batch)} == {"My dog is called Max", "Max is a lovely name"}

    # What the JS client wrote, the guide's API reads.
    stored = requests.get(f"{live_service.url}/api/memories/{dog_id}", timeout=30,
                          headers={"Authorization": f"Bearer {live_service.api_key}"}).json()
    assert stored["content"] == "My dog is called Max" and stored["user_id"] == user

    [deleted, batch_deleted, users, remaining] = js_client.run(
        ("delete", [dog_id]),
        ("batchDelete", [[added[1]["id"]]]),
        ("users", []),
        ("getAll", [{"user_id": user}]))
    assert "deleted" in ok(deleted)["message"] and "deleted" in ok(batch_deleted)["message"]
    assert user not in {e["name"] for e in ok(users)["results"]}
    assert ok(remaining) == []


def test_js_client_delete_all_and_delete_users(js_client):
    user, agent = unique("kim"), unique("coach")
    outcomes = js_client.run(
        ("add", [[{"role": "user", "content": "Runs 10k on Sundays"}], {"user_id": user, "infer": False}]),
        ("add", [[{"role": "user", "content": "Wants to run a marathon"}],
                 {"user_id": user, "agent_id": agent, "infer": False}]),
        ("deleteAll", [{"user_id": user, "agent_id": agent}]),
        ("getAll", [{"user_id": user}]),
        ("deleteUsers", [{"user_id": user}]),
        ("getAll", [{"user_id": user}]))
    assert [m["memory"] for m in ok(outcomes[3])] == ["Runs 10k on Sundays"]
    assert ok(outcomes[4])["message"] == "Entity deleted successfully."
    assert ok(outcomes[5]) == []


def test_js_client_errors_carry_the_service_message(js_client):
    [inferred, missing] = js_client.run(
        ("add", [[{"role": "user", "content": "I moved to Oslo"}], {"user_id": unique("lea")}]),
        ("get", ["mem_does_not_exist"]))
    assert not inferred["ok"] and "infer=false" in inferred["error"] and "OPENAI_API_KEY" in inferred["error"]
    assert not missing["ok"] and "not found" in missing["error"]
    [refused] = js_client.run(("getAll", [{"user_id": "x"}]), api_key="wrong-key")
    assert not refused["ok"] and "Invalid API key" in refused["error"]
