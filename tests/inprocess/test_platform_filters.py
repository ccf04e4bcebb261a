"""The platform routes' filters, as a mem0 client sends them, on both backends: every operator answers what the
client asked for, in list, search and delete-all alike, and a malformed filter is a 400 naming its part."""

from __future__ import annotations

import json

import pytest

USER = "filter-user"


async def _memories(api) -> dict[str, str]:
    made = {}
    for name, fields in {
        "tea": {"content": "Drinks green tea every morning", "agent_id": "chef",
                "metadata": {"categories": ["food", "habits"], "app_id": "kitchen", "level": 3}},
        "bike": {"content": "Rides a BIKE to work", "session_id": "run-1",
                 "metadata": {"categories": "sport", "app_id": "fitness", "level": 3.0}},
        "jazz": {"content": "Listens to jazz at night", "metadata": {"categories": ["music"], "level": True}},
    }.items():
        made[name] = (await api.create(USER, **fields))["id"]
    return made


async def _listed(api, filters) -> set[str]:
    status, body = await api.call("POST", "/v2/memories/", json={"filters": {"AND": [{"user_id": USER}, filters]}})
    assert status == 200, body
    return {m["id"] for m in body}


async def test_each_operator_selects_what_the_client_asked_for(api):
    ids = await _memories(api)
    cases = [
        ({"categories": {"in": ["sport", "music"]}}, {"bike", "jazz"}),
        ({"categories": {"ne": "food"}}, {"bike", "jazz"}),
        ({"app_id": "kitchen"}, {"tea"}),
        ({"app_id": {"nin": ["kitchen"]}}, {"bike", "jazz"}),
        ({"agent_id": "*"}, {"tea"}),
        ({"agent_id": {"ne": "chef"}}, {"bike", "jazz"}),
        ({"run_id": {"in": ["run-1", "run-2"]}}, {"bike"}),
        ({"memory": {"icontains": "bike"}}, {"bike"}),
        ({"memory": {"contains": "bike"}}, set()),
        ({"metadata": {"level": 3}}, {"tea", "bike"}),
        ({"metadata": {"level": True}}, {"jazz"}),
        ({"OR": [{"app_id": "fitness"}, {"categories": "music"}]}, {"bike", "jazz"}),
        ({"NOT": [{"OR": [{"app_id": "fitness"}, {"categories": "music"}]}]}, {"tea"}),
        ({"created_at": {"gte": "2000-01-01"}}, {"tea", "bike", "jazz"}),
        ({"created_at": {"lt": "2000-01-01"}}, set()),
    ]
    for filters, expected in cases:
        assert await _listed(api, filters) == {ids[n] for n in expected}, filters

    status, found = await api.call("POST", "/v3/memories/search/", json={
        "query": "what does the user do in the morning", "filters": {"AND": [{"user_id": USER},
                                                                          {"categories": {"in": ["food", "music"]}}]}})
    assert status == 200, found
    assert {m["id"] for m in found["results"]} <= {ids["tea"], ids["jazz"]}
    assert ids["tea"] in {m["id"] for m in found["results"]}

    status, deleted = await api.call("DELETE", "/v1/memories/", params={
        "user_id": USER, "filters": json.dumps({"memory": {"icontains": "JAZZ"}})})
    assert status == 200 and deleted["deleted"] == 1
    assert await _listed(api, {"memory": "*"}) == {ids["tea"], ids["bike"]}


@pytest.mark.parametrize("filters, field", [
    ({"created_at": {"contains": "2026"}}, "filters.created_at"),
    ({"metadata": {'bad"key': 1}}, "filters.metadata"),
    ({"created_at": {"gte": "yesterday"}}, "filters.created_at"),
    ({"memory": {"gt": "a"}}, "filters.memory"),
])
async def test_a_filter_the_stores_cannot_answer_is_a_400_naming_its_part(api, filters, field):
    status, body = await api.call("POST", "/v2/memories/", json={"filters": {"AND": [{"user_id": USER}, filters]}})
    assert status == 400, body
    assert body["field"] == field


async def test_a_filtered_search_finds_its_match_behind_hundreds_of_closer_memories(api):
    """The index draws candidates among the memories the filter's type and agent allow: the one preference is
    found although 400 facts are closer to the query."""
    user = "crowded-user"
    status, body = await api.call("POST", "/api/memories/batch", json={"memories": [
        {"user_id": user, "content": f"Drinks coffee with breakfast, cup number {i}", "type": "fact"}
        for i in range(400)]})
    assert status in (200, 201, 207), body
    wanted = await api.create(user, "Goes hiking in the mountains on weekends", type="preference", agent_id="guide")
    for filters in ({"memory_type": "preference"}, {"agent_id": {"in": ["guide"]}}):
        status, found = await api.call("POST", "/v2/memories/search/", json={
            "query": "coffee with breakfast", "top_k": 3, "filters": {"AND": [{"user_id": user}, filters]}})
        assert status == 200, found
        assert [m["id"] for m in found] == [wanted["id"]], filters
    status, none = await api.call("POST", "/v2/memories/search/", json={
        "query": "coffee with breakfast", "filters": {"AND": [{"user_id": user}, {"memory_type": "preference"},
                                                             {"memory_type": "fact"}]}})
    assert status == 200 and none == []
