"""No poison pill: a stored record the driver cannot read back is quarantined with its cause, every other write goes
on, readiness / metrics / doctor name it, and `mem0-service quarantine` drops or retries it."""

from __future__ import annotations

import secrets
import sqlite3

import psycopg
import pytest

from tests.ops.conftest import BACKENDS
from tests.ops.helpers import cli, service_env
from tests.support.api import Api
from tests.support.fixtures import backend_process, unique_user
from tests.support.service_process import ServiceProcess

# Dates the stores hold but cannot give back: year 0, which no calendar of Python has (SQLite keeps any text), a date
# that is in year 10000 once converted to UTC (PostgreSQL holds it; Python's datetime cannot).
UNREADABLE_EXPIRY = {"sqlite": "0000-06-01T00:00:00.000000Z", "postgres-qdrant": "9999-12-31T23:59:59-05:00"}
COLUMNS = ("id, user_id, type, content, content_hash, metadata, created_at, updated_at, expires_at, version, "
           "dedup_key")


def _write_unreadable_row(service: ServiceProcess, user_id: str) -> str:
    """A memory row with an unreadable expiry and its pending index work, written straight into the store the way
    an older release (or another tool) could have left it."""
    memory_id = f"mem_{secrets.token_hex(15)}"
    expiry = UNREADABLE_EXPIRY[service.backend]
    if service.backend == "sqlite":
        with sqlite3.connect(service.data_dir / "memories.sqlite3", timeout=10) as conn:
            conn.execute(f"INSERT INTO memories ({COLUMNS}) VALUES (?, ?, 'fact', 'x', ?, '{{}}', "
                         "'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', ?, 1, ?)",
                         (memory_id, user_id, memory_id, expiry, memory_id))
            conn.execute("INSERT INTO index_outbox (memory_id, op) VALUES (?, 'upsert')", (memory_id,))
    else:
        with psycopg.connect(service.extra_env["DATABASE_URL"]) as conn:
            conn.execute(f"INSERT INTO memories ({COLUMNS}) VALUES (%s, %s, 'fact', 'x', %s, '{{}}', "
                         "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', %s, 1, %s)",
                         (memory_id, user_id, memory_id, expiry, memory_id))
            conn.execute("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'upsert')", (memory_id,))
    return memory_id


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unreadable_record_is_quarantined_and_never_blocks_other_writes(backend, tmp_path):
    with backend_process(backend, tmp_path / "service") as service:
        api = Api(service.url, service.api_key)
        victim, other = unique_user("mallory"), unique_user("alice")
        kept = api.create(victim, "a readable memory of the same user")
        poison = _write_unreadable_row(service, victim)

        # every later create, update and delete of every user answers, and what they write is searchable
        first = api.post("/api/memories", json={"user_id": other, "content": "likes green tea"})
        assert first.status_code == 201, first.text
        cello = api.create(other, "plays the cello")
        assert api.put(f"/api/memories/{cello['id']}", json={"content": "plays the viola"}).status_code == 200
        assert api.delete(f"/api/memories/{first.json()['id']}").status_code == 200
        assert [m["id"] for m in api.search(other, "viola", relevance_threshold=0.0)["memories"]] == [cello["id"]]
        again = api.post("/api/memories", json={"user_id": victim, "content": "a second readable memory"})
        assert again.status_code == 201, again.text

        # the user's readable memories stay readable; the unreadable one is named as quarantined
        listed = api.get(f"/api/memories/user/{victim}").json()["memories"]
        assert {m["id"] for m in listed} == {kept["id"], again.json()["id"]}
        single = api.get(f"/api/memories/{poison}")
        assert single.status_code == 409 and "quarantine" in single.json()["message"], single.text

        ready = api.get("/api/ready", auth=False)
        assert ready.status_code == 200, ready.text
        assert ready.json()["quarantined"] == 1
        [entry] = ready.json()["quarantine"]
        assert (entry["memory_id"], entry["user_id"], entry["op"]) == (poison, victim, "upsert")
        assert entry["cause"]
        metrics = api.get("/metrics").text
        assert "mem0_index_quarantined 1" in metrics
        assert f'memory_id="{poison}"' in metrics

        env = service_env(service)
        doctor = cli(env, "doctor")
        assert doctor.returncode == 1, doctor.stdout + doctor.stderr
        assert "index quarantine" in doctor.stdout and poison in doctor.stdout
        listing = cli(env, "quarantine", "list")
        assert listing.returncode == 0 and poison in listing.stdout and victim in listing.stdout, listing.stderr
        assert cli(env, "quarantine", "drop").returncode == 2  # neither ids nor --all: a usage error

        dropped = cli(env, "quarantine", "drop", poison)
        assert dropped.returncode == 0, dropped.stderr
        assert "Dropped 1" in dropped.stdout
        assert api.post("/api/memories", json={"user_id": other, "content": "one more write"}).status_code == 201
        assert api.get("/api/ready", auth=False).json()["quarantined"] == 0
        assert "mem0_index_quarantined 0" in api.get("/metrics").text
        assert api.get(f"/api/memories/{poison}").status_code == 404
        assert api.get(f"/api/memories/{poison}/history").json()["history"][-1]["event"] == "DELETE"
        assert cli(env, "quarantine", "list").stdout == ""
        healthy = cli(env, "doctor")
        assert "OK    index quarantine: empty" in healthy.stdout, healthy.stdout
        assert poison not in healthy.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_quarantine_retry_queues_the_memory_again(backend, tmp_path):
    with backend_process(backend, tmp_path / "service") as service:
        api = Api(service.url, service.api_key)
        user = unique_user()
        poison = _write_unreadable_row(service, user)
        assert api.post("/api/memories", json={"user_id": user, "content": "flushes the outbox"}).status_code == 201
        assert api.get("/api/ready", auth=False).json()["quarantined"] == 1

        env = service_env(service)
        retried = cli(env, "quarantine", "retry", "--all")
        assert retried.returncode == 0 and "Queued 1" in retried.stdout, retried.stderr
        # still unreadable: the next sync quarantines it again instead of failing everyone's writes
        assert api.post("/api/memories", json={"user_id": user, "content": "another write"}).status_code == 201
        ready = api.get("/api/ready", auth=False).json()
        assert ready["quarantined"] == 1 and ready["quarantine"][0]["memory_id"] == poison


