"""A restore or an import checks everything before it writes: a crafted archive (checksums recomputed, so only the
value rules can catch it) or a JSON lines file with one bad line is refused with a one-line message naming the
member, the line and the field, and the target keeps exactly what it had. A good archive restores its history as
it was, without events of its own, and its webhook subscriptions without announcing the restored memories to them."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sqlite3
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.ops.helpers import all_memories, auth, cli, create, search, service_env
from tests.support.fixtures import BACKENDS, backend_process, unique_user
from tests.support.postgres import fresh_database
from tests.support.service_process import ServiceProcess

MEMORIES = 620  # more than one write batch (500), so a bad line at the end comes after a batch was ready
PHRASE = "harbour pilot licence"  # in every archived memory, in no memory of the target


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def world(request, tmp_path_factory) -> Iterator[dict]:
    """A backup of a populated store, and a running target store with data of its own."""
    kind = request.param
    root = tmp_path_factory.mktemp(f"refusals-{kind}")
    with backend_process(kind, root / "source", {"MEM0_WEBHOOK_ALLOW_PRIVATE": "true"}) as source:
        users = [unique_user("alice"), unique_user("bob")]
        items = [{"user_id": users[i % 2], "content": f"Note {i}: the {PHRASE} number {i} renews in month {i % 12}",
                  "metadata": {"n": i, "tags": ["a", str(i)]}} for i in range(MEMORIES)]
        for start in range(0, MEMORIES, 500):
            response = requests.post(f"{source.url}/api/memories/batch", headers=auth(source.api_key), timeout=300,
                                     json={"memories": items[start:start + 500]})
            assert response.status_code in (200, 201, 207) and response.json()["created"] == len(
                items[start:start + 500]), response.text
        listed = all_memories(source, users[0])
        for memory in listed[:5]:  # memories with several events
            assert requests.put(f"{source.url}/api/memories/{memory['id']}", headers=auth(source.api_key),
                                json={"content": memory["content"] + " (renewed)"}, timeout=30).status_code == 200
        assert requests.delete(f"{source.url}/api/memories/{listed[6]['id']}", headers=auth(source.api_key),
                               timeout=30).status_code == 200
        for body in ({"user_id": users[0], "access": "read", "name": "dashboard"}, {"agent_id": "planner"}):
            assert requests.post(f"{source.url}/api/keys", headers=auth(source.api_key), json=body,
                                 timeout=30).status_code == 201
        for body in ({"url": "http://127.0.0.1:9/every-user", "events": ["memory.created"]},
                     {"url": "http://127.0.0.1:9/alice", "user_id": users[0], "secret": "whsec_" + "s" * 32}):
            assert requests.post(f"{source.url}/api/webhooks", headers=auth(source.api_key), json=body,
                                 timeout=30).status_code == 201  # after every write: nothing is queued for them
        ids = [m["id"] for u in users for m in all_memories(source, u)] + [listed[6]["id"]]
        history = {i: _history(source, i) for i in ids}
        archive = root / "good.tar.gz"
        source.stop()  # Qdrant's local mode admits one process: stopped, the backup holds the vectors too
        done = cli(service_env(source), "backup", str(archive))
        assert done.returncode == 0, done.stderr
    with backend_process(kind, root / "target") as target:
        owner = unique_user("carol")
        own = create(target, owner, "The user keeps bees on the roof")
        assert requests.put(f"{target.url}/api/memories/{own['id']}", headers=auth(target.api_key), timeout=30,
                            json={"content": "The user keeps bees and hens on the roof"}).status_code == 200
        assert requests.post(f"{target.url}/api/keys", headers=auth(target.api_key), json={"user_id": owner},
                             timeout=30).status_code == 201
        yield {"kind": kind, "root": root, "archive": archive, "users": users, "history": history,
               "target": target, "owner": owner}


def _history(service: ServiceProcess, memory_id: str) -> list[tuple]:
    response = requests.get(f"{service.url}/api/memories/{memory_id}/history", headers=auth(service.api_key),
                            timeout=30)
    assert response.status_code == 200, response.text
    return [(e["event"], e["old_content"], e["new_content"], e["actor"], e["created_at"])
            for e in response.json()["history"]]


@contextlib.contextmanager
def _database(service: ServiceProcess) -> Iterator[Callable[[str], list[tuple]]]:
    url = service.extra_env.get("DATABASE_URL")
    if url:
        with psycopg.connect(url) as conn:
            yield lambda sql: conn.execute(sql).fetchall()
    else:
        conn = sqlite3.connect(f"file:{service.data_dir / 'memories.sqlite3'}?mode=ro", uri=True)
        try:
            yield lambda sql: conn.execute(sql).fetchall()
        finally:
            conn.close()


def _store(service: ServiceProcess) -> dict:
    """Counts of what a restore or an import writes, and a digest of every row: read from the database itself."""
    tables = {"memories": "id", "memory_history": "seq", "api_keys": "id", "index_outbox": "seq", "webhooks": "id"}
    state = {}
    with _database(service) as query:
        for table, order in tables.items():
            rows = query(f"SELECT * FROM {table} ORDER BY {order}")
            state[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


def _unchanged(world: dict, before: dict) -> None:
    target = world["target"]
    assert _store(target) == before
    for user in world["users"]:  # nothing of the archive reached the service either
        assert all_memories(target, user) == []
        assert search(target, user, PHRASE) == []
    assert [m["content"] for m in search(target, world["owner"], PHRASE)] == ["The user keeps bees and hens on the roof"]


def _craft(archive: Path, dest: Path, member: str, edit: Callable[[list[bytes]], list[bytes]] | None) -> Path:
    """A copy of the archive with one member's lines edited (or the member left out) and the manifest's checksum
    and count of that member recomputed, so the archive passes every integrity check."""
    with tarfile.open(archive) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    if edit is None:
        del contents[member]
    else:
        lines = edit(contents[member].splitlines(keepends=True))
        data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
        contents[member] = data
        manifest = json.loads(contents["manifest.json"])
        part = member.removesuffix(".jsonl")
        manifest[part]["sha256"], manifest[part]["count"] = hashlib.sha256(data).hexdigest(), len(lines)
        contents["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def _field(position: str, name: str, value) -> Callable[[list[bytes]], list[bytes]]:
    """Set one field of the line at `position` (first, middle or last)."""
    def edit(lines: list[bytes]) -> list[bytes]:
        index = {"first": 0, "middle": len(lines) // 2, "last": len(lines) - 1}[position]
        record = json.loads(lines[index])
        record[name] = value(record) if callable(value) else value
        lines[index] = json.dumps(record).encode()  # NaN written as NaN, NUL and surrogates as \u escapes
        return lines
    return edit


def _raw(position: str, text: bytes) -> Callable[[list[bytes]], list[bytes]]:
    def edit(lines: list[bytes]) -> list[bytes]:
        index = {"first": 0, "middle": len(lines) // 2, "last": len(lines) - 1}[position]
        lines[index] = text
        return lines
    return edit


def _repeat_first_id(lines: list[bytes]) -> list[bytes]:
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    last["id"] = first["id"]
    return [*lines[:-1], json.dumps(last).encode()]


def _short_vector(lines: list[bytes]) -> list[bytes]:
    record = json.loads(lines[-1])
    record["vector"] = record["vector"][:-8]
    return [*lines[:-1], json.dumps(record).encode()]


LAST_MEMORY = MEMORIES - 1  # the deleted one is gone from the archive
MIDDLE_MEMORY = LAST_MEMORY // 2 + 1
CASES = {
    # name: (member, edit, the words the message must hold)
    "overflowing-date-first-line": ("memories.jsonl", _field("first", "created_at", "9999-12-31T23:59:59-05:00"),
                                    ["memories.jsonl line 1:", "'created_at'", "1-9999"]),
    "date-before-year-one-middle": ("memories.jsonl", _field("middle", "expires_at", "0001-01-01T00:00:00+05:00"),
                                    [f"memories.jsonl line {MIDDLE_MEMORY}:", "'expires_at'", "1-9999"]),
    "nul-middle": ("memories.jsonl", _field("middle", "content", lambda r: r["content"] + "\x00"),
                   [f"memories.jsonl line {MIDDLE_MEMORY}:", "'content'", "NUL"]),
    "nan-last-line": ("memories.jsonl", _field("last", "metadata", {"score": float("nan")}),
                      [f"memories.jsonl line {LAST_MEMORY}:", "'metadata.score'", "not finite"]),
    "huge-integer-last-line": ("memories.jsonl", _field("last", "metadata", {"n": 2**70}),
                               [f"memories.jsonl line {LAST_MEMORY}:", "'metadata.n'", "64 bits"]),
    "not-json-middle": ("memories.jsonl", _raw("middle", b'{"id": "mem_x", "content": '),
                        [f"memories.jsonl line {MIDDLE_MEMORY}:", "not valid JSON"]),
    "nested-too-deep-last-line": ("memories.jsonl", _raw("last", b'{"metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
                                  [f"memories.jsonl line {LAST_MEMORY}:", "nested too deeply"]),
    "duplicate-id": ("memories.jsonl", _repeat_first_id, [f"memories.jsonl line {LAST_MEMORY}:", "'id'", "repeats"]),
    "surrogate-in-history": ("history.jsonl", _field("middle", "user_id", lambda r: r["user_id"] + "\ud800"),
                             ["history.jsonl line", "'user_id'", "surrogate"]),
    "unknown-key-access": ("keys.jsonl", _field("last", "access", "admin"), ["keys.jsonl line 2:", "'access'"]),
    "unknown-webhook-event": ("webhooks.jsonl", _field("last", "events", ["memory.created", "memory.exploded"]),
                              ["webhooks.jsonl line 2:", "'events'", "'memory.exploded'"]),
    "webhook-url-not-http": ("webhooks.jsonl", _field("first", "url", "ftp://127.0.0.1/hook"),
                             ["webhooks.jsonl line 1:", "'url'", "http"]),
    "webhook-without-secret": ("webhooks.jsonl", _field("last", "secret", None), ["webhooks.jsonl line 2:", "'secret'"]),
    "webhook-not-json": ("webhooks.jsonl", _raw("first", b'{"id": "wh_x", "url": '),
                         ["webhooks.jsonl line 1:", "not valid JSON"]),
    "duplicate-webhook": ("webhooks.jsonl", _repeat_first_id, ["webhooks.jsonl line 2:", "'id'", "repeats"]),
    "vector-of-wrong-size": ("vectors.jsonl", _short_vector, ["vectors.jsonl line", "'vector'", "dimensions"]),
    "missing-member": ("history.jsonl", None, ["history.jsonl is missing"]),
}


@pytest.mark.postgres
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_crafted_archive_is_refused_and_the_target_stays_untouched(world, case):
    member, edit, words = CASES[case]
    crafted = _craft(world["archive"], world["root"] / f"{case}.tar.gz", member, edit)
    target = world["target"]
    before = _store(target)
    for command in (["restore", "--check"], ["restore"]):
        refused = cli(service_env(target), *command, str(crafted))
        assert refused.returncode == 3, (command, refused.stdout, refused.stderr)
        message = refused.stderr.strip()
        assert "\n" not in message and "Traceback" not in message, message
        assert message.startswith("Error: restore refused, nothing was written:"), message
        for word in words:
            assert word in message, (word, message)
    _unchanged(world, before)


@pytest.mark.postgres
@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_an_import_with_one_bad_line_writes_nothing(world, position):
    with tarfile.open(world["archive"]) as tar:
        lines = tar.extractfile("memories.jsonl").read().splitlines(keepends=True)
    bad = _field(position, "updated_at", "0001-01-01T00:00:00+01:00")(list(lines))
    number = {"first": 1, "middle": len(lines) // 2 + 1, "last": len(lines)}[position]
    target = world["target"]
    before = _store(target)
    refused = cli(service_env(target), "import", input=b"".join(
        line if line.endswith(b"\n") else line + b"\n" for line in bad).decode())
    assert refused.returncode == 1, refused.stdout
    message = refused.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert f"import refused, nothing was written: line {number}: field 'updated_at'" in message, message
    _unchanged(world, before)


@pytest.mark.postgres
def test_a_good_archive_restores_the_exact_history_and_names_its_keys(world, tmp_path):
    kind = world["kind"]
    with contextlib.ExitStack() as stack:
        env = dict(BACKENDS[kind])
        if kind != "sqlite":
            env["DATABASE_URL"] = stack.enter_context(fresh_database("mem0_restore"))
        data_dir = tmp_path / "restored"
        cli_env = {**env, "MEM0_DATA_DIR": str(data_dir), "MEM0_API_KEY": "restored-admin"}

        restored = cli(cli_env, "restore", str(world["archive"]))
        assert restored.returncode == 0, restored.stderr
        assert f"{LAST_MEMORY} added" in restored.stdout
        keys = [line for line in restored.stdout.splitlines() if line.startswith("Scoped key restored: ")]
        assert len(keys) == 2, restored.stdout
        assert any(f"(user {world['users'][0]}; read-only; dashboard)" in line for line in keys), keys
        assert any("(agent planner; read-write)" in line for line in keys), keys
        assert "m0s_" not in restored.stdout  # never a secret
        assert "2 webhook subscriptions added" in restored.stdout
        hooks = [line for line in restored.stdout.splitlines() if line.startswith("Webhook restored: ")]
        assert any(f"-> http://127.0.0.1:9/alice (user {world['users'][0]}; " in line for line in hooks), hooks
        assert any("-> http://127.0.0.1:9/every-user (every user; memory.created; enabled)" in line
                   for line in hooks), hooks
        assert "whsec_" not in restored.stdout

        again = cli(cli_env, "restore", str(world["archive"]))
        assert again.returncode == 0, again.stderr
        assert f"0 added, 0 brought back, {LAST_MEMORY} already identical" in again.stdout
        assert "0 history events and 0 scoped keys added" in again.stdout
        assert "Scoped key restored" not in again.stdout
        assert "2 scoped keys of the archive are here already" in again.stdout
        assert "0 webhook subscriptions added" in again.stdout and "Webhook restored" not in again.stdout
        assert "2 webhook subscriptions of the archive are here already" in again.stdout

        with _service_on(env, data_dir) as service:
            with _database(service) as query:
                hooks = query("SELECT url, user_id, events, enabled FROM webhooks ORDER BY url")
                assert [(url, user) for url, user, _, _ in hooks] == [
                    ("http://127.0.0.1:9/alice", world["users"][0]), ("http://127.0.0.1:9/every-user", None)]
                assert all(bool(enabled) for *_, enabled in hooks)
                assert query("SELECT COUNT(*) FROM webhook_deliveries") == [(0,)]  # the restore announced nothing
            after = {i: _history(service, i) for i in world["history"]}
            assert {i: len(h) for i, h in after.items()} == {i: len(h) for i, h in world["history"].items()}
            assert after == world["history"]
            assert len(search(service, world["users"][0], PHRASE)) == 20


@contextlib.contextmanager
def _service_on(env: dict[str, str], data_dir: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(data_dir, env=env, api_key="restored-admin")
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.mark.postgres
def test_no_keys_leaves_the_archived_keys_out(world, tmp_path):
    with contextlib.ExitStack() as stack:
        env = {**BACKENDS[world["kind"]], "MEM0_DATA_DIR": str(tmp_path / "nokeys"), "MEM0_API_KEY": "k"}
        if world["kind"] != "sqlite":
            env["DATABASE_URL"] = stack.enter_context(fresh_database("mem0_nokeys"))
        restored = cli(env, "restore", "--no-keys", str(world["archive"]))
        assert restored.returncode == 0, restored.stderr
        assert "0 scoped keys added" in restored.stdout
        assert "Note: 2 scoped keys in the archive left out (--no-keys)" in restored.stdout
        listed = cli(env, "keys", "list", "--all", "--json")
        assert listed.returncode == 0 and listed.stdout.strip() == ""


@pytest.mark.postgres
def test_a_restore_that_dies_mid_write_leaves_nothing_behind(world, tmp_path):
    """The process dies (like a power cut) after the history, the keys and a first batch of memories were written:
    none of it was committed, and the same archive then restores in full."""
    kind = world["kind"]
    with contextlib.ExitStack() as stack:
        env = {**BACKENDS[kind], "MEM0_DATA_DIR": str(tmp_path / "crash"), "MEM0_API_KEY": "k"}
        if kind != "sqlite":
            env["DATABASE_URL"] = stack.enter_context(fresh_database("mem0_crash"))
        died = cli({**env, "MEM0_FAILPOINT": "restore-mid-transaction"}, "restore", str(world["archive"]))
        assert died.returncode == 137, (died.stdout, died.stderr)
        probe = ServiceProcess(tmp_path / "crash", env={k: v for k, v in env.items()
                                                        if k not in ("MEM0_DATA_DIR", "MEM0_API_KEY")})
        assert {table: count for table, (count, _) in _store(probe).items()} == \
            {"memories": 0, "memory_history": 0, "api_keys": 0, "index_outbox": 0, "webhooks": 0}
        restored = cli(env, "restore", str(world["archive"]))
        assert restored.returncode == 0, restored.stderr
        assert f"{LAST_MEMORY} added" in restored.stdout and "2 scoped keys added" in restored.stdout
        assert "2 webhook subscriptions added" in restored.stdout
        assert f"{sum(len(h) for h in world['history'].values())} history events" in restored.stdout


def _manifest(edit: Callable[[dict], object]) -> Callable[[dict[str, bytes]], None]:
    def change(contents: dict[str, bytes]) -> None:
        contents["manifest.json"] = json.dumps(edit(json.loads(contents["manifest.json"]))).encode()
    return change


@pytest.mark.postgres
@pytest.mark.parametrize("edit, words", [
    (lambda m: [m], "manifest.json is not a JSON object"),
    (lambda m: {**m, "format_version": [2]}, "unsupported backup format"),
    (lambda m: {**m, "memories": "all of them"}, "manifest.json: field 'memories' is missing or not an object"),
    (lambda m: {**m, "embedding": {"model": m["embedding"]["model"], "dimension": "512"}},
     "manifest.json: field 'embedding.dimension' must be a whole number"),
], ids=["not-an-object", "odd-version", "odd-member", "odd-dimension"])
def test_a_crafted_manifest_is_refused_with_one_line(world, edit, words, tmp_path):
    with tarfile.open(world["archive"]) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    _manifest(edit)(contents)
    crafted = tmp_path / "manifest.tar.gz"
    with tarfile.open(crafted, "w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    before = _store(world["target"])
    refused = cli(service_env(world["target"]), "restore", str(crafted))
    assert refused.returncode == 3, refused.stdout
    message = refused.stderr.strip()
    assert "\n" not in message and "Traceback" not in message and words in message, message
    _unchanged(world, before)
