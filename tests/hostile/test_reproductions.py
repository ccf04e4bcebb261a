"""The bad inputs reported against a running service, each replayed on both backends: a 4xx naming the field where
the value cannot be stored, and every later request of every user unaffected."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.api import Api
from tests.support.fixtures import unique_user


def error_of(response: requests.Response, status: int = 400) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"error", "message"} <= body.keys()
    return body


def raw_post(api: Api, path: str, text: str | bytes, **kwargs) -> requests.Response:
    data = text.encode() if isinstance(text, str) else text
    return api.post(path, data=data, headers={"Content-Type": "application/json", **kwargs.pop("headers", {})},
                    **kwargs)


def raw_json(**fields: str) -> str:
    """A JSON object from raw value texts: NaN, 1e400 or 5,000 digits, which json.dumps cannot write."""
    return "{" + ", ".join(f'"{name}": {value}' for name, value in fields.items()) + "}"


def writes_still_work(api: Api, user: str) -> None:
    """Every kind of write of another user, and the attacked user's reads."""
    other = unique_user("after")
    memory = api.create(other, "written after the bad request")
    assert api.put(f"/api/memories/{memory['id']}", json={"content": "updated after it"}).status_code == 200
    assert api.delete(f"/api/memories/{memory['id']}").status_code == 200
    assert api.create(other, "and written again")["id"]
    assert api.get(f"/api/memories/user/{user}").status_code == 200
    assert api.post("/api/memories/search", json={"user_id": user, "query": "anything"}).status_code == 200


# -- dates ----------------------------------------------------------------------------------------------------


def test_an_expiry_before_year_1000_is_stored_fixed_width_and_poisons_nothing(api):
    user = unique_user()
    response = api.post("/api/memories", json={"user_id": user, "content": "x", "expires_at": "0999-06-01T00:00:00Z"})
    assert response.status_code == 201, response.text
    assert response.json()["expires_at"] == "0999-06-01T00:00:00.000000Z"
    live = api.create(user, "a memory that stays")
    listed = api.get(f"/api/memories/user/{user}").json()
    assert [m["id"] for m in listed["memories"]] == [live["id"]], "the expired memory is gone, the other one is not"
    assert api.get(f"/api/memories/{response.json()['id']}").status_code == 404
    writes_still_work(api, user)


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "9999-12-31T00:00:00Z",
                                    "0001-01-01T12:00:00Z"])
def test_an_expiry_outside_the_storable_range_is_refused_naming_the_field(api, moment):
    user = unique_user()
    body = error_of(api.post("/api/memories", json={"user_id": user, "content": "x", "expires_at": moment}))
    assert body["field"] == "expires_at" and "0001-01-02T00:00:00Z and 9999-12-30" in body["message"]
    memory = api.create(user, "kept")
    assert error_of(api.put(f"/api/memories/{memory['id']}", json={"expires_at": moment}))["field"] == "expires_at"
    assert api.get(f"/api/memories/{memory['id']}").json()["expires_at"] is None
    writes_still_work(api, user)


def test_the_last_storable_instant_round_trips(api):
    user = unique_user()
    memory = api.create(user, "kept for a long time", expires_at="9999-12-30T23:59:59.999999Z")
    assert memory["expires_at"] == "9999-12-30T23:59:59.999999Z"
    assert api.get(f"/api/memories/{memory['id']}").json()["expires_at"] == "9999-12-30T23:59:59.999999Z"
    shifted = api.create(user, "offset given", expires_at="9999-12-30T18:00:00-05:00")
    assert shifted["expires_at"] == "9999-12-30T23:00:00.000000Z"
    writes_still_work(api, user)


@pytest.mark.parametrize("param", ["created_before", "created_after", "updated_after"])
def test_list_filter_dates_that_overflow_in_utc_are_refused(api, param):
    user = unique_user()
    api.create(user, "x")
    for moment in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        assert error_of(api.get(f"/api/memories/user/{user}", params={param: moment}))["field"] == param
    assert api.get(f"/api/memories/user/{user}", params={param: "2000-01-01T00:00:00Z"}).status_code == 200