def test_content_the_embedder_refuses_is_quarantined_while_the_rest_is_indexed(service_factory, fake_openai, tmp_path):
    data = tmp_path / "data"
    local = service_factory(data_dir=data)
    api = Api(local.url, local.api_key)
    user = unique_user()
    kept = [api.create(user, "Olga drinks black coffee"), api.create(user, "Olga lives in Kazan")]
    refused = api.create(user, "Olga wrote a forbidden word")
    local.stop()

    # a new embedding model whose provider refuses one memory's content: the others are still embedded
    remote_env = {"MEM0_DATA_DIR": str(data), "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url}
    fake_openai.clear()
    fake_openai.refuse_embedding("forbidden")
    result = cli(remote_env, "reembed", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "the index holds 2 vectors" in result.stdout
    listing = cli(remote_env, "quarantine", "list")
    assert refused["id"] in listing.stdout and "400" in listing.stdout, listing.stdout + listing.stderr

    remote = service_factory(data_dir=data, env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url})
    api = Api(remote.url, remote.api_key)
    hits = api.search(user, "black coffee Olga drinks", relevance_threshold=0.0)["memories"]
    assert hits[0]["id"] == kept[0]["id"]
    assert api.get("/api/ready", auth=False).json()["quarantine"][0]["memory_id"] == refused["id"]
    assert api.post("/api/memories", json={"user_id": user, "content": "Olga plays chess"}).status_code == 201
    assert "\nmem0_vectors 3\n" in api.get("/metrics").text

    # the provider accepts it again: a retry indexes it
    fake_openai.clear()
    assert cli(remote_env, "quarantine", "retry", refused["id"]).returncode == 0
    assert api.post("/api/memories", json={"user_id": user, "content": "Olga reads poems"}).status_code == 201
    assert api.get("/api/ready", auth=False).json()["quarantined"] == 0
    assert "\nmem0_vectors 5\n" in api.get("/metrics").text
