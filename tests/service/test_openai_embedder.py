"""OpenAI (or OpenAI-compatible) embeddings: the production embedder, against a local fake server."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.fixtures import unique_user


@pytest.fixture
def openai_api(service_factory, fake_openai):
    fake_openai.clear()
    service = service_factory(env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url,
                                   "MEM0_OPENAI_TIMEOUT": "2", "MEM0_SCORE_CALIBRATION": "0.1,0.3,0.6"})
    return Api(service.url, service.api_key)


def embedding_calls(fake_openai):
    return [r for r in fake_openai.requests if r["path"].endswith("/embeddings")]


def test_openai_is_the_embedder_when_a_key_is_set(openai_api, fake_openai):
    user = unique_user()
    memory = openai_api.create(user, "User prefers email notifications")
    openai_api.create(user, "Project X uses React and PostgreSQL")
    calls = embedding_calls(fake_openai)
    assert calls and calls[0]["body"]["model"] == "text-embedding-ada-002"
    assert {k.lower(): v for k, v in calls[0]["headers"].items()}["authorization"] == "Bearer sk-test"
    hits = openai_api.search(user, "email notifications preferences", relevance_threshold=0.0)["memories"]
    assert hits[0]["id"] == memory["id"]


def test_batch_embeds_in_one_request(openai_api, fake_openai):
    user = unique_user()
    fake_openai.clear()
    response = openai_api.post("/api/memories/batch", json={"memories": [
        {"user_id": user, "content": f"fact number {i}"} for i in range(20)]})
    assert response.json()["created"] == 20
    calls = embedding_calls(fake_openai)
    assert len(calls) == 1 and len(calls[0]["body"]["input"]) == 20


def test_provider_errors_are_a_clear_503_and_store_nothing(openai_api, fake_openai):
    user = unique_user()
    fake_openai.queue_error("/embeddings", 401, {"error": {"message": "Incorrect API key provided", "type": "invalid"}})
    response = openai_api.post("/api/memories", json={"user_id": user, "content": "never stored"})
    assert response.status_code == 503
    body = response.json()
    assert body["dependency"] == "embedder" and "OpenAI API error: 401" in body["message"]
    assert openai_api.get(f"/api/memories/user/{user}").json()["total"] == 0


def test_rate_limits_are_retried(openai_api, fake_openai):
    user = unique_user()
    fake_openai.queue_error("/embeddings", 429)
    fake_openai.queue_error("/embeddings", 503)
    response = openai_api.post("/api/memories", json={"user_id": user, "content": "stored after two retries"})
    assert response.status_code == 201
    assert len(embedding_calls(fake_openai)) == 3


def test_junk_embeddings_are_a_503(openai_api, fake_openai):
    fake_openai.queue_error("/embeddings", 200, {"object": "list", "data": [{"index": 0, "embedding": [0.1, 0.2]}]})
    response = openai_api.post("/api/memories", json={"user_id": unique_user(), "content": "wrong dimension"})
    assert response.status_code == 503 and "1536" in response.json()["message"]


def test_collection_name_carries_model_and_dimension():
    from mem0_service.vectors.qdrant import collection_name

    assert collection_name("mem0", "text-embedding-3-small", 1536) == "mem0_text_embedding_3_small_1536"
    assert collection_name("mem0", "text-embedding-ada-002", 1536) != collection_name("mem0", "use-multilingual-v3", 512)


def test_changing_the_model_rebuilds_the_index_from_the_records(service_factory, fake_openai, tmp_path):
    import time

    local = service_factory(data_dir=tmp_path / "data")
    api = Api(local.url, local.api_key)
    user = unique_user()
    memories = [api.create(user, text) for text in ["Olga lives in Kazan", "Olga drinks black coffee",
                                                    "The project deadline is in June"]]
    local.stop()
    fake_openai.clear()
    remote = service_factory(data_dir=tmp_path / "data", env={"OPENAI_API_KEY": "sk-test",
                                                              "OPENAI_BASE_URL": fake_openai.base_url})
    api = Api(remote.url, remote.api_key)
    deadline = time.monotonic() + 20
    hits = []
    while time.monotonic() < deadline:
        hits = api.search(user, "black coffee Olga drinks", relevance_threshold=0.0)["memories"]
        if hits:
            break
        time.sleep(0.3)
    assert hits and hits[0]["id"] == memories[1]["id"], "records re-embedded with the new model"
    embedded = [t for r in fake_openai.requests if r["path"].endswith("/embeddings") for t in r["body"]["input"]]
    assert {"Olga lives in Kazan", "The project deadline is in June"} <= set(embedded)
    assert "re-embedding" in remote.log()