def test_platform_expiration_date_at_the_end_of_the_calendar_is_refused(api):
    user = unique_user()
    for day in ("9999-12-31", "9999-12-30"):
        body = error_of(api.post("/v1/memories/", json={"user_id": user, "messages": "x", "infer": False,
                                                        "expiration_date": day}))
        assert body["field"] == "expiration_date"
    added = api.post("/v1/memories/", json={"user_id": user, "messages": "x", "infer": False,
                                           "expiration_date": "9999-12-29"})
    assert added.status_code == 200, added.text
    memory_id = added.json()[0]["id"]
    assert api.get(f"/v1/memories/{memory_id}/").json()["expiration_date"] == "9999-12-29"
    body = error_of(api.put(f"/v1/memories/{memory_id}/", json={"expiration_date": "9999-12-31"}))
    assert body["field"] == "expiration_date"


@pytest.mark.parametrize("filters", [{"created_at": {"gte": "0001-01-01T00:00:00+05:00"}},
                                     {"created_at": {"lte": "9999-12-31T23:59:59-05:00"}},
                                     {"updated_at": {"gt": 10**20}}])
def test_platform_filter_dates_outside_the_range_are_refused(api, filters):
    user = unique_user()
    api.create(user, "x")
    body = error_of(api.post("/v2/memories/", json={"filters": {"AND": [{"user_id": user}, filters]}}))
    assert body["field"].startswith("filters.")


# -- numbers and nesting ------------------------------------------------------------------------------------------


def test_offset_beyond_64_bits_and_huge_pages_are_refused(api):
    user = unique_user()
    api.create(user, "x")
    assert error_of(api.get(f"/api/memories/user/{user}", params={"offset": 2**63}))["field"] == "offset"
    assert api.get(f"/api/memories/user/{user}", params={"offset": 10**9}).json()["memories"] == []
    for param in ("page", "page_size"):
        body = error_of(api.get("/v1/memories/", params={"user_id": user, param: 2**63}))
        assert body["field"] == param
        body = error_of(api.post("/v2/memories/", params={param: 2**63}, json={"filters": {"user_id": user}}))
        assert body["field"] == param


def test_json_nested_1000_deep_is_refused_before_parsing(api):
    body = error_of(raw_post(api, "/api/memories", '{"a":' * 1000 + "1" + "}" * 1000))
    assert "nest" in body["message"]
    body = error_of(raw_post(api, "/v1/memories/", "[" * 100_000 + "]" * 100_000))
    assert "nest" in body["message"]


def test_an_unterminated_string_of_escaped_quotes_is_refused_at_once(api):
    # Each escaped quote used to start a fresh scan to the end of the body: about half an hour of the event loop
    # for this megabyte, during which no other request was answered. The client's 30 s timeout fails the old code.
    user = unique_user()
    key = api.post("/api/keys", json={"user_id": user, "agent_id": "agA", "name": "quotes"}).json()["key"]
    body = '"' + '\\"' * 340_000
    for who in (None, key):
        assert "Malformed JSON" in error_of(raw_post(api, "/api/memories/search", body, key=who))["message"]
    inside = '{"user_id": "' + user + '", "content": "' + '\\"' * 340_000
    assert "Malformed JSON" in error_of(raw_post(api, "/api/memories", inside))["message"]
    writes_still_work(api, user)


def test_deep_json_from_an_agent_bound_key_is_a_400(api):
    """A key bound to an agent is checked against the parsed body: a body that cannot be parsed is a 400."""
    user = unique_user()
    created = api.post("/api/keys", json={"user_id": user, "agent_id": "agA", "name": "deep"})
    key = created.json()["key"]
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    for path in ("/api/memories", "/api/memories/batch", "/api/memories/search"):
        response = api.post(path, key=key, data=deep, headers={"Content-Type": "application/json"})
        assert "nest" in error_of(response)["message"]
    written = api.post("/api/memories", key=key, json={"user_id": user, "content": "still writes"})
    assert written.status_code == 201 and written.json()["agent_id"] == "agA"


