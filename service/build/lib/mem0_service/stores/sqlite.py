"""SQLite record store: the embedded default, one file under the data directory."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from mem0_service.core.memory import HistoryEvent, Memory, MemoryType, Scope, utcnow
from mem0_service.sqlite_worker import SQLiteWorker
from mem0_service.stores.base import (
    IndexOp,
    RecordStore,
    UserSummary,
    iso,
    keyword_terms,
    migrations,
    parse_iso,
    prefix_upper_bound,
    scope_where,
)

# BM25 score at which keyword evidence counts half: short memories score 2-10 on a one-word hit.
BM25_HALF = 6.0
COLUMNS = "m.id, m.user_id, m.session_id, m.agent_id, m.type, m.content, m.metadata, m.created_at, m.updated_at, m.expires_at"


def _row_to_memory(row: tuple) -> Memory:
    return Memory(id=row[0], user_id=row[1], session_id=row[2], agent_id=row[3], type=MemoryType(row[4]),
                  content=row[5], metadata=json.loads(row[6]), created_at=parse_iso(row[7]),
                  updated_at=parse_iso(row[8]), expires_at=parse_iso(row[9]) if row[9] else None)


def _memory_row(m: Memory) -> tuple:
    return (m.id, m.user_id, m.session_id, m.agent_id, m.type.value, m.content, m.hash,
            json.dumps(m.metadata, ensure_ascii=False), iso(m.created_at), iso(m.updated_at),
            iso(m.expires_at) if m.expires_at else None)


def _metadata_equals(key: str, value) -> tuple[str, list]:
    if isinstance(value, bool):
        value = int(value)  # json_extract returns JSON booleans as 0/1
    if value is None:
        return "json_type(m.metadata, ?) = 'null'", [_json_path(key)]
    return "json_extract(m.metadata, ?) = ?", [_json_path(key), value]


def _json_path(key: str) -> str:
    return '$."' + key.replace('"', '""') + '"'


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _owner_token(user_id: str) -> str:
    """The full-text index's owner token for a user, as migration 004 writes it: 'u' || hex(user_id)."""
    return "u" + user_id.encode().hex()


def _where(scope: Scope, *, live: bool = True) -> tuple[str, list]:
    return scope_where(scope, mark="?", timestamp=iso, now=utcnow() if live else None, metadata_equals=_metadata_equals)


def _history(c: sqlite3.Connection, rows: list[tuple]) -> None:
    c.executemany("INSERT INTO memory_history (memory_id, user_id, event, old_content, new_content, actor, created_at) "
                  "VALUES (?,?,?,?,?,?,?)", rows)


