"""The operations CLI, run as a user runs it: help everywhere, exit codes scripts can trust."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.ops.conftest import BACKENDS
from tests.ops.helpers import all_memories, auth, cli, create, search, service_env
from tests.support.fixtures import unique_user
from tests.support.postgres import fresh_database

COMMANDS = [[], ["serve"], ["migrate"], ["backup"], ["restore"], ["export"], ["import"], ["cleanup"], ["doctor"],
            ["keys"], ["keys", "create"], ["keys", "list"], ["keys", "revoke"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "main")
def test_every_command_has_help(command, tmp_path):
    shown = cli({"MEM0_DATA_DIR": str(tmp_path)}, *command, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Usage: ") and len(shown.stdout.splitlines()) > 3


def _line(memory_id: str, user: str, content: str, age_days: float, type_: str = "fact", **extra) -> str:
    created = datetime.now(timezone.utc) - timedelta(days=age_days)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({"id": memory_id, "user_id": user, "content": content, "type": type_, "created_at": stamp,
                       "updated_at": stamp, **extra}) + "\n"


def test_cleanup_is_a_dry_run_until_told_yes(service_factory, tmp_path):
    user = unique_user()
    lines = (_line("mem_old_fact", user, "An old fact about the user's first car", 400)
             + _line("mem_old_chat", user, "Old small talk about the weather", 200, "interaction")
             + _line("mem_recent", user, "The user moved to Berlin last month", 30, metadata={"city": "Berlin"}))
    env = {"MEM0_DATA_DIR": str(tmp_path / "data"), "MEM0_API_KEY": "test-admin-key"}
    imported = cli(env, "import", input=lines)
    assert imported.returncode == 0, imported.stderr
    assert "3 added" in imported.stdout

    dry = cli(env, "cleanup", "--older-than", "180d")
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: would delete 2 memories" in dry.stdout
    assert "--yes" in dry.stdout
    only_chats = cli(env, "cleanup", "--older-than", "26w", "--type", "interaction", "--yes")
    assert only_chats.returncode == 0 and "Deleted 1 of 1 memories" in only_chats.stdout
    assert cli(env, "cleanup", "--older-than", "soon").returncode == 2

    service = service_factory(data_dir=tmp_path / "data")
    remaining = {m["id"] for m in all_memories(service, user)}
    assert remaining == {"mem_old_fact", "mem_recent"}
    everything = cli(service_env(service), "cleanup", "--older-than", "180d", "--yes")  # while the service runs
    assert everything.returncode == 0 and "Deleted 1 of 1 memories" in everything.stdout
    assert [m["id"] for m in all_memories(service, user)] == ["mem_recent"]
    # search reads the records, so a memory deleted by another process never surfaces, even before its vector goes
    assert "mem_old_fact" not in [m["id"] for m in search(service, user, "the user's first car")]
    service.restart()  # the deleted memories' vectors go with the index outbox, applied at start-up at the latest
    metrics = requests.get(f"{service.url}/metrics", headers=auth(service.api_key), timeout=10).text
    assert "mem0_memories 1" in metrics and "mem0_vectors 1" in metrics


def test_an_import_next_to_a_running_service_is_searchable_at_once(service_factory, tmp_path):
    service = service_factory(data_dir=tmp_path / "data")
    user = unique_user()
    search(service, user, "boat")  # the service has looked at its index before the import
    done = cli(service_env(service), "import",
               input=_line("mem_live_import", user, "The user's sailing boat is called Albatross", 1))
    assert done.returncode == 0, done.stderr
    assert [m["id"] for m in search(service, user, "what is the name of the user's boat")] == ["mem_live_import"]


def test_import_stops_at_a_bad_line_and_names_it(tmp_path):
    env = {"MEM0_DATA_DIR": str(tmp_path), "MEM0_API_KEY": "k"}
    good = _line("mem_a", "u1", "A good memory", 1)
    stopped = cli(env, "import", input=good + '{"id": "mem_b", "user_id": "u1"}\n' + good)
    assert stopped.returncode == 1
    assert "line 2" in stopped.stderr and "content" in stopped.stderr
    skipped = cli(env, "import", "--skip-invalid", input=good + "not json\n")
    assert skipped.returncode == 0 and "1 invalid lines skipped" in skipped.stdout


@pytest.mark.postgres
def test_export_from_sqlite_import_into_postgres_loses_nothing(service_factory, tmp_path):
    source = service_factory()
    user = unique_user()
    create(source, user, "Пользователь предпочитает уведомления по email", type="preference",
           metadata={"channel": {"primary": "email"}, "tags": ["a"]}, session_id="s1", agent_id="bot")
    changed = create(source, user, "The user's dog is called Rex")
    requests.put(f"{source.url}/api/memories/{changed['id']}", headers=auth(source.api_key), timeout=30,
                 json={"content": "The user's dog is called Rex and he is five", "metadata": {"pet": "dog"}})
    for i in range(12):
        create(source, user, f"Note {i}: the user asked about invoice {1000 + i}", type="interaction")
    exported = tmp_path / "memories.jsonl"
    done = cli(service_env(source), "export", str(exported))
    assert done.returncode == 0 and "Exported 14 memories" in done.stderr
    assert len(exported.read_text().splitlines()) == 14

    with fresh_database("mem0_import") as url:
        target_env = {"DATABASE_URL": url, "MEM0_VECTOR_INDEX": "qdrant"}
        env = {**target_env, "MEM0_DATA_DIR": str(tmp_path / "pg"), "MEM0_API_KEY": "k"}
        doctor = cli(env, "doctor")
        assert "migration(s) not applied yet" in doctor.stdout
        migrated = cli(env, "migrate")
        assert migrated.returncode == 0 and "schema up to date" in migrated.stdout
        imported = cli(env, "import", str(exported))
        assert imported.returncode == 0, imported.stderr
        assert "14 added" in imported.stdout
        again = cli(env, "import", str(exported))
        assert "0 added, 0 updated, 14 already identical" in again.stdout
        round_trip = cli(env, "export")
        parsed = sorted((json.loads(line) for line in round_trip.stdout.splitlines()), key=lambda m: m["id"])
        assert parsed == sorted((json.loads(line) for line in exported.read_text().splitlines()),
                                key=lambda m: m["id"])

        target = service_factory(target_env, data_dir=tmp_path / "pg")
        assert all_memories(target, user) == all_memories(source, user)
        for query in ("email notifications", "invoice 1005", "Rex"):
            assert [m["id"] for m in search(target, user, query)][:3] == \
                [m["id"] for m in search(source, user, query)][:3], query


def test_keys_from_the_command_line_work_over_http(service_factory):
    service = service_factory({"MEM0_KEY_CACHE_SECONDS": "0"})
    env = service_env(service)
    user = unique_user()
    mine = create(service, user, "The user reads science fiction")
    created = cli(env, "keys", "create", "--user-id", user, "--read-only", "--name", "reader")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("m0s_") and "read" in created.stderr
    assert requests.get(f"{service.url}/api/memories/{mine['id']}", headers=auth(secret), timeout=10).status_code == 200
    assert requests.post(f"{service.url}/api/memories", headers=auth(secret), timeout=10,
                         json={"user_id": user, "content": "x"}).status_code == 403
    listed = cli(env, "keys", "list", "--json")
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    ours = [e for e in entries if e["user_id"] == user]
    assert ours and ours[0]["access"] == "read" and ours[0]["name"] == "reader" and secret not in listed.stdout
    assert cli(env, "keys", "create").returncode == 2  # bound to nothing: refused
    assert cli(env, "keys", "revoke", ours[0]["id"]).returncode == 0
    assert requests.get(f"{service.url}/api/auth/check", headers=auth(secret), timeout=10).status_code == 401
    assert cli(env, "keys", "revoke", "key_unknown").returncode == 1


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["sqlite", "postgres-qdrant"])
def test_an_imported_memory_becomes_exactly_the_given_one(kind, new_backend, tmp_path):
    """An id already stored under another user is brought to the imported version whole, owner and creation time
    included: the old owner no longer has it."""
    env = {**new_backend(kind), "MEM0_DATA_DIR": str(tmp_path), "MEM0_API_KEY": "k"}

    def line(user: str, content: str, stamp: str) -> str:
        return json.dumps({"id": "mem_shared", "user_id": user, "content": content, "created_at": stamp,
                           "updated_at": stamp}) + "\n"

    first = cli(env, "import", input=line("owner-one", "The first owner's note", "2025-01-01T00:00:00.000000Z"))
    assert first.returncode == 0 and "1 added" in first.stdout, first.stderr
    second = cli(env, "import", input=line("owner-two", "The second owner's note", "2025-06-01T12:00:00.000000Z"))
    assert second.returncode == 0 and "1 updated" in second.stdout, second.stderr
    assert cli(env, "export", "--user-id", "owner-one").stdout == ""
    [moved] = [json.loads(text) for text in cli(env, "export", "--user-id", "owner-two").stdout.splitlines()]
    assert (moved["content"], moved["created_at"]) == ("The second owner's note", "2025-06-01T12:00:00.000000Z")


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_keys_made_over_http_are_the_keys_the_command_line_manages(kind, service_factory, new_backend):
    """The key table is the record store's: what one side writes, the other reads at once, on either backend."""
    service = service_factory({**new_backend(kind), "MEM0_KEY_CACHE_SECONDS": "0"})
    env = service_env(service)
    user = unique_user()
    made = requests.post(f"{service.url}/api/keys", headers=auth(service.api_key), timeout=30,
                         json={"user_id": user, "name": "made over http"})
    assert made.status_code == 201, made.text
    secret, key_id = made.json()["key"], made.json()["id"]
    listed = cli(env, "keys", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {(e["id"], e["name"]) for e in map(json.loads, listed.stdout.splitlines())} == {(key_id, "made over http")}
    assert requests.get(f"{service.url}/api/auth/check", headers=auth(secret), timeout=10).status_code == 200
    assert cli(env, "keys", "revoke", key_id).returncode == 0
    assert requests.get(f"{service.url}/api/auth/check", headers=auth(secret), timeout=10).status_code == 401
    shown = requests.get(f"{service.url}/api/keys", params={"include_revoked": "true"}, headers=auth(service.api_key),
                         timeout=30).json()["keys"]
    assert [(k["id"], k["revoked_at"] is not None) for k in shown] == [(key_id, True)]
