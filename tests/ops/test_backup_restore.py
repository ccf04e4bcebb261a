"""Backups that restore: the same memories (ids, timestamps, metadata) and the same search results afterwards."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import time

import pytest
import requests

from tests.ops.conftest import BACKENDS
from tests.ops.helpers import (
    all_memories,
    auth,
    cli,
    create,
    read_manifest,
    search,
    service_env,
)
from tests.support.fake_openai import EMBEDDING_DIM
from tests.support.fixtures import unique_user

QUERIES = ["What notifications does the user want?", "Какой стек технологий у проекта?", "favourite food"]


def _populate(service) -> list[str]:
    alice, bob = unique_user("alice"), unique_user("bob")
    create(service, alice, "Пользователь предпочитает получать уведомления по email", type="preference",
           metadata={"source": "settings", "nested": {"level": 2, "tags": ["a", "b"]}})
    create(service, alice, "Проект X использует стек технологий: React, Node.js, PostgreSQL", session_id="s1",
           agent_id="assistant", metadata={"priority": 1.5, "ok": True, "none": None})
    changed = create(service, alice, "The user's favourite food is spicy Thai curry", type="preference")
    response = requests.put(f"{service.url}/api/memories/{changed['id']}", headers=auth(service.api_key),
                            json={"content": "The user's favourite food is green Thai curry", "metadata": {"v": 2}})
    assert response.status_code == 200
    for i in range(30):
        create(service, bob, f"Bob's note number {i}: meeting with team {i % 4} about release {i}",
               type=["fact", "interaction", "pattern"][i % 3], session_id=f"sess-{i % 5}")
    return [alice, bob]


def _state(service, users: list[str]) -> dict:
    return {
        "memories": {u: all_memories(service, u) for u in users},
        "searches": {(u, q): [(m["id"], m["relevance_score"]) for m in search(service, u, q)]
                     for u in users for q in QUERIES},
    }


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_backup_restores_identical_memories_and_search_results(kind, service_factory, new_backend, tmp_path):
    source = service_factory(new_backend(kind))
    users = _populate(source)
    before = _state(source, users)
    archive = tmp_path / "mem0.tar.gz"

    done = cli(service_env(source), "backup", str(archive))  # taken while the service runs
    assert done.returncode == 0, done.stderr
    assert "33 memories" in done.stdout
    manifest = read_manifest(archive)
    assert manifest["embedding"] == {"model": "use-multilingual-v3", "dimension": 512}
    assert manifest["memories"]["count"] == 33

    target_env = new_backend(kind)
    target_dir = tmp_path / "restored"
    restored = cli({**target_env, "MEM0_DATA_DIR": str(target_dir), "MEM0_API_KEY": "restored-admin"},
                   "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "33 added" in restored.stdout
    if kind == "sqlite":  # the embedded index's vectors travel in the archive and are reused, not recomputed
        assert "33 vectors reused, 0 embedded" in restored.stdout

    target = service_factory(target_env, data_dir=target_dir)
    after = _state(target, users)
    assert after["memories"] == before["memories"]
    for key, hits in before["searches"].items():
        assert [i for i, _ in after["searches"][key]] == [i for i, _ in hits], key
        assert [s for _, s in after["searches"][key]] == pytest.approx([s for _, s in hits], abs=1e-3), key

    # Restoring the same archive again changes nothing.
    target.stop()
    again = cli({**target_env, "MEM0_DATA_DIR": str(target_dir), "MEM0_API_KEY": "restored-admin"},
                "restore", str(archive))
    assert again.returncode == 0, again.stderr
    assert "0 added, 0 brought back, 33 already identical" in again.stdout



def _history(service, memory_id: str) -> list[tuple]:
    response = requests.get(f"{service.url}/api/memories/{memory_id}/history",
                            headers=auth(service.api_key), timeout=10)
    assert response.status_code == 200, response.text
    return [(e["event"], e["old_content"], e["new_content"], e["actor"], e["created_at"])
            for e in response.json()["history"]]


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_restore_brings_back_history_and_scoped_keys(kind, service_factory, new_backend, tmp_path):
    source = service_factory(new_backend(kind))
    user = unique_user("hist")
    kept = create(source, user, "The user drives a blue car")
    assert requests.put(f"{source.url}/api/memories/{kept['id']}", headers=auth(source.api_key), timeout=10,
                        json={"content": "The user drives a red car"}).status_code == 200
    gone = create(source, user, "The user lives in Porto")
    assert requests.delete(f"{source.url}/api/memories/{gone['id']}", headers=auth(source.api_key),
                           timeout=10).status_code == 200
    reader = requests.post(f"{source.url}/api/keys", headers=auth(source.api_key), timeout=10,
                           json={"user_id": user, "access": "read", "name": "dashboard"}).json()
    revoked = requests.post(f"{source.url}/api/keys", headers=auth(source.api_key), timeout=10,
                            json={"user_id": user}).json()
    assert requests.delete(f"{source.url}/api/keys/{revoked['id']}", headers=auth(source.api_key),
                           timeout=10).status_code == 200
    history_before = {m: _history(source, m) for m in (kept["id"], gone["id"])}

    archive = tmp_path / "b.tar.gz"
    done = cli(service_env(source), "backup", str(archive))
    assert done.returncode == 0, done.stderr
    assert ": 1 memories, " in done.stdout and " vectors, 4 history events, 2 scoped keys" in done.stdout
    assert reader["key"] not in archive.read_bytes().decode("latin-1")  # only the digest travels

    target_env = {**new_backend(kind), "MEM0_DATA_DIR": str(tmp_path / "restored"), "MEM0_API_KEY": "other-admin"}
    restored = cli(target_env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "4 history events and 2 scoped keys added" in restored.stdout
    again = cli(target_env, "restore", str(archive))
    assert "0 history events and 0 scoped keys added" in again.stdout

    target = service_factory({k: v for k, v in target_env.items() if k not in ("MEM0_DATA_DIR", "MEM0_API_KEY")},
                             data_dir=tmp_path / "restored")
    # The dashboard's key works on the restored service and still reaches only its user; the revoked one does not.
    assert [m["id"] for m in all_memories(target, user)] == [kept["id"]]
    listed = requests.get(f"{target.url}/api/memories/user/{user}", headers=auth(reader["key"]), timeout=10)
    assert listed.status_code == 200 and [m["id"] for m in listed.json()["memories"]] == [kept["id"]]
    assert requests.post(f"{target.url}/api/memories", headers=auth(reader["key"]), timeout=10,
                         json={"user_id": user, "content": "x"}).status_code == 403
    assert requests.get(f"{target.url}/api/memories/user/{user}", headers=auth(revoked["key"]),
                        timeout=10).status_code == 401
    # Histories come back exactly as they were (a deleted memory's audit trail included), nothing added.
    assert _history(target, gone["id"]) == history_before[gone["id"]]
    assert _history(target, kept["id"]) == history_before[kept["id"]]


def _rewrite(archive, path, edit) -> str:
    """A copy of the archive with its members (name -> bytes) changed by `edit`."""
    with tarfile.open(archive) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    edit(contents)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def _tamper(archive, tmp_path, member: str, edit) -> str:
    def change(contents):
        contents[member] = edit(contents[member])
    return _rewrite(archive, tmp_path / f"damaged-{member}.tar.gz", change)


def test_restore_refuses_damaged_archives_and_other_models(service_factory, fake_openai, tmp_path):
    source = service_factory()
    user = unique_user()
    create(source, user, "The user prefers dark mode", metadata={"k": 1})
    archive = tmp_path / "b.tar.gz"
    assert cli(service_env(source), "backup", str(archive)).returncode == 0
    target = {"MEM0_DATA_DIR": str(tmp_path / "target"), "MEM0_API_KEY": "k"}

    edited = _tamper(archive, tmp_path, "memories.jsonl", lambda b: b.replace(b"dark mode", b"light mode"))
    refused = cli(target, "restore", edited)
    assert refused.returncode == 3
    assert "does not match the manifest" in refused.stderr
    assert not (tmp_path / "target" / "memories.sqlite3").exists()  # verified before anything was written

    not_backup = tmp_path / "junk.tar.gz"
    not_backup.write_bytes(b"\x1f\x8b not really gzip")
    assert cli(target, "restore", str(not_backup)).returncode == 3

    other_model = {**target, "MEM0_EMBEDDER": "openai", "OPENAI_BASE_URL": fake_openai.base_url,
                   "OPENAI_API_KEY": "sk-fake", "MEM0_EMBEDDING_DIMS": str(EMBEDDING_DIM)}
    mismatch = cli(other_model, "restore", str(archive))
    assert mismatch.returncode == 3
    assert "use-multilingual-v3" in mismatch.stderr and "--reembed" in mismatch.stderr
    assert not (tmp_path / "target" / "memories.sqlite3").exists()

    reembedded = cli(other_model, "restore", "--reembed", str(archive))
    assert reembedded.returncode == 0, reembedded.stderr
    assert "1 added" in reembedded.stdout and "1 embedded" in reembedded.stdout
    restored = service_factory({k: v for k, v in other_model.items() if k not in ("MEM0_DATA_DIR", "MEM0_API_KEY")},
                               data_dir=tmp_path / "target")
    memories = all_memories(restored, user)
    assert [m["content"] for m in memories] == ["The user prefers dark mode"]
    assert [m["id"] for m in search(restored, user, "The user prefers dark mode")] == [memories[0]["id"]]



def test_archives_of_the_first_format_still_restore(service_factory, tmp_path):
    source = service_factory()
    user = unique_user()
    memory = create(source, user, "The user collects stamps")
    archive = tmp_path / "b.tar.gz"
    assert cli(service_env(source), "backup", str(archive)).returncode == 0

    def first_format(contents):
        manifest = json.loads(contents["manifest.json"])
        manifest["format_version"] = 1
        del manifest["history"], manifest["keys"], contents["history.jsonl"], contents["keys.jsonl"]
        del manifest["messages"], contents["messages.jsonl"]
        del manifest["webhooks"], contents["webhooks.jsonl"]
        contents["manifest.json"] = json.dumps(manifest).encode()

    old = _rewrite(archive, tmp_path / "v1.tar.gz", first_format)
    target = {"MEM0_DATA_DIR": str(tmp_path / "target"), "MEM0_API_KEY": "k"}
    restored = cli(target, "restore", old)
    assert restored.returncode == 0, restored.stderr
    assert "1 added" in restored.stdout and "0 history events and 0 scoped keys added" in restored.stdout
    assert [m["id"] for m in all_memories(service_factory(data_dir=tmp_path / "target"), user)] == [memory["id"]]

    incomplete = _rewrite(archive, tmp_path / "v2-partial.tar.gz", lambda contents: contents.pop("keys.jsonl"))
    refused = cli({**target, "MEM0_DATA_DIR": str(tmp_path / "other")}, "restore", incomplete)
    assert refused.returncode == 3 and "keys.jsonl is missing" in refused.stderr


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_backup_under_write_load_restores_no_half_written_memory(kind, service_factory, new_backend, tmp_path):
    source = service_factory(new_backend(kind))
    user = unique_user("load")
    acknowledged: dict[str, set[str]] = {}  # id -> every content version the service confirmed
    stop = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        session = requests.Session()
        ids: list[str] = []
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if n % 3 == 0 and ids:  # rewrite an earlier memory: content and metadata change together
                    target = ids[n % len(ids)]
                    content = f"memory {target[-6:]} revision {n}: the team discussed topic {n}"
                    r = session.put(f"{source.url}/api/memories/{target}", headers=auth(source.api_key), timeout=30,
                                    json={"content": content, "metadata": {"digest": _digest(content), "rev": n}})
                    if r.status_code == 200:
                        acknowledged.setdefault(target, set()).add(content)
                else:
                    content = f"write {n}: the user mentioned hobby number {n} during the call"
                    r = session.post(f"{source.url}/api/memories", headers=auth(source.api_key), timeout=30,
                                     json={"user_id": user, "content": content,
                                           "metadata": {"digest": _digest(content), "rev": n}})
                    if r.status_code == 201:
                        ids.append(r.json()["id"])
                        acknowledged.setdefault(r.json()["id"], set()).add(content)
            except requests.RequestException as exc:
                errors.append(str(exc))

    for i in range(20):  # some settled memories before the load starts
        content = f"settled memory {i} about the quarterly roadmap"
        created = create(source, user, content, metadata={"digest": _digest(content), "rev": -i})
        acknowledged.setdefault(created["id"], set()).add(content)
    settled = set(acknowledged)
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(1.0)
    archive = tmp_path / "under-load.tar.gz"
    done = cli(service_env(source), "backup", str(archive))
    time.sleep(0.5)
    stop.set()
    thread.join(30)
    assert done.returncode == 0, done.stderr
    assert not errors, errors[:3]
    assert len(acknowledged) > len(settled) + 5, "the writer must have been busy during the backup"

    target_env = new_backend(kind)
    restored_run = cli({**target_env, "MEM0_DATA_DIR": str(tmp_path / "r"), "MEM0_API_KEY": "k"}, "restore",
                       str(archive))
    assert restored_run.returncode == 0, restored_run.stderr
    target = service_factory(target_env, data_dir=tmp_path / "r")
    restored = all_memories(target, user)
    manifest = read_manifest(archive)
    assert len(restored) == manifest["memories"]["count"]
    assert settled <= {m["id"] for m in restored}
    for memory in restored:
        # Every restored memory is one whole acknowledged write: its content and metadata belong together ...
        assert memory["content"] in acknowledged[memory["id"]]
        assert memory["metadata"]["digest"] == _digest(memory["content"])
    # ... and its vector is its own: searching its exact words finds it first.
    for memory in restored[:: max(1, len(restored) // 15)]:
        hits = search(target, user, memory["content"], limit=3)
        assert hits and hits[0]["id"] == memory["id"], (memory["content"], [h["content"] for h in hits])
    health = requests.get(f"{target.url}/api/ready", timeout=30).json()
    assert health["status"] == "ok" and health["index_backlog"] == 0
    assert json.loads(json.dumps(manifest))["records_backend"] == ("sqlite" if kind == "sqlite" else "postgres")


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_backup_names_a_stored_record_it_cannot_read(kind, new_backend, tmp_path):
    """A date an earlier version stored in a form that cannot be read back stops the backup with one line naming
    the memory, not with a traceback, and no archive that looks complete is left behind."""
    import sqlite3

    import psycopg

    env = {**new_backend(kind), "MEM0_DATA_DIR": str(tmp_path / "data"), "MEM0_API_KEY": "k"}
    assert cli(env, "migrate").returncode == 0
    row = ("mem_unreadable", "u1", "fact", "An old memory", "0" * 64)
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "data" / "memories.sqlite3") as conn:
            conn.execute("INSERT INTO memories (id, user_id, type, content, content_hash, metadata, created_at, "
                         "updated_at) VALUES (?,?,?,?,?,'{}','0000-06-01T00:00:00.000000Z','0000-06-01T00:00:00.000000Z')",
                         row)
    else:
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            conn.execute("INSERT INTO memories (id, user_id, type, content, content_hash, created_at, updated_at) "
                         "VALUES (%s,%s,%s,%s,%s,'0001-01-01T00:00:00+05:00','0001-01-01T00:00:00+05:00')", row)
    archive = tmp_path / "b.tar.gz"
    stopped = cli(env, "backup", str(archive))
    assert stopped.returncode == 1, stopped.stdout
    message = stopped.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith("Error: backup stopped, no archive written:"), message
    if kind == "sqlite":  # PostgreSQL's driver fails on the value before the row it belongs to is known
        assert "memory 'mem_unreadable'" in message, message
    assert not list(tmp_path.glob("b.tar.gz*"))


def _archived(archive, member: str) -> list[dict]:
    with tarfile.open(archive) as tar:
        return [json.loads(line) for line in io.TextIOWrapper(tar.extractfile(member), encoding="utf-8")]


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_a_backup_under_writes_reads_one_snapshot(kind, service_factory, new_backend, tmp_path):
    """Memories and history come from one view of the database: while memories are being created, every archived
    memory has its ADD event in the archive and no archived ADD event names a memory the archive lacks."""
    env = new_backend(kind)
    data = tmp_path / "data"
    seed = "".join(json.dumps({"id": f"mem_seed{i:05d}", "user_id": "seeded", "content": f"seeded note {i}",
                               "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}) + "\n"
                   for i in range(1100))  # more than one batch of the snapshot's reads
    seeded = cli({**env, "MEM0_DATA_DIR": str(data), "MEM0_API_KEY": "k"}, "import", "-", input=seed)
    assert seeded.returncode == 0, seeded.stderr
    source = service_factory(env, data_dir=data)
    user = unique_user("snap")
    written: list[str] = []
    started, stop = threading.Event(), threading.Event()
    errors: list[str] = []

    def writer() -> None:
        session = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            try:
                r = session.post(f"{source.url}/api/memories", headers=auth(source.api_key), timeout=30,
                                 json={"user_id": user, "content": f"note {n} written during the backup"})
                if r.status_code == 201:
                    written.append(r.json()["id"])
                else:
                    errors.append(r.text)
            except requests.RequestException as exc:
                errors.append(str(exc))
            if len(written) >= 3:
                started.set()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    assert started.wait(60), errors[:3]
    archive = tmp_path / "snapshot.tar.gz"
    done = cli(service_env(source), "backup", str(archive))
    after = len(written)
    while len(written) < after + 3 and thread.is_alive() and not errors:
        time.sleep(0.05)  # the writer goes on after the backup: its last writes are not in it
    stop.set()
    thread.join(30)
    assert done.returncode == 0, done.stderr
    assert not errors, errors[:3]

    memories = {m["id"] for m in _archived(archive, "memories.jsonl")}
    added = {e["memory_id"] for e in _archived(archive, "history.jsonl") if e["event"] == "ADD"}
    assert memories == added, (sorted(memories - added)[:5], sorted(added - memories)[:5])
    assert read_manifest(archive)["memories"]["count"] == len(memories)
    ours = [i for i in written if i in memories]
    assert len(memories) == 1100 + len(ours) and ours == written[:len(ours)] and len(ours) < len(written)