class SQLiteRecordStore(RecordStore):

    name = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        self._worker = SQLiteWorker(path, dependency="record_store", label="Record store")
        self._run = self._worker.run

    async def open(self) -> None:
        await self._worker.open(self._migrate)

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        for version, script in migrations("sqlite"):
            if version in done:
                continue
            conn.executescript("BEGIN;" + script + ";COMMIT;")
            with conn:
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, iso(utcnow())))

    async def close(self) -> None:
        await self._worker.close()

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def insert(self, memories: list[Memory], *, actor: str = "api") -> None:
        def work(c: sqlite3.Connection) -> None:
            c.executemany("INSERT INTO memories (id, user_id, session_id, agent_id, type, content, content_hash, "
                          "metadata, created_at, updated_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                          [_memory_row(m) for m in memories])
            c.executemany("INSERT INTO index_outbox (memory_id, op) VALUES (?, 'upsert')", [(m.id,) for m in memories])
            _history(c, [(m.id, m.user_id, "ADD", None, m.content, actor, iso(m.created_at)) for m in memories])
        await self._run(work)

    async def get_many(self, ids: list[str]) -> dict[str, Memory]:
        if not ids:
            return {}

        def work(c: sqlite3.Connection) -> dict[str, Memory]:
            found: dict[str, Memory] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = c.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id IN ({','.join('?' * len(chunk))})", chunk)
                found.update((row[0], _row_to_memory(row)) for row in rows)
            return found
        return await self._run(work)

    async def first_in_scope(self, scope: Scope, ids: list[str], limit: int) -> tuple[list[Memory], int]:
        if not ids:
            return [], 0
        where, params = _where(scope)

        def work(c: sqlite3.Connection) -> tuple[list[Memory], int]:
            # Through the rowids, as in keyword_search: given `user_id = ?`, SQLite would rather walk the user index
            # over all of a big user's rows than look up a hundred ids.
            admitted = {i for (i,) in c.execute(
                f"SELECT m.id FROM memories m NOT INDEXED WHERE m.rowid IN "
                f"(SELECT rowid FROM memories WHERE id IN ({','.join('?' * len(ids))})) AND {where}", [*ids, *params])}
            first = [i for i in ids if i in admitted][:limit]
            rows = c.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id IN ({','.join('?' * len(first))})", first)
            found = {row[0]: _row_to_memory(row) for row in rows}
            return [found[i] for i in first if i in found], len(admitted)
        return await self._run(work)

    async def update(self, memory: Memory, *, reindex: bool, actor: str = "api") -> bool:
        def work(c: sqlite3.Connection) -> bool:
            row = _memory_row(memory)
            old = c.execute("SELECT content FROM memories WHERE id = ?", (memory.id,)).fetchone()
            cur = c.execute("UPDATE memories SET session_id=?, agent_id=?, type=?, content=?, content_hash=?, metadata=?, "
                            "updated_at=?, expires_at=? WHERE id=?", (*row[2:8], row[9], row[10], memory.id))
            if cur.rowcount and reindex:
                c.execute("INSERT INTO index_outbox (memory_id, op) VALUES (?, 'upsert')", (memory.id,))
            if cur.rowcount:
                _history(c, [(memory.id, memory.user_id, "UPDATE", old[0], memory.content, actor, iso(memory.updated_at))])
            return cur.rowcount > 0
        return await self._run(work)

    @staticmethod
    def _delete_rows(c: sqlite3.Connection, ids: list[str], actor: str, erase: bool) -> list[str]:
        now, gone = iso(utcnow()), []
        for memory_id in ids:
            row = c.execute("DELETE FROM memories WHERE id = ? RETURNING user_id, content", (memory_id,)).fetchone()
            if row is None:
                continue
            gone.append(memory_id)
            c.execute("INSERT INTO index_outbox (memory_id, op) VALUES (?, 'delete')", (memory_id,))
            _history(c, [(memory_id, row[0], "DELETE", None if erase else row[1], None, actor, now)])
        if erase and gone:
            c.executemany("UPDATE memory_history SET old_content = NULL, new_content = NULL WHERE memory_id = ?",
                          [(i,) for i in gone])
        return gone

    async def delete(self, ids: list[str], *, actor: str = "api", erase: bool = False) -> int:
        return len(await self._run(lambda c: self._delete_rows(c, ids, actor, erase)))

    async def delete_scope(self, scope: Scope, *, actor: str = "api", erase: bool = True) -> list[str]:
        where, params = _where(scope, live=False)

        def work(c: sqlite3.Connection) -> list[str]:
            ids = [r[0] for r in c.execute(f"SELECT m.id FROM memories m WHERE {where}", params)]
            return self._delete_rows(c, ids, actor, erase)
        return await self._run(work)

    async def delete_expired(self, now: datetime, *, limit: int = 1000) -> list[str]:
        def work(c: sqlite3.Connection) -> list[str]:
            ids = [r[0] for r in c.execute("SELECT id FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ? "
                                           "LIMIT ?", (iso(now), limit))]
            return self._delete_rows(c, ids, "expiry", erase=False)
        return await self._run(work)

    async def idle_sessions(self, cutoff: datetime, *, limit: int = 1000) -> list[tuple[str, str]]:
        return await self._run(lambda c: c.execute(
            "SELECT user_id, session_id FROM memories WHERE session_id IS NOT NULL GROUP BY user_id, session_id "
            "HAVING MAX(updated_at) < ? LIMIT ?", (iso(cutoff), limit)).fetchall())

    async def history(self, memory_id: str) -> list[HistoryEvent]:
        rows = await self._run(lambda c: c.execute(
            "SELECT memory_id, event, old_content, new_content, actor, created_at FROM memory_history "
            "WHERE memory_id = ? ORDER BY seq", (memory_id,)).fetchall())
        return [HistoryEvent(r[0], r[1], r[2], r[3], r[4], parse_iso(r[5])) for r in rows]

    async def restore_history(self, events: list[tuple[str, HistoryEvent]]) -> int:
        ids = list({e.memory_id: None for _, e in events})

        def work(c: sqlite3.Connection) -> int:
            known = {i for (i,) in c.execute(f"SELECT DISTINCT memory_id FROM memory_history WHERE memory_id IN "
                                             f"({','.join('?' * len(ids))})", ids)}
            rows = [(e.memory_id, user, e.event, e.old_content, e.new_content, e.actor, iso(e.created_at))
                    for user, e in events if e.memory_id not in known]
            _history(c, rows)
            return len(rows)
        return await self._run(work) if events else 0

    async def get_idempotent(self, key: str) -> tuple[int, str] | None:
        row = await self._run(lambda c: c.execute("SELECT status, body FROM idempotency_keys WHERE key = ?",
                                                  (key,)).fetchone())
        return (row[0], row[1]) if row else None

    async def put_idempotent(self, key: str, status: int, body: str) -> None:
        await self._run(lambda c: c.execute("INSERT OR IGNORE INTO idempotency_keys VALUES (?, ?, ?, ?)",
                                            (key, status, body, iso(utcnow()))))

    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]:
        where, params = _where(scope)
        order = "DESC" if newest_first else "ASC"

        def work(c: sqlite3.Connection) -> tuple[list[Memory], int]:
            total = c.execute(f"SELECT COUNT(*) FROM memories m WHERE {where}", params).fetchone()[0]
            rows = c.execute(f"SELECT {COLUMNS} FROM memories m WHERE {where} "
                             f"ORDER BY m.created_at {order}, m.id {order} LIMIT ? OFFSET ?", [*params, limit, offset])
            return [_row_to_memory(r) for r in rows], total
        return await self._run(work)

    async def list_users(self, prefix: str, *, limit: int, offset: int) -> tuple[list[UserSummary], int]:
        # A range on user_id rather than LIKE, which SQLite cannot serve from the index (it folds case).
        where = "m.user_id >= ? AND m.user_id < ? AND (m.expires_at IS NULL OR m.expires_at > ?)"
        params = [prefix, prefix_upper_bound(prefix), iso(utcnow())]

        def work(c: sqlite3.Connection) -> tuple[list[UserSummary], int]:
            total = c.execute(f"SELECT COUNT(DISTINCT m.user_id) FROM memories m WHERE {where}", params).fetchone()[0]
            rows = c.execute(f"SELECT m.user_id, COUNT(*), MAX(m.updated_at) FROM memories m WHERE {where} "
                             "GROUP BY m.user_id ORDER BY m.user_id LIMIT ? OFFSET ?", [*params, limit, offset])
            return [UserSummary(user_id, count, parse_iso(last)) for user_id, count, last in rows], total
        return await self._run(work)

    async def keyword_search(self, scope: Scope, query: str, *, limit: int) -> list[tuple[str, float]]:
        terms = keyword_terms(query)
        if not terms:
            return []
        # Only this user's postings are read; the join below stays the exact filter.
        match = f"owner : {_owner_token(scope.user_id)} AND content : (" + " OR ".join(_fts_string(t) for t in terms) + ")"
        where, params = _where(scope)

        def work(c: sqlite3.Connection) -> list[tuple[str, float]]:
            # Rank inside the full-text index first and join only its best rows: joining every match before
            # sorting cost half of a 20k-memory user's search. The join applies the exact scope; only if it
            # rejects so many of the best rows that fewer than `limit` remain is everything ranked after all.
            # Weight 0 for the owner column: scores depend on the words of the memory alone.
            best = c.execute("SELECT rowid, -bm25(memories_fts, 1.0, 0.0) AS score FROM memories_fts "
                             "WHERE memories_fts MATCH ? ORDER BY score DESC LIMIT ?", (match, limit * 4)).fetchall()
            score_of = dict(best)
            kept = {rowid: memory_id for rowid, memory_id in c.execute(
                # NOT INDEXED: look the rows up by rowid; via the user_id index SQLite would walk all of a big
                # user's rows (13 ms instead of 0.5 ms for a 20k-memory user)
                f"SELECT m.rowid, m.id FROM memories m NOT INDEXED WHERE m.rowid IN ({','.join('?' * len(best))}) "
                f"AND {where}",
                [*score_of, *params])} if best else {}
            if len(kept) >= limit or len(best) < limit * 4:
                rows = sorted(((kept[r], score_of[r]) for r in kept), key=lambda row: -row[1])[:limit]
            else:
                rows = c.execute("SELECT m.id, -bm25(memories_fts, 1.0, 0.0) AS score FROM memories_fts "
                                 "JOIN memories m ON m.rowid = memories_fts.rowid "
                                 f"WHERE memories_fts MATCH ? AND {where} ORDER BY score DESC LIMIT ?",
                                 [match, *params, limit]).fetchall()
            return [(i, s / (s + BM25_HALF)) for i, s in rows if s > 0]
        return await self._run(work)

    async def find_by_hash(self, scope: Scope, digest: str) -> Memory | None:
        where, params = _where(scope)

        def work(c: sqlite3.Connection) -> Memory | None:
            row = c.execute(f"SELECT {COLUMNS} FROM memories m WHERE {where} AND m.content_hash = ? LIMIT 1",
                            [*params, digest]).fetchone()
            return _row_to_memory(row) if row else None
        return await self._run(work)

    async def pending_index_ops(self, limit: int) -> list[IndexOp]:
        rows = await self._run(lambda c: c.execute(
            "SELECT seq, memory_id, op FROM index_outbox ORDER BY seq LIMIT ?", (limit,)).fetchall())
        return [IndexOp(seq=r[0], memory_id=r[1], op=r[2]) for r in rows]

    async def ack_index_ops(self, seqs: list[int]) -> None:
        await self._run(lambda c: c.executemany("DELETE FROM index_outbox WHERE seq = ?", [(s,) for s in seqs]))

    async def count_pending_index_ops(self) -> int:
        return await self._run(lambda c: c.execute("SELECT COUNT(*) FROM index_outbox").fetchone()[0])

    async def iter_all(self, batch_size: int = 500) -> AsyncIterator[list[Memory]]:
        def page(after: str):
            return lambda c: c.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id > ? ORDER BY m.id LIMIT ?",
                                       (after, batch_size)).fetchall()

        after = ""
        while True:
            rows = await self._run(page(after))
            if not rows:
                return
            yield [_row_to_memory(r) for r in rows]
            after = rows[-1][0]

    async def count(self) -> int:
        return await self._run(lambda c: c.execute("SELECT COUNT(*) FROM memories").fetchone()[0])

    async def enqueue_reindex_all(self) -> int:
        return await self._run(lambda c: c.execute(
            "INSERT INTO index_outbox (memory_id, op) SELECT id, 'upsert' FROM memories").rowcount)