def test_metadata_nested_500_deep_is_refused(api):
    user = unique_user()
    text = raw_json(user_id=json.dumps(user), content='"x"', metadata='{"k":' * 500 + "1" + "}" * 500)
    error_of(raw_post(api, "/api/memories", text))
    writes_still_work(api, user)


@pytest.mark.parametrize("number", ["9" * 5000, str(2**63), str(-(2**63) - 1), str(2**64)])
def test_integers_beyond_64_bits_are_refused_in_metadata_and_fields(api, number):
    user = unique_user()
    text = raw_json(user_id=json.dumps(user), content='"x"', metadata=raw_json(n=number))
    assert error_of(raw_post(api, "/api/memories", text))["field"] == "metadata.n"
    text = raw_json(user_id=json.dumps(user), query='"x"', limit=number)
    assert error_of(raw_post(api, "/api/memories/search", text))["field"] == "limit"
    writes_still_work(api, user)


def test_64_bit_integers_round_trip_identically(api):
    user = unique_user()
    edges = {"max": 2**63 - 1, "min": -(2**63), "big_float": 1e308}
    memory = api.create(user, "edges", metadata=edges)
    assert api.get(f"/api/memories/{memory['id']}").json()["metadata"] == edges
    found = api.get(f"/api/memories/user/{user}", params={"metadata": json.dumps({"max": 2**63 - 1})}).json()
    assert [m["id"] for m in found["memories"]] == [memory["id"]]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_nan_infinity_and_overflowing_numbers_are_refused(api, constant):
    user = unique_user()
    text = raw_json(user_id=json.dumps(user), content='"x"', metadata=raw_json(score=constant))
    assert error_of(raw_post(api, "/api/memories", text))["field"] == "metadata.score"
    text = raw_json(user_id=json.dumps(user), messages='"x"', infer="false",
                    metadata=raw_json(deep=raw_json(score=constant)))
    assert error_of(raw_post(api, "/v1/memories/", text))["field"] == "metadata.deep.score"
    text = raw_json(user_id=json.dumps(user), query='"x"', relevance_threshold=constant)
    assert error_of(raw_post(api, "/api/memories/search", text))["field"] == "relevance_threshold"
    api.create(user, "plain", metadata={"score": 1})
    filtered = api.get(f"/api/memories/user/{user}", params={"metadata": '{"score": 1}'})
    assert filtered.status_code == 200 and filtered.json()["total"] == 1
    writes_still_work(api, user)


def test_metadata_filter_values_beyond_64_bits_are_refused(api):
    user = unique_user()
    api.create(user, "x", metadata={"n": 1})
    for value in (str(2**64), "9" * 5000, "NaN", "1e400"):
        response = api.get(f"/api/memories/user/{user}", params={"metadata": raw_json(n=value)})
        assert error_of(response)["field"] in ("metadata", "metadata.n")


# -- strings ----------------------------------------------------------------------------------------------------

