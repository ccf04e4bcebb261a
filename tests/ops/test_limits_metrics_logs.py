"""Per-key rate limits, CORS, Prometheus metrics, JSON logs with request ids, and the audit trail."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from mem0_service.ops.ratelimit import FileBuckets, RateLimiter
from tests.support.api import Api
from tests.support.fixtures import unique_user


def test_rate_limit_answers_429_with_retry_after_per_key(service_factory):
    service = service_factory({"MEM0_RATE_LIMIT": "30", "MEM0_RATE_LIMIT_BURST": "5"})
    api = Api(service.url, service.api_key)
    user = unique_user()
    answers = [api.post("/api/memories/search", json={"user_id": user}).status_code for _ in range(5)]
    assert answers == [200] * 5
    limited = api.post("/api/memories/search", json={"user_id": user})
    assert limited.status_code == 429
    assert limited.json()["error"] == "Too Many Requests"
    wait = int(limited.headers["Retry-After"])
    assert 1 <= wait <= 2  # 30/min: one request every 2 s
    assert limited.headers["X-Request-ID"]

    # Another key has its own budget; health checks are never limited.
    scoped = api.post("/api/keys", json={"user_id": user})
    assert scoped.status_code == 429  # the admin key is still out of budget ...
    time.sleep(wait)
    created = api.post("/api/keys", json={"user_id": user})
    assert created.status_code == 201  # ... until Retry-After has passed
    other = created.json()["key"]
    assert all(api.get("/api/auth/check", key=other).status_code == 200 for _ in range(5))
    assert all(requests.get(f"{service.url}/api/health", timeout=5).status_code == 200 for _ in range(20))


def test_default_has_no_rate_limit_and_no_cors(live_service):
    api = Api(live_service.url, live_service.api_key)
    user = unique_user()
    statuses = {api.post("/api/memories/search", json={"user_id": user}).status_code for _ in range(120)}
    assert statuses == {200}
    response = api.get("/api/health", headers={"Origin": "https://evil.example"}, auth=False)
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = requests.options(f"{live_service.url}/api/memories", timeout=5, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_allows_only_configured_origins(service_factory):
    service = service_factory({"MEM0_CORS_ORIGINS": "https://app.example.com"})
    preflight = requests.options(f"{service.url}/api/memories/search", timeout=5, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    api = Api(service.url, service.api_key)
    allowed = api.get("/api/auth/check", headers={"Origin": "https://app.example.com"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    denied = api.get("/api/auth/check", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_after_traffic(service_factory):
    service = service_factory()
    api = Api(service.url, service.api_key)
    user = unique_user()
    for i in range(3):
        api.create(user, f"The user's plant number {i} needs water every {i + 2} days")
    api.search(user, "watering plants")
    missing = api.get("/api/memories/mem_does_not_exist")
    assert missing.status_code == 404
    api.get("/api/auth/check", key="wrong")

    assert requests.get(f"{service.url}/metrics", timeout=5).status_code == 401  # admin key needed by default
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.text
    samples = _samples(text)
    assert samples['mem0_http_requests_total{method="POST",route="/api/memories",status="201"}'] == 3
    assert samples['mem0_http_requests_total{method="POST",route="/api/memories/search",status="200"}'] == 1
    assert samples['mem0_http_requests_total{method="GET",route="/api/memories/{memory_id}",status="404"}'] == 1
    assert samples['mem0_http_requests_total{method="GET",route="/api/auth/check",status="401"}'] == 1
    assert samples["mem0_auth_failures_total"] == 2  # the wrong key, and /metrics asked without one
    assert samples['mem0_http_request_duration_seconds_count{method="POST",route="/api/memories"}'] == 3
    assert samples['mem0_http_request_duration_seconds_bucket{method="POST",route="/api/memories",le="+Inf"}'] == 3
    for dependency, operation in (("embedder", "embed"), ("embedder", "embed_one"), ("vector_index", "upsert"),
                                  ("vector_index", "search"), ("record_store", "insert")):
        key = f'mem0_dependency_duration_seconds_count{{dependency="{dependency}",operation="{operation}"}}'
        assert samples.get(key, 0) >= 1, key
    assert samples["mem0_memories"] == 3 and samples["mem0_vectors"] == 3
    assert samples["mem0_index_backlog"] == 0 and samples["mem0_index_outbox"] == 0
    assert "# TYPE mem0_http_request_duration_seconds histogram" in text
    assert re.search(r'mem0_build_info\{embedder="use-multilingual-v3",records="sqlite",vectors="embedded",'
                     r'version="[^"]+"\} 1', text)
    assert "mem_does_not_exist" not in text  # route templates, never raw ids

    scoped = api.post("/api/keys", json={"user_id": user}).json()["key"]
    assert api.get("/metrics", key=scoped).status_code == 403


def test_public_metrics_when_configured(service_factory):
    service = service_factory({"MEM0_METRICS_PUBLIC": "true"})
    assert "mem0_memories 0" in requests.get(f"{service.url}/metrics", timeout=5).text


def test_json_logs_carry_the_request_id_and_audit_admin_actions(service_factory):
    service = service_factory({"MEM0_LOG_FORMAT": "json"})
    api = Api(service.url, service.api_key)
    user = unique_user()
    api.create(user, "The user is allergic to peanuts")
    response = api.get(f"/api/memories/user/{user}", headers={"X-Request-ID": "trace-42.abc"})
    assert response.headers["X-Request-ID"] == "trace-42.abc"
    key = api.post("/api/keys", json={"user_id": user, "access": "read"}).json()
    api.delete(f"/api/memories/user/{user}")
    time.sleep(0.3)
    lines = [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]
    assert lines, service.log()
    access = [e for e in lines if e.get("request_id") == "trace-42.abc"]
    assert access and access[0]["path"] == f"/api/memories/user/{user}" and access[0]["status"] == 200
    assert access[0]["key_id"].startswith("admin:") and service.api_key not in json.dumps(lines)
    audits = [e for e in lines if e.get("audit")]
    created = [e for e in audits if e["action"] == "POST /api/keys"]
    assert created and created[0]["key"] == key["id"] and created[0]["user_id"] == user
    assert created[0]["actor"].startswith("admin:") and created[0]["request_id"]
    assert any(e["action"] == "DELETE /api/memories/user/{user_id}" and e["path"].endswith(user) for e in audits)
    assert key["key"] not in service.log()


def test_mem0_platform_routes_share_the_keys_budget_and_the_audit_trail(service_factory):
    service = service_factory({"MEM0_RATE_LIMIT": "30", "MEM0_RATE_LIMIT_BURST": "4", "MEM0_LOG_FORMAT": "json"})
    api = Api(service.url, service.api_key)
    user = unique_user()
    token = {"Authorization": f"Token {service.api_key}"}
    added = requests.post(f"{service.url}/v1/memories/", headers=token, timeout=10, json={
        "messages": [{"role": "user", "content": "I keep bees"}], "user_id": user, "infer": False})
    assert added.status_code == 200, added.text
    deleted = requests.delete(f"{service.url}/v1/memories/", headers=token, params={"user_id": user}, timeout=10)
    assert deleted.status_code == 200, deleted.text
    # Two of the four requests in the burst are spent; /api and /v1 draw on one budget per key.
    assert api.post("/api/memories/search", json={"user_id": user}).status_code == 200
    assert requests.get(f"{service.url}/v1/ping/", headers=token, timeout=10).status_code == 200
    limited = requests.post(f"{service.url}/v1/memories/search/", headers=token, timeout=10,
                            json={"query": "bees", "user_id": user})
    assert limited.status_code == 429
    assert "Rate limit exceeded" in limited.json()["detail"] and int(limited.headers["Retry-After"]) >= 1

    time.sleep(0.3)
    audits = [e for line in service.log().splitlines() if line.startswith("{") and (e := json.loads(line)).get("audit")]
    assert any(e["action"] == "DELETE /v1/memories/" and e["actor"].startswith("admin:") for e in audits), audits



def test_processes_sharing_a_bucket_file_share_each_keys_budget(tmp_path):
    first, second = (RateLimiter(60, 3, tmp_path / "buckets") for _ in range(2))  # as two workers open it
    try:
        now = 1000.0
        assert [first.acquire("key-a", now), second.acquire("key-a", now), first.acquire("key-a", now)] == [0, 0, 0]
        assert second.acquire("key-a", now) == pytest.approx(1.0)  # the burst of 3 is spent across both
        assert first.acquire("key-b", now) == 0  # another key has its own budget
        assert second.acquire("key-a", now + 1.0) == 0  # one token per second comes back
    finally:
        first.close()
        second.close()


def test_a_bucket_that_filled_up_again_gives_its_slot_to_another_key(tmp_path, monkeypatch):
    monkeypatch.setattr(FileBuckets, "SLOTS", 1)  # one slot, so every key competes for it
    monkeypatch.setattr(FileBuckets, "PROBE", 1)
    limiter = RateLimiter(60, 3, tmp_path / "buckets")
    try:
        assert [limiter.acquire("key-a", 1.0) for _ in range(3)] == [0, 0, 0]
        assert limiter.acquire("key-b", 1.0) > 0  # no free slot: shares key-a's spent bucket
        # three seconds later key-a's bucket is full again, as good as none: key-b gets a whole burst of its own
        assert [limiter.acquire("key-b", 5.0) for _ in range(3)] == [0, 0, 0]
        assert limiter.acquire("key-b", 5.0) > 0
    finally:
        limiter.close()
