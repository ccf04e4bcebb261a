"""Bad input gets a clear 4xx JSON error naming the field; nothing gets a stack trace."""

from __future__ import annotations

import pytest

from tests.support.fixtures import unique_user


def assert_error(response, status: int, error: str, *, field: str | None = None, mentions: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error and body["message"]
    if field is not None:
        assert body["field"] == field
    if mentions is not None:
        assert mentions in body["message"]
    assert "Traceback" not in response.text


def test_missing_or_wrong_key_is_401_in_the_guides_shape(api):
    response = api.post("/api/memories", auth=False, json={"user_id": "u", "content": "x"})
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "message": "Invalid API key"}
    assert api.get("/api/memories/user/u", key="wrong-key").status_code == 401
    assert api.get("/api/memories/user/u", auth=False, headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401


def test_health_is_public_and_answers_head(api):
    response = api.get("/api/health", auth=False)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"] and body["timestamp"].endswith("Z")
    head = api.request("HEAD", "/api/health", auth=False)
    assert head.status_code == 200 and head.text == ""


def test_auth_check_tells_whether_a_key_works(api):
    assert api.get("/api/auth/check").json()["authenticated"] is True
    assert api.get("/api/auth/check", key="nope").status_code == 401


def test_missing_required_fields_are_named(api):
    assert_error(api.post("/api/memories", json={"content": "x"}), 400, "Bad Request", field="user_id",
                 mentions="Missing required field: user_id")
    assert_error(api.post("/api/memories", json={"user_id": "u"}), 400, "Bad Request", field="content")
    assert_error(api.post("/api/memories/search", json={"query": "x"}), 400, "Bad Request", field="user_id")


@pytest.mark.parametrize("body, field", [
    ({"user_id": "u", "content": ""}, "content"),
    ({"user_id": "u", "content": "   "}, "content"),
    ({"user_id": "u", "content": 42}, "content"),
    ({"user_id": "u", "content": "x", "type": "opinion"}, "type"),
    ({"user_id": "u", "content": "x", "metadata": "not an object"}, "metadata"),
    ({"user_id": "u/../v", "content": "x"}, "user_id"),
    ({"user_id": "", "content": "x"}, "user_id"),
    ({"user_id": "u" * 129, "content": "x"}, "user_id"),
    ({"user_id": ["u"], "content": "x"}, "user_id"),
])
def test_invalid_create_fields(api, body, field):
    assert_error(api.post("/api/memories", json=body), 400, "Bad Request", field=field)


@pytest.mark.parametrize("body, field", [
    ({"user_id": "u", "query": "x", "relevance_threshold": 1.5}, "relevance_threshold"),
    ({"user_id": "u", "query": "x", "relevance_threshold": -0.1}, "relevance_threshold"),
    ({"user_id": "u", "query": "x", "limit": "abc"}, "limit"),
    ({"user_id": "u", "query": "x", "limit": 0}, "limit"),
    ({"user_id": "u", "query": "x", "types": ["fact", "rumour"]}, "types.1"),
])
def test_invalid_search_fields(api, body, field):
    assert_error(api.post("/api/memories/search", json=body), 400, "Bad Request", field=field)


def test_invalid_list_parameters(api):
    assert_error(api.get("/api/memories/user/u?limit=abc"), 400, "Bad Request", field="limit")
    assert_error(api.get("/api/memories/user/u?offset=-1"), 400, "Bad Request", field="offset")
    assert_error(api.get("/api/memories/user/u?type=rumour"), 400, "Bad Request", field="type")
    assert_error(api.get("/api/memories/user/u?created_before=yesterday"), 400, "Bad Request", field="created_before")


def test_malformed_json_and_non_objects(api):
    headers = {"Content-Type": "application/json"}
    assert_error(api.post("/api/memories", data="{not json", headers=headers), 400, "Bad Request", mentions="JSON")
    assert_error(api.post("/api/memories", data="[1, 2]", headers=headers), 400, "Bad Request", mentions="JSON object")
    assert_error(api.post("/api/memories", data="", headers=headers), 400, "Bad Request")


def test_oversized_body_is_413(api):
    response = api.post("/api/memories", json={"user_id": "u", "content": "x" * (2 * 1024 * 1024)})
    assert_error(response, 413, "Payload Too Large")


def test_too_long_content_and_metadata_are_rejected(api):
    assert_error(api.post("/api/memories", json={"user_id": "u", "content": "x" * 20_001}), 400, "Bad Request",
                 field="content")
    deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    assert_error(api.post("/api/memories", json={"user_id": "u", "content": "x", "metadata": deep}), 400,
                 "Bad Request", field="metadata")


def test_unknown_memory_and_route_are_json_404(api):
    assert_error(api.get("/api/memories/mem_doesnotexist"), 404, "Not Found", mentions="mem_doesnotexist")
    assert_error(api.put("/api/memories/mem_doesnotexist", json={"content": "x"}), 404, "Not Found")
    assert_error(api.delete("/api/memories/mem_doesnotexist"), 404, "Not Found")
    assert_error(api.get("/api/nothing-here"), 404, "Not Found")


def test_wrong_method_is_json_405(api):
    assert_error(api.request("PATCH", "/api/memories/search"), 405, "Method Not Allowed")


def test_update_validates_too(api):
    memory = api.create(unique_user(), "something")
    assert_error(api.put(f"/api/memories/{memory['id']}", json={"type": "opinion"}), 400, "Bad Request", field="type")
    assert_error(api.put(f"/api/memories/{memory['id']}", json={"content": ""}), 400, "Bad Request", field="content")


def test_request_id_is_echoed(api):
    response = api.get("/api/health", auth=False, headers={"X-Request-ID": "trace-123"})
    assert response.headers["X-Request-ID"] == "trace-123"
    assert len(api.get("/api/health", auth=False).headers["X-Request-ID"]) >= 8