NUL, SURROGATE = "a\x00b", "a\ud800b"


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["NUL", "surrogate"])
def test_nul_and_lone_surrogates_are_refused_in_every_string_field(api, bad):
    user = unique_user()
    memory = api.create(user, "the user's memory")
    cases = [
        ("POST", "/api/memories", {"user_id": user, "content": bad}, "content"),
        ("POST", "/api/memories", {"user_id": user, "content": "x", "metadata": {"k": bad}}, "metadata.k"),
        ("POST", "/api/memories", {"user_id": user, "content": "x", "metadata": {"k": {"n": [1, bad]}}},
         "metadata.k.n.1"),
        ("POST", "/api/memories", {"user_id": user, "content": "x", "metadata": {bad: 1}}, "metadata.*"),
        ("POST", "/api/memories", {"user_id": bad, "content": "x"}, "user_id"),
        ("POST", "/api/memories", {"user_id": user, "content": "x", "session_id": bad}, "session_id"),
        ("POST", "/api/memories", {"user_id": user, "messages": [{"role": "user", "content": bad}]},
         "messages.0.content"),
        ("POST", "/api/memories/search", {"user_id": user, "query": bad}, "query"),
        ("PUT", f"/api/memories/{memory['id']}", {"content": bad}, "content"),
        ("POST", "/api/keys", {"user_id": user, "name": bad}, "name"),
        ("POST", "/v1/memories/", {"user_id": user, "messages": [{"role": "user", "content": bad}], "infer": False},
         "messages.0.content"),
        ("POST", "/v1/memories/", {"user_id": user, "messages": "x", "infer": False, "categories": [bad]},
         "categories.0"),
        ("POST", "/v2/memories/", {"filters": {"user_id": user, "metadata": {"k": bad}}}, "filters.metadata.k"),
        ("PUT", "/v1/batch/", {"memories": [{"memory_id": bad, "text": "x"}]}, "memories.0.memory_id"),
    ]
    for method, path, body, field in cases:
        named = error_of(api.request(method, path, json=body))["field"]
        assert named == field or (field.endswith("*") and named.startswith(field[:-1])), (path, named)
    assert api.get(f"/api/memories/{memory['id']}").json()["content"] == "the user's memory"
    writes_still_work(api, user)


def test_a_batch_item_no_store_can_hold_fails_alone(api):
    user = unique_user()
    items = [json.dumps({"user_id": user, "content": "first"}),
             json.dumps({"user_id": user, "content": NUL}),
             raw_json(user_id=json.dumps(user), content='"x"', metadata=raw_json(score="NaN")),
             raw_json(user_id=json.dumps(user), content='"x"', expires_at='"9999-12-31T23:59:59-05:00"'),
             json.dumps({"user_id": user, "content": "last"})]
    response = raw_post(api, "/api/memories/batch", '{"memories": [' + ", ".join(items) + "]}")
    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["created"], result["failed"]) == (2, 3)
    assert [(r["status"], (r["error"] or {}).get("field")) for r in result["results"]] == [
        (201, None), (400, "content"), (400, "metadata.score"), (400, "expires_at"), (201, None)]
    assert sorted(m["content"] for m in api.get(f"/api/memories/user/{user}").json()["memories"]) == ["first", "last"]


@pytest.mark.parametrize("path", ["/api/memories/{}", "/api/memories/{}/history", "/v1/memories/{}/",
                                  "/api/memories/user/{}", "/v1/event/{}/"])
def test_nul_in_an_id_in_the_path_is_refused(api, path):
    response = api.get(path.format("mem%00x"))
    assert error_of(response)["field"] in ("memory_id", "user_id", "event_id")


def test_nul_in_query_parameters_is_refused_naming_them(api):
    user = unique_user()
    for params in ({"session_id": NUL}, {"metadata": json.dumps({"k": NUL})}, {"agent_id": NUL}):
        name = next(iter(params))
        assert error_of(api.get(f"/api/memories/user/{user}", params=params))["field"].split(".")[0] == name
    assert error_of(api.get("/v1/memories/", params={"user_id": NUL}))["field"] == "user_id"
    assert error_of(api.delete("/api/sessions/s1", params={"user_id": NUL}))["field"] == "user_id"


def test_the_same_text_is_stored_identically_on_both_backends(api):
    """What the boundary lets through round-trips unchanged: other control characters, emoji, astral planes."""
    user = unique_user()
    text = "tab\there, bell\x07, escape\x1b, emoji 🧠, astral 𝔘𝔫𝔦, RTL שלום, combining é"
    metadata = {"key\twith tab": text, "list": [text, 1, 1.5, None, True]}
    memory = api.create(user, text, metadata=metadata)
    stored = api.get(f"/api/memories/{memory['id']}").json()
    assert stored["content"] == text and stored["metadata"] == metadata


