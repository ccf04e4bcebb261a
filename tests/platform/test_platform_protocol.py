"""The platform routes at the HTTP level: the exact requests older clients and Flowise's Mem0 node send."""

from __future__ import annotations

import requests

from tests.platform.conftest import unique


class Platform:
    def __init__(self, live_service, key: str | None = None, scheme: str = "Token"):
        self.url = live_service.url
        self.headers = {"Authorization": f"{scheme} {key or live_service.api_key}"}

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.headers, timeout=30, **kwargs)


def add(platform: Platform, user: str, *texts: str, **fields) -> list[dict]:
    response = platform("POST", "/v1/memories/", json={
        "messages": [{"role": "user", "content": t} for t in texts], "user_id": user, "infer": False, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_route_needs_a_valid_key_as_token_or_bearer(live_service):
    assert Platform(live_service)("GET", "/v1/ping/").json()["status"] == "ok"
    assert Platform(live_service, scheme="Bearer")("GET", "/v1/ping/").status_code == 200
    for method, path in [("GET", "/v1/ping/"), ("POST", "/v1/memories/search/"), ("GET", "/v1/entities/"),
                         ("DELETE", "/v1/memories/")]:
        refused = requests.request(method, live_service.url + path, timeout=30,
                                   headers={"Authorization": "Token wrong"})
        assert refused.status_code == 401 and refused.json()["detail"] == "Invalid API key"
        assert requests.request(method, live_service.url + path, timeout=30).status_code == 401


def test_flowise_mem0_node_requests(live_service):
    """Flowise 3.1.2's node: search on /v1 (or /v2) with empty metadata/filters, expects a plain list of memories."""
    platform, chat_id = Platform(live_service), unique("chat")
    add(platform, chat_id, "My name is Alice", "I work as a pilot")
    for path in ("/v1/memories/search/", "/v2/memories/search/"):
        found = platform("POST", path, json={"query": "What is my name?", "user_id": chat_id, "enable_graph": False,
                                             "metadata": {}, "filters": {}, "org_id": "x", "project_id": "y"})
        assert found.status_code == 200, found.text
        assert isinstance(found.json(), list) and found.json()[0]["memory"] == "My name is Alice"
    listed = platform("GET", f"/v1/memories/?user_id={chat_id}&enable_graph=false&metadata=%5Bobject+Object%5D"
                             "&filters=%5Bobject+Object%5D")
    assert listed.status_code == 200, listed.text
    assert sorted(m["memory"] for m in listed.json()) == ["I work as a pilot", "My name is Alice"]


def test_legacy_and_v1_1_output_formats(live_service):
    platform, user = Platform(live_service), unique("olga")
    legacy = add(platform, user, "Speaks Portuguese")
    assert legacy[0]["event"] == "ADD" and legacy[0]["data"] == {"memory": "Speaks Portuguese"}
    v11 = add(platform, user, "Speaks Spanish", output_format="v1.1")
    assert v11["results"][0]["memory"] == "Speaks Spanish"
    assert platform("POST", "/v1/memories/search/", json={"query": "Spanish", "user_id": user,
                                                          "output_format": "v1.1"}).json()["results"]
    assert len(platform("GET", f"/v1/memories/?user_id={user}&output_format=v1.1").json()["results"]) == 2


def test_async_mode_answers_an_event_that_can_be_read_back(live_service):
    platform, user = Platform(live_service), unique("pia")
    [event] = add(platform, user, "Plays chess on Fridays", async_mode=True)
    assert event["status"] == "SUCCEEDED" and event["event_id"]
    read = platform("GET", f"/v1/event/{event['event_id']}/").json()
    assert read["status"] == "SUCCEEDED" and read["results"][0]["memory"] == "Plays chess on Fridays"
    assert platform("GET", "/v1/event/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_pagination_of_lists(live_service):
    platform, user = Platform(live_service), unique("quinn")
    add(platform, user, *[f"fact number {i}" for i in range(5)])
    first = platform("POST", "/v3/memories/?page=1&page_size=2", json={"filters": {"user_id": user}}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
    last = requests.post(first["next"].replace("page=2", "page=3"), json={"filters": {"user_id": user}},
                         headers=platform.headers, timeout=30).json()
    assert len(last["results"]) == 1 and last["next"] is None
    seen = platform("POST", "/v2/memories/", json={"filters": {"AND": [{"user_id": user}]}}).json()
    assert isinstance(seen, list) and len(seen) == 5
    paged_v1 = platform("GET", f"/v1/memories/?user_id={user}&page=2&page_size=4").json()
    assert paged_v1["count"] == 5 and len(paged_v1["results"]) == 1


def test_expiration_date_hides_the_memory_after_that_day(live_service):
    platform, user = Platform(live_service), unique("rui")
    [kept] = add(platform, user, "Has a conference pass", expiration_date="2999-12-31")
    assert platform("GET", f"/v1/memories/{kept['id']}/").json()["expiration_date"] == "2999-12-31"
    refused = platform("POST", "/v1/memories/", json={"messages": "x", "user_id": user, "infer": False,
                                                      "expiration_date": "2000-01-01"})
    assert refused.status_code == 400 and refused.json()["field"] == "expiration_date"


def test_bad_requests_name_the_field(live_service):
    platform = Platform(live_service)
    cases = [
        ("POST", "/v1/memories/", {"messages": [{"role": "user", "content": "x"}], "infer": False}, "user_id"),
        ("POST", "/v1/memories/", {"messages": [{"role": "system", "content": "x"}], "user_id": "u", "infer": False},
         "messages"),
        ("POST", "/v3/memories/search/", {"query": "x", "filters": {"user_id": "*"}}, "filters"),
        ("POST", "/v3/memories/search/", {"query": "x", "filters": {"user_id": "u", "colour": "red"}},
         "filters.colour"),
        ("POST", "/v3/memories/", {"filters": {"AND": {"user_id": "u"}}}, "filters.AND"),
        ("POST", "/v3/memories/search/", {"query": "x", "filters": {"user_id": "u"}, "top_k": 0}, "top_k"),
    ]
    for method, path, body, field in cases:
        response = platform(method, path, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["field"] == field and response.json()["detail"]


def test_scoped_keys_reach_only_their_user(live_service):
    admin, user, other = Platform(live_service), unique("sam"), unique("tess")
    add(admin, other, "Secret of another user")
    created = requests.post(live_service.url + "/api/keys", json={"user_id": user, "name": "platform test"},
                            headers={"Authorization": f"Bearer {live_service.api_key}"}, timeout=30)
    assert created.status_code == 201, created.text
    scoped = Platform(live_service, key=created.json()["key"])
    assert scoped("GET", "/v1/ping/").status_code == 200
    assert len(add(scoped, user, "Likes sushi")) == 1
    assert scoped("POST", "/v1/memories/", json={"messages": "x", "user_id": other, "infer": False}).status_code == 403
    assert scoped("POST", "/v3/memories/search/", json={"query": "secret", "filters": {"user_id": other}}
                  ).status_code == 403
    names = {e["name"] for e in scoped("GET", "/v1/entities/").json()["results"]}
    assert names == {user}


def test_a_key_bound_to_a_user_needs_no_user_id(live_service):
    user = unique("uma")
    created = requests.post(live_service.url + "/api/keys", json={"user_id": user}, timeout=30,
                            headers={"Authorization": f"Bearer {live_service.api_key}"}).json()
    scoped = Platform(live_service, key=created["key"])
    added = scoped("POST", "/v3/memories/add/", json={"messages": "Collects vinyl records", "infer": False}).json()
    assert added["results"][0]["user_id"] == user
    found = scoped("POST", "/v3/memories/search/", json={"query": "music collection"}).json()["results"]
    assert [m["memory"] for m in found] == ["Collects vinyl records"]
