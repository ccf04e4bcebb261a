"""PostgreSQL record store (psycopg 3 with a connection pool): the production source of truth."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mem0_service.core.memory import HistoryEvent, Memory, MemoryType, Scope, utcnow
from mem0_service.errors import ServiceUnavailable
from mem0_service.stores.base import IndexOp, RecordStore, UserSummary, keyword_terms, migrations, prefix_upper_bound, scope_where

log = logging.getLogger("mem0_service.postgres")
COLUMNS = "m.id, m.user_id, m.session_id, m.agent_id, m.type, m.content, m.metadata, m.created_at, m.updated_at, m.expires_at"
# ts_rank_cd has no IDF: a word every memory shares ("user") ranks like a rare name. A small scale keeps a
# one-common-word hit from lifting an unrelated memory over the threshold; several matching words still count.
# Set so the default threshold means about what it means on the embedded store (LoCoMo, bench.retrieval: 30% of
# evidence turns pass 0.7 with 2.2 others per question, against 34% / 2.7 embedded; 2.0 passed 22% / 1.1).
RANK_SCALE = 2.6
MIGRATION_LOCK = 727_000_001  # advisory lock id: replicas starting together migrate one at a time


def _row_to_memory(row: TupleRow) -> Memory:
    return Memory(id=row[0], user_id=row[1], session_id=row[2], agent_id=row[3], type=MemoryType(row[4]),
                  content=row[5], metadata=row[6] or {}, created_at=row[7], updated_at=row[8], expires_at=row[9])


def _memory_row(m: Memory) -> tuple:
    return (m.id, m.user_id, m.session_id, m.agent_id, m.type.value, m.content, m.hash, Jsonb(m.metadata),
            m.created_at, m.updated_at, m.expires_at)


def _metadata_equals(key: str, value) -> tuple[str, list]:
    return "m.metadata @> %s", [Jsonb({key: value})]


def _where(scope: Scope, *, live: bool = True) -> tuple[str, list]:
    return scope_where(scope, mark="%s", now=utcnow() if live else None, metadata_equals=_metadata_equals)


HISTORY_INSERT = ("INSERT INTO memory_history (memory_id, user_id, event, old_content, new_content, actor, created_at) "
                  "VALUES (%s,%s,%s,%s,%s,%s,%s)")


class PostgresRecordStore(RecordStore):
    name = "postgres"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0):
        self.url = url
        self.timeout = timeout
        self.pool = AsyncConnectionPool(url, min_size=min_size, max_size=max_size, open=False, timeout=timeout,
                                        kwargs={"connect_timeout": max(1, int(timeout))},
                                        check=AsyncConnectionPool.check_connection)

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[psycopg.AsyncCursor]:
        """One transaction; any connection trouble becomes a 503 naming the record store."""
        try:
            async with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            raise ServiceUnavailable(f"Record store (PostgreSQL) unavailable: {str(exc).strip()[:200]}",
                                     dependency="record_store") from exc

    async def open(self) -> None:
        try:
            await self.pool.open(wait=True, timeout=self.timeout * 2)
        except PoolTimeout as exc:
            await self.pool.close()
            raise ServiceUnavailable(f"Cannot connect to PostgreSQL at DATABASE_URL: {exc}",
                                     dependency="record_store") from exc
        await self.migrate()

    async def migrate(self) -> list[int]:
        applied: list[int] = []
        async with self._tx() as cur:
            await cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                              "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            await cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in await cur.fetchall()}
            for version, script in migrations("postgres"):
                if version not in done:
                    await cur.execute(script)
                    await cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                    applied.append(version)
        if applied:
            log.info("applied migrations %s", applied)
        return applied

    async def close(self) -> None:
        await self.pool.close()

    async def ping(self) -> None:
        async with self._tx() as cur:
            await cur.execute("SELECT 1")

    async def insert(self, memories: list[Memory], *, actor: str = "api") -> None:
        async with self._tx() as cur:
            await cur.executemany("INSERT INTO memories (id, user_id, session_id, agent_id, type, content, content_hash, "
                                  "metadata, created_at, updated_at, expires_at) VALUES "
                                  "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", [_memory_row(m) for m in memories])
            await cur.executemany("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'upsert')",
                                  [(m.id,) for m in memories])
            await cur.executemany(HISTORY_INSERT, [(m.id, m.user_id, "ADD", None, m.content, actor, m.created_at)
                                                   for m in memories])

    async def get_many(self, ids: list[str]) -> dict[str, Memory]:
        if not ids:
            return {}
        async with self._tx() as cur:
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id = ANY(%s)", (ids,))
            return {row[0]: _row_to_memory(row) for row in await cur.fetchall()}

    async def first_in_scope(self, scope: Scope, ids: list[str], limit: int) -> tuple[list[Memory], int]:
        if not ids:
            return [], 0
        where, params = _where(scope)
        async with self._tx() as cur:
            await cur.execute(f"SELECT m.id FROM memories m WHERE m.id = ANY(%s) AND {where}", [ids, *params])
            admitted = {i for (i,) in await cur.fetchall()}
            first = [i for i in ids if i in admitted][:limit]
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id = ANY(%s)", (first,))
            found = {row[0]: _row_to_memory(row) for row in await cur.fetchall()}
        return [found[i] for i in first if i in found], len(admitted)

    async def update(self, memory: Memory, *, reindex: bool, actor: str = "api") -> bool:
        row = _memory_row(memory)
        async with self._tx() as cur:
            await cur.execute("SELECT content FROM memories WHERE id = %s FOR UPDATE", (memory.id,))
            old = await cur.fetchone()
            await cur.execute("UPDATE memories SET session_id=%s, agent_id=%s, type=%s, content=%s, content_hash=%s, "
                              "metadata=%s, updated_at=%s, expires_at=%s WHERE id=%s",
                              (*row[2:8], row[9], row[10], memory.id))
            found = cur.rowcount > 0
            if found and reindex:
                await cur.execute("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'upsert')", (memory.id,))
            if found:
                await cur.execute(HISTORY_INSERT, (memory.id, memory.user_id, "UPDATE", old[0], memory.content, actor,
                                                   memory.updated_at))
            return found

    @staticmethod
    async def _after_delete(cur, gone: list[tuple[str, str, str]], actor: str, erase: bool) -> list[str]:
        """Outbox and history rows for deleted (id, user_id, content) triples, in the deleting transaction."""
        now = utcnow()
        await cur.executemany("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'delete')", [(g[0],) for g in gone])
        await cur.executemany(HISTORY_INSERT, [(i, u, "DELETE", None if erase else c, None, actor, now)
                                               for i, u, c in gone])
        ids = [g[0] for g in gone]
        if erase and ids:
            await cur.execute("UPDATE memory_history SET old_content = NULL, new_content = NULL "
                              "WHERE memory_id = ANY(%s)", (ids,))
        return ids

    async def delete(self, ids: list[str], *, actor: str = "api", erase: bool = False) -> int:
        async with self._tx() as cur:
            await cur.execute("DELETE FROM memories WHERE id = ANY(%s) RETURNING id, user_id, content", (ids,))
            return len(await self._after_delete(cur, await cur.fetchall(), actor, erase))

    async def delete_scope(self, scope: Scope, *, actor: str = "api", erase: bool = True) -> list[str]:
        where, params = _where(scope, live=False)
        async with self._tx() as cur:
            await cur.execute(f"DELETE FROM memories m WHERE {where} RETURNING m.id, m.user_id, m.content", params)
            return await self._after_delete(cur, await cur.fetchall(), actor, erase)

    async def delete_expired(self, now: datetime, *, limit: int = 1000) -> list[str]:
        async with self._tx() as cur:
            await cur.execute("DELETE FROM memories WHERE id IN (SELECT id FROM memories WHERE expires_at IS NOT NULL "
                              "AND expires_at <= %s LIMIT %s) RETURNING id, user_id, content", (now, limit))
            return await self._after_delete(cur, await cur.fetchall(), "expiry", False)

    async def idle_sessions(self, cutoff: datetime, *, limit: int = 1000) -> list[tuple[str, str]]:
        async with self._tx() as cur:
            await cur.execute("SELECT user_id, session_id FROM memories WHERE session_id IS NOT NULL "
                              "GROUP BY user_id, session_id HAVING MAX(updated_at) < %s LIMIT %s", (cutoff, limit))
            return [(r[0], r[1]) for r in await cur.fetchall()]

    async def history(self, memory_id: str) -> list[HistoryEvent]:
        async with self._tx() as cur:
            await cur.execute("SELECT memory_id, event, old_content, new_content, actor, created_at FROM memory_history "
                              "WHERE memory_id = %s ORDER BY seq", (memory_id,))
            return [HistoryEvent(*r) for r in await cur.fetchall()]

    async def restore_history(self, events: list[tuple[str, HistoryEvent]]) -> int:
        if not events:
            return 0
        async with self._tx() as cur:
            await cur.execute("SELECT DISTINCT memory_id FROM memory_history WHERE memory_id = ANY(%s)",
                              (list({e.memory_id for _, e in events}),))
            known = {i for (i,) in await cur.fetchall()}
            rows = [(e.memory_id, user, e.event, e.old_content, e.new_content, e.actor, e.created_at)
                    for user, e in events if e.memory_id not in known]
            await cur.executemany(HISTORY_INSERT, rows)
        return len(rows)

    async def get_idempotent(self, key: str) -> tuple[int, str] | None:
        async with self._tx() as cur:
            await cur.execute("SELECT status, body FROM idempotency_keys WHERE key = %s", (key,))
            row = await cur.fetchone()
        return (row[0], row[1]) if row else None

    async def put_idempotent(self, key: str, status: int, body: str) -> None:
        async with self._tx() as cur:
            await cur.execute("INSERT INTO idempotency_keys VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                              (key, status, body, utcnow()))

    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]:
        where, params = _where(scope)
        order = "DESC" if newest_first else "ASC"
        async with self._tx() as cur:
            await cur.execute(f"SELECT COUNT(*) FROM memories m WHERE {where}", params)
            total = (await cur.fetchone())[0]
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE {where} "
                              f"ORDER BY m.created_at {order}, m.id {order} LIMIT %s OFFSET %s", [*params, limit, offset])
            return [_row_to_memory(r) for r in await cur.fetchall()], total

    async def list_users(self, prefix: str, *, limit: int, offset: int) -> tuple[list[UserSummary], int]:
        # In byte order (COLLATE "C", migration 005): under a language collation a range would not be a prefix,
        # and the order would differ from the embedded store's.
        where = ('m.user_id COLLATE "C" >= %s AND m.user_id COLLATE "C" < %s '
                 "AND (m.expires_at IS NULL OR m.expires_at > %s)")
        params = [prefix, prefix_upper_bound(prefix), utcnow()]
        async with self._tx() as cur:
            await cur.execute(f'SELECT COUNT(DISTINCT m.user_id COLLATE "C") FROM memories m WHERE {where}', params)
            total = (await cur.fetchone())[0]
            await cur.execute(f'SELECT m.user_id COLLATE "C", COUNT(*), MAX(m.updated_at) FROM memories m WHERE {where} '
                              "GROUP BY 1 ORDER BY 1 LIMIT %s OFFSET %s", [*params, limit, offset])
            return [UserSummary(user_id, count, last) for user_id, count, last in await cur.fetchall()], total

    async def keyword_search(self, scope: Scope, query: str, *, limit: int) -> list[tuple[str, float]]:
        terms = keyword_terms(query)
        if not terms:
            return []
        text = " | ".join(terms)
        where, params = _where(scope)
        async with self._tx() as cur:
            await cur.execute(
                "SELECT m.id, ts_rank_cd(m.search_vector, q.query) AS rank FROM memories m, "
                "(SELECT to_tsquery('english'::regconfig, %s) || to_tsquery('russian'::regconfig, %s) AS query) q "
                f"WHERE m.search_vector @@ q.query AND {where} ORDER BY rank DESC LIMIT %s",
                [text, text, *params, limit])
            rows = await cur.fetchall()
        return [(i, (r * RANK_SCALE) / (r * RANK_SCALE + 1.0)) for i, r in rows if r > 0]

    async def find_by_hash(self, scope: Scope, digest: str) -> Memory | None:
        where, params = _where(scope)
        async with self._tx() as cur:
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE {where} AND m.content_hash = %s LIMIT 1",
                              [*params, digest])
            row = await cur.fetchone()
        return _row_to_memory(row) if row else None

    async def pending_index_ops(self, limit: int) -> list[IndexOp]:
        async with self._tx() as cur:
            await cur.execute("SELECT seq, memory_id, op FROM index_outbox ORDER BY seq LIMIT %s", (limit,))
            return [IndexOp(seq=r[0], memory_id=r[1], op=r[2]) for r in await cur.fetchall()]

    async def ack_index_ops(self, seqs: list[int]) -> None:
        async with self._tx() as cur:
            await cur.execute("DELETE FROM index_outbox WHERE seq = ANY(%s)", (seqs,))

    async def count_pending_index_ops(self) -> int:
        async with self._tx() as cur:
            await cur.execute("SELECT COUNT(*) FROM index_outbox")
            return (await cur.fetchone())[0]

    async def iter_all(self, batch_size: int = 500) -> AsyncIterator[list[Memory]]:
        after = ""
        while True:
            async with self._tx() as cur:
                await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id > %s ORDER BY m.id LIMIT %s",
                                  (after, batch_size))
                rows = await cur.fetchall()
            if not rows:
                return
            yield [_row_to_memory(r) for r in rows]
            after = rows[-1][0]

    async def count(self) -> int:
        async with self._tx() as cur:
            await cur.execute("SELECT COUNT(*) FROM memories")
            return (await cur.fetchone())[0]

    async def enqueue_reindex_all(self) -> int:
        async with self._tx() as cur:
            await cur.execute("INSERT INTO index_outbox (memory_id, op) SELECT id, 'upsert' FROM memories")
            return cur.rowcount