# -- filters ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ['a"b', "a\\b", "line\nbreak", "", "k" * 200])
def test_a_metadata_filter_key_that_cannot_be_a_json_path_is_a_400_not_a_503(api, key):
    user = unique_user()
    api.create(user, "x", metadata={"source": "n8n"})
    body = error_of(api.get(f"/api/memories/user/{user}", params={"metadata": json.dumps({key: 1})}))
    assert body["field"] == "metadata" and "Record store" not in body["message"]
    assert api.get(f"/api/memories/user/{user}", params={"metadata": '{"source": "n8n"}'}).json()["total"] == 1


def test_ids_given_in_platform_filters_follow_the_id_rules(api):
    for user_id in ("a/b c", "x" * 200, "?"):
        response = api.post("/v1/memories/", json={"messages": "x", "infer": False, "filters": {"user_id": user_id}})
        assert error_of(response)["field"] == "filters.user_id"


def test_a_list_inside_an_in_filter_is_a_400(api):
    user = unique_user()
    api.create(user, "x")
    for filters in ({"user_id": user, "agent_id": {"in": [["a"]]}}, {"user_id": {"in": [[user]]}},
                    {"AND": [{"user_id": user}, {"memory_type": {"nin": [{"a": 1}]}}]}):
        body = error_of(api.post("/v2/memories/", json={"filters": filters}))
        assert body["field"].startswith("filters")


def test_deep_filters_text_on_the_v1_list_is_a_400(api):
    user = unique_user()
    for text in ("[" * 1000 + "]" * 1000, "{'user_id': " + "(" * 500 + "'x'" + ")" * 500 + "}",
                 '{"user_id": ' * 300 + '"x"' + "}" * 300, "{'user_id': 1e400}", "{'user_id': b'x'}"):
        assert error_of(api.get("/v1/memories/", params={"filters": text}))["field"].startswith("filters")
    assert api.get("/v1/memories/", params={"filters": json.dumps({"user_id": user})}).status_code == 200
    assert api.get("/v1/memories/", params={"filters": str({"user_id": user})}).status_code == 200


# -- ids a URL path cannot carry -----------------------------------------------------------------------------------


@pytest.mark.parametrize("step", [".", ".."])
def test_dot_and_dot_dot_are_refused_as_new_ids(api, step):
    # requests, curl, browsers and n8n resolve /api/memories/user/.. to /api/memories/ before sending it
    user = unique_user()
    for field, body in (("user_id", {"user_id": step}), ("session_id", {"user_id": user, "session_id": step}),
                        ("agent_id", {"user_id": user, "agent_id": step})):
        assert error_of(api.post("/api/memories", json={"content": "x", **body}))["field"] == field
    assert error_of(api.post("/api/keys", json={"user_id": step}))["field"] == "user_id"
    assert error_of(api.post("/api/sessions/s1/messages", json={"user_id": step, "messages": [
        {"role": "user", "content": "hi"}]}))["field"] == "user_id"
    assert error_of(api.post("/v1/memories/", json={"user_id": step, "messages": "x", "infer": False}))["field"] \
        == "user_id"
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 0


def test_memories_stored_under_dot_dot_before_stay_readable_and_erasable_by_an_encoded_path(service_factory, tmp_path):
    # Paths are read by the API layer alike on both backends; the import runs beside the embedded default only
    # (Qdrant's local mode allows one process at a time).
    from tests.ops.helpers import cli, service_env

    service = service_factory(data_dir=tmp_path / "data")
    api = Api(service.url, service.api_key)
    line = json.dumps({"id": "mem_dot_dot_legacy", "user_id": "..", "content": "stored before the rule",
                       "type": "fact", "created_at": "2026-01-01T00:00:00.000000Z",
                       "updated_at": "2026-01-01T00:00:00.000000Z"})
    imported = cli(service_env(service), "import", input=line + "\n")
    assert imported.returncode == 0, imported.stderr
    listed = api.get("/api/memories/user/%2E%2E").json()
    assert [m["id"] for m in listed["memories"]] == ["mem_dot_dot_legacy"]
    assert api.delete("/api/memories/user/%2E%2E").status_code == 200
    assert api.get("/api/memories/mem_dot_dot_legacy").status_code == 404


