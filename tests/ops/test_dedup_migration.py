"""The migration that puts exact-duplicate detection into the database copes with duplicates stored before it:
the oldest of each stays, the others are deleted with a history event naming the memory they were merged into."""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mem0_service.core.memory import content_hash
from mem0_service.stores.base import migrations
from tests.ops.conftest import BACKENDS
from tests.support.api import Api
from tests.support.postgres import fresh_database
from tests.support.service_process import ServiceProcess

# the migration under test and everything after it (API keys stay: they are numbered apart, from 100)
FIRST_NEW = {"sqlite": 5, "postgres": 3}
USER = "olduser"


def _rows() -> list[tuple]:
    """(id, user, session, agent, type, content, created_at): three copies of one fact in one scope, the same fact
    under an agent (another scope), and two identical interactions (never de-duplicated)."""
    def rid(n: int) -> str:
        return f"mem_{n:014x}{secrets.token_hex(8)}"
    return [(rid(3), USER, None, None, "fact", "Likes  green tea", "2026-01-03T00:00:00.000000Z"),
            (rid(1), USER, None, None, "fact", "likes green tea", "2026-01-01T00:00:00.000000Z"),
            (rid(2), USER, None, None, "preference", "likes green tea", "2026-01-02T00:00:00.000000Z"),
            (rid(4), USER, None, "barista", "fact", "likes green tea", "2026-01-04T00:00:00.000000Z"),
            (rid(5), USER, "s1", None, "interaction", "hello", "2026-01-05T00:00:00.000000Z"),
            (rid(6), USER, "s1", None, "interaction", "hello", "2026-01-06T00:00:00.000000Z")]


def _old_scripts(dialect: str) -> list[tuple[int, str]]:
    return [(v, script) for v, script in migrations(dialect) if v < FIRST_NEW[dialect] or v >= 100]


def _sqlite_before(data_dir: Path, rows: list[tuple]) -> None:
    data_dir.mkdir(parents=True)
    with sqlite3.connect(data_dir / "memories.sqlite3") as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        for version, script in _old_scripts("sqlite"):
            conn.executescript(script)
            conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01T00:00:00Z')", (version,))
        for memory_id, user, session, agent, kind, content, at in rows:
            conn.execute("INSERT INTO memories (id, user_id, session_id, agent_id, type, content, content_hash, "
                         "metadata, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (memory_id, user, session, agent, kind, content, content_hash(content), "{}", at, at))
            conn.execute("INSERT INTO memory_history (memory_id, user_id, event, new_content, actor, created_at) "
                         "VALUES (?, ?, 'ADD', ?, 'api', ?)", (memory_id, user, content, at))


def _postgres_before(url: str, rows: list[tuple]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                     "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        for version, script in _old_scripts("postgres"):
            conn.execute(script)
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
        for memory_id, user, session, agent, kind, content, at in rows:
            conn.execute("INSERT INTO memories (id, user_id, session_id, agent_id, type, content, content_hash, "
                         "metadata, created_at, updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                         (memory_id, user, session, agent, kind, content, content_hash(content), json.dumps({}), at,
                          at))
            conn.execute("INSERT INTO memory_history (memory_id, user_id, event, new_content, actor, created_at) "
                         "VALUES (%s, %s, 'ADD', %s, 'api', %s)", (memory_id, user, content, at))


@contextlib.contextmanager
def _service_over_old_store(backend: str, tmp_path: Path, rows: list[tuple]) -> Iterator[ServiceProcess]:
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if backend == "sqlite":
            _sqlite_before(tmp_path / "data", rows)
        else:
            env = {"DATABASE_URL": stack.enter_context(fresh_database("mem0_ops")), "MEM0_VECTOR_INDEX": "qdrant"}
            _postgres_before(env["DATABASE_URL"], rows)
            (tmp_path / "data").mkdir()
        service = ServiceProcess(tmp_path / "data", env=env, api_key="admin-" + secrets.token_hex(8))
        service.start()
        stack.callback(service.stop)
        yield service


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicates_stored_before_the_unique_index_are_merged_into_the_oldest(backend, tmp_path):
    rows = _rows()
    oldest, newer, newest = rows[1][0], rows[2][0], rows[0][0]
    with _service_over_old_store(backend, tmp_path, rows) as service:
        api = Api(service.url, service.api_key)
        listed = api.get(f"/api/memories/user/{USER}", params={"limit": 100, "order": "asc"}).json()["memories"]
        assert [m["id"] for m in listed] == [oldest, rows[3][0], rows[4][0], rows[5][0]]

        for merged in (newer, newest):
            assert api.get(f"/api/memories/{merged}").status_code == 404
            history = api.get(f"/api/memories/{merged}/history").json()["history"]
            assert [(e["event"], e["actor"]) for e in history] == [("ADD", "api"), ("DELETE", f"merged into {oldest}")]
        assert [e["event"] for e in api.get(f"/api/memories/{oldest}/history").json()["history"]] == ["ADD"]

        again = api.post("/api/memories", json={"user_id": USER, "content": "likes green tea"})
        assert again.status_code == 200 and again.json()["id"] == oldest, again.text
        found = api.search(USER, "green tea", relevance_threshold=0.0)["memories"]
        assert not {m["id"] for m in found} & {newer, newest}  # a merged copy never surfaces