# -- repeated parameters ----------------------------------------------------------------------------------------


def test_a_user_named_twice_in_query_filters_is_refused_in_json_and_python_spelling(api):
    owner, other = unique_user("owner"), unique_user("other")
    api.create(other, "the other user's memory")
    key = api.post("/api/keys", json={"user_id": owner, "name": "owner only"}).json()["key"]
    for text in (f'{{"user_id": "{owner}", "user_id": "{other}"}}', f"{{'user_id': '{owner}', 'user_id': '{other}'}}",
                 f"{{'AND': [{{'user_id': '{owner}', 'user_id': '{other}'}}]}}"):
        for who in (None, key):
            body = error_of(api.get("/v1/memories/", params={"filters": text}, key=who))
            assert body["field"] == "filters.user_id", body


def test_a_repeated_agent_id_cannot_escape_an_agent_bound_key(api):
    user = unique_user("dave")
    for agent in ("agA", "agB"):
        api.create(user, f"memory of {agent}", agent_id=agent)
    created = api.post("/api/keys", json={"user_id": user, "agent_id": "agA", "name": "agent A"})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    escape = f"/api/memories/user/{user}?agent_id=agA&agent_id=agB"
    assert error_of(api.get(escape, key=key))["field"] == "agent_id"
    assert api.request("HEAD", escape, key=key).status_code == 400
    assert error_of(api.delete(escape, key=key))["field"] == "agent_id"
    left = api.get(f"/api/memories/user/{user}").json()
    assert sorted(m["agent_id"] for m in left["memories"]) == ["agA", "agB"], "agent B's memories were not touched"


def test_a_key_given_twice_in_a_body_is_refused_and_neither_user_is_written(api):
    owner, other = unique_user("owner"), unique_user("other")
    key = api.post("/api/keys", json={"user_id": owner, "name": "owner only"}).json()["key"]
    text = f'{{"user_id": "{owner}", "content": "whose is this?", "user_id": "{other}"}}'
    for who in (None, key):
        assert error_of(raw_post(api, "/api/memories", text, key=who))["field"] == "user_id"
    nested = f'{{"user_id": "{owner}", "content": "x", "metadata": {{"tier": "free", "tier": "paid"}}}}'
    assert error_of(raw_post(api, "/api/memories", nested))["field"] == "metadata.tier"
    for user in (owner, other):
        assert api.get(f"/api/memories/user/{user}").json()["total"] == 0
    writes_still_work(api, owner)


@pytest.mark.parametrize("fields", [{"ttl_seconds": True}, {"ttl_seconds": False}])
def test_true_or_false_is_not_a_number_of_seconds(api, fields):
    user = unique_user()
    body = error_of(api.post("/api/memories", json={"user_id": user, "content": "keep me", **fields}))
    assert body["field"] == "ttl_seconds"
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 0


def test_true_is_not_a_threshold_or_a_limit(api):
    user = unique_user()
    api.create(user, "The user is allergic to peanuts")
    for name in ("relevance_threshold", "limit"):
        body = error_of(api.post("/api/memories/search", json={"user_id": user, "query": "peanuts", name: True}))
        assert body["field"] == name
    for name in ("threshold", "top_k"):
        body = error_of(api.post("/v1/memories/search/", json={"user_id": user, "query": "peanuts", name: True}))
        assert body["field"] == name


@pytest.mark.parametrize("path", ["/api/memories/user/{user}?limit=1&limit=2", "/api/memories/user/{user}?order=asc&order=desc",
                                  "/v1/memories/?user_id={user}&user_id=other", "/api/sessions/s1?user_id={user}&user_id=x",
                                  "/api/health?deep=0&deep=1", "/api/keys?include_revoked=true&include_revoked=false"])
def test_single_valued_parameters_given_twice_are_refused(api, path):
    user = unique_user()
    method = "DELETE" if path.startswith("/api/sessions") else "GET"
    body = error_of(api.request(method, path.format(user=user)))
    assert body["field"] == path.split("?")[1].split("=")[0]


# -- headers and the HTTP parser ----------------------------------------------------------------------------------


def test_a_non_utf8_authorization_header_is_a_401(api):
    response = api.get("/api/auth/check", auth=False, headers={"Authorization": b"Bearer \xff\xfe"})
    assert error_of(response, 401)["message"] == "Invalid API key"
    response = api.get("/v1/ping/", auth=False, headers={"Authorization": b"Token \xc3\x28"})
    error_of(response, 401)


def test_a_non_utf8_idempotency_key_is_a_400(api):
    user = unique_user()
    response = api.post("/api/memories", json={"user_id": user, "content": "x"},
                        headers={"Idempotency-Key": b"retry-\xff"})
    assert error_of(response)["field"] == "Idempotency-Key"
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 0
    writes_still_work(api, user)


def _send(api: Api, method: str, path: str, headers: list[tuple[str, str]], body: dict | None = None) -> tuple[int, dict]:
    """One request with the headers exactly as listed, repeats included (requests folds them into a dict)."""
    url = urlsplit(api.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else b""
        conn.putrequest(method, path)
        for name, value in [*headers, ("Content-Type", "application/json"), ("Content-Length", str(len(data)))]:
            conn.putheader(name, value)
        conn.endheaders(data)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_a_repeated_authorization_or_idempotency_key_header_is_refused(api):
    user = unique_user()
    admin, wrong = f"Bearer {api.api_key}", "Bearer not-a-key"
    for pair in ((admin, wrong), (wrong, admin), (admin, admin)):
        status, body = _send(api, "POST", "/api/memories", [("Authorization", v) for v in pair],
                             {"user_id": user, "content": "x"})
        assert (status, body["field"]) == (400, "Authorization"), body
    status, body = _send(api, "POST", "/api/memories", [("Authorization", admin), ("Idempotency-Key", "a"),
                                                        ("Idempotency-Key", "b")], {"user_id": user, "content": "x"})
    assert (status, body["field"]) == (400, "Idempotency-Key"), body
    assert api.get(f"/api/memories/user/{user}").json()["total"] == 0
    writes_still_work(api, user)


def test_if_match_given_in_several_header_fields_admits_the_tags_of_all_of_them(api):
    memory = api.create(unique_user(), "version one")
    auth = ("Authorization", f"Bearer {api.api_key}")
    status, body = _send(api, "PUT", f"/api/memories/{memory['id']}", [auth, ("If-Match", '"v7"'), ("If-Match", '"v1"')],
                         {"content": "version two"})
    assert status == 200 and body["content"] == "version two", body
    status, body = _send(api, "PUT", f"/api/memories/{memory['id']}", [auth, ("If-Match", '"v1"'), ("If-Match", '"v9"')],
                         {"content": "version three"})
    assert status == 412, body


def _raw_http(api: Api, request: bytes) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(api.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 10_000 + b"\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET /api/memories/" + b"x" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
], ids=["header too long", "NUL in a header", "bad request line", "URL too long", "bad content length"])
def test_requests_the_http_parser_refuses_get_the_json_error_shape(api, request_bytes):
    status, headers, body = _raw_http(api, request_bytes)
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(body)
    assert error["error"] == "Bad Request" and error["message"] and "Traceback" not in error["message"]
    assert api.get("/api/health").status_code == 200
