"""PostgreSQL record store (psycopg 3 with a connection pool): the production source of truth."""

from __future__ import annotations

import builtins
import logging
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import TupleRow
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mem0_service.core.access import Access
from mem0_service.core.filters import Filter, all_of, scope_filter
from mem0_service.core.memory import HistoryEvent, Memory, MemoryType, Scope, utcnow
from mem0_service.core.ports import (
    AsGivenWriter,
    IdempotentOwner,
    OwnerGroup,
    Snapshot,
    StoreInspection,
    StoreUnreachable,
)
from mem0_service.errors import Conflict, PreconditionFailed, ServiceUnavailable
from mem0_service.keys.model import ApiKey
from mem0_service.stores import postgres_keywords
from mem0_service.stores.base import (
    EXPIRY_BATCH,
    IdempotencyState,
    IndexOp,
    QuarantineEntry,
    RecordStore,
    UnreadableRecord,
    UserSummary,
    adjacency,
    adjacent_turns_sql,
    changed_columns,
    dedup_key,
    keyword_terms,
    load_rows,
    migrations,
    prefix_upper_bound,
)
from mem0_service.stores.filtering import PostgresDialect, compile_filter
from mem0_service.stores.postgres_cursor import single_row
from mem0_service.stores.postgres_erasure import RESERVATION, PostgresErasure, erase_memories, store_answer
from mem0_service.stores.postgres_jobs import PostgresJobs
from mem0_service.stores.postgres_messages import PostgresMessageLog

log = logging.getLogger("mem0_service.postgres")
COLUMNS = ("m.id, m.user_id, m.session_id, m.agent_id, m.type, m.content, m.metadata, m.created_at, m.updated_at, "
           "m.expires_at, m.version")
# The scope a duplicate is unique in (see migration 003): NULL agent/session folded into ''.
SAME_SCOPE = ("m.user_id = %s AND COALESCE(m.agent_id, '') = COALESCE(%s, '') "
              "AND COALESCE(m.session_id, '') = COALESCE(%s, '') AND m.dedup_key = %s")
KEY_COLUMNS = "id, prefix, name, user_id, agent_id, access, created_at, revoked_at"
MIGRATION_LOCK = 727_000_001  # advisory lock id: replicas starting together migrate one at a time


def _as_written(value):
    """jsonb keeps numbers as exact decimals and prints a float like 1e20 as 100000000000000000000. Integers
    beyond 64 bits are refused on the way in, so such a number was a float: read it back as one, as SQLite does."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return float(value)
    if isinstance(value, dict):
        return {k: _as_written(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_written(v) for v in value]
    return value


class UnreadableTimestamp:
    """A timestamptz PostgreSQL holds but Python cannot (e.g. 9999-12-31T23:59:59-05:00 is in year 10000 in UTC)."""

    def __init__(self, text: str, cause: str):
        self.text, self.cause = text, cause


class TolerantTimestamptzLoader(TimestamptzLoader):
    """psycopg fails a whole result set on one such value; this marks the value so only its row is refused."""

    def load(self, data):
        try:
            return super().load(data)
        except (psycopg.DataError, ValueError, OverflowError) as exc:
            return UnreadableTimestamp(bytes(data).decode(errors="replace"), str(exc))


async def _configure(conn: psycopg.AsyncConnection) -> None:
    conn.adapters.register_loader("timestamptz", TolerantTimestamptzLoader)


def _timestamp(value: Any) -> Any:
    if isinstance(value, UnreadableTimestamp):
        raise ValueError(f"timestamp {value.text!r}: {value.cause}")
    return value


def _row_to_memory(row: TupleRow) -> Memory:
    return Memory(id=row[0], user_id=row[1], session_id=row[2], agent_id=row[3], type=MemoryType(row[4]),
                  content=row[5], metadata=_as_written(row[6] or {}), created_at=_timestamp(row[7]),
                  updated_at=_timestamp(row[8]), expires_at=_timestamp(row[9]), version=row[10])


def _memory_row(m: Memory, deduplicate: bool = True) -> tuple:
    return (m.id, m.user_id, m.session_id, m.agent_id, m.type.value, m.content, m.hash, Jsonb(m.metadata),
            m.created_at, m.updated_at, m.expires_at, dedup_key(m, deduplicate))


def _column_value(name: str, value: Any) -> Any:
    if name == "type":
        return value.value
    if name == "metadata":
        return Jsonb(value)
    return value


def _row_to_key(row: tuple) -> ApiKey:
    return ApiKey(id=row[0], prefix=row[1], name=row[2], user_id=row[3], agent_id=row[4], access=row[5],
                  created_at=row[6], revoked_at=row[7])


def _access_where(access: Access) -> tuple[str, list]:
    clauses, params = [], []
    if access.user_id is not None:
        clauses.append("m.user_id = %s")
        params.append(access.user_id)
    if access.agent_id is not None:
        clauses.append("m.agent_id = %s")
        params.append(access.agent_id)
    return " AND ".join(clauses) or "TRUE", params


DIALECT = PostgresDialect(Jsonb)


def _where(scope: Scope, *, live: bool = True, also: Filter | None = None) -> tuple[str, list]:
    """The SQL condition (on alias `m`) for a scope, narrowed by `also`; `live` leaves expired memories out."""
    flt = scope_filter(scope) if also is None else all_of([scope_filter(scope), also])
    return _live_where(flt) if live else compile_filter(flt, DIALECT)


def _live_where(flt: Filter) -> tuple[str, list]:
    sql, params = compile_filter(flt, DIALECT)
    return f"{sql} AND (m.expires_at IS NULL OR m.expires_at > %s)", [*params, utcnow()]


HISTORY_INSERT = ("INSERT INTO memory_history (memory_id, user_id, event, old_content, new_content, actor, created_at) "
                  "VALUES (%s,%s,%s,%s,%s,%s,%s)")


class PostgresRecordStore(PostgresMessageLog, PostgresJobs, PostgresErasure, RecordStore):
    name = "postgres"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0):
        self.url = url
        self.timeout = timeout
        self.pool = AsyncConnectionPool(url, min_size=min_size, max_size=max_size, open=False, timeout=timeout,
                                        kwargs={"connect_timeout": max(1, int(timeout))},
                                        check=AsyncConnectionPool.check_connection, configure=_configure)

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

    async def insert(self, memories: list[Memory], *, actor: str = "api", deduplicate: bool = True) -> list[Memory]:
        stored: dict[int, Memory] = {}
        # Rows go in in the order of their unique key: two batches racing over the same contents wait for each
        # other instead of deadlocking.
        order = sorted(range(len(memories)), key=lambda i: memories[i].hash)
        async with self._tx() as cur:
            for position in order:
                memory = memories[position]
                row = _memory_row(memory, deduplicate)
                if row[-1] is not None:
                    await self._remove_expired_twin(cur, memory, row[-1])
                # A racing create of the same content in the same scope waits here for the other transaction;
                # once that commits, this insert does nothing and the other's memory is returned.
                await cur.execute("INSERT INTO memories (id, user_id, session_id, agent_id, type, content, content_hash, "
                                  "metadata, created_at, updated_at, expires_at, dedup_key) VALUES "
                                  "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING", row)
                if not cur.rowcount:
                    stored[position] = await self._twin(cur, memory, row[-1])
                    continue
                await cur.execute("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'upsert')", (memory.id,))
                await cur.execute(HISTORY_INSERT, (memory.id, memory.user_id, "ADD", None, memory.content, actor,
                                                   memory.created_at))
                stored[position] = memory
        return [stored[i] for i in range(len(memories))]

    async def _remove_expired_twin(self, cur, memory: Memory, key: str) -> None:
        """An expired memory the sweeper has not removed yet must not stand in for a new one."""
        await cur.execute(f"DELETE FROM memories m WHERE {SAME_SCOPE} AND m.expires_at <= %s "
                          "RETURNING m.id, m.user_id, m.content",
                          (memory.user_id, memory.agent_id, memory.session_id, key, utcnow()))
        gone = await cur.fetchall()
        if gone:
            await self._after_delete(cur, gone, "expiry", False)

    @staticmethod
    async def _twin(cur, memory: Memory, key: str | None) -> Memory:
        await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE {SAME_SCOPE}",
                          (memory.user_id, memory.agent_id, memory.session_id, key))
        found, unreadable = load_rows(await cur.fetchall(), _row_to_memory)
        if not found:
            raise Conflict(f"A memory with this content exists in this scope but cannot be read back "
                           f"({'; '.join(unreadable.values()) or 'gone'})", field="content")
        return next(iter(found.values()))

    async def load_many(self, ids: list[str]) -> tuple[dict[str, Memory], dict[str, str]]:
        if not ids:
            return {}, {}
        async with self._tx() as cur:
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id = ANY(%s)", (ids,))
            return load_rows(await cur.fetchall(), _row_to_memory)

    async def first_in_scope(self, scope: Scope, ids: list[str], limit: int,
                             where: Filter | None = None) -> tuple[list[Memory], int]:
        if not ids:
            return [], 0
        condition, params = _where(scope, also=where)
        async with self._tx() as cur:
            await cur.execute(f"SELECT m.id FROM memories m WHERE m.id = ANY(%s) AND {condition}", [ids, *params])
            admitted = {i for (i,) in await cur.fetchall()}
            first = [i for i in ids if i in admitted][:limit]
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id = ANY(%s)", (first,))
            found, _ = load_rows(await cur.fetchall(), _row_to_memory)
        return [found[i] for i in first if i in found], len(admitted)

    async def adjacent_turns(self, ids: list[str], *, reach: int = 1) -> dict[str, list[str]]:
        if not ids:
            return {}
        async with self._tx() as cur:
            await cur.execute(adjacent_turns_sql("m.id = ANY(%s)", reach), (ids,))
            return adjacency(await cur.fetchall())

    async def update(self, memory: Memory, *, reindex: bool, actor: str = "api") -> bool:
        row = _memory_row(memory)
        async with self._tx() as cur:
            await cur.execute("SELECT content FROM memories WHERE id = %s FOR UPDATE", (memory.id,))
            old = await cur.fetchone()
            if old is None:
                return False
            await cur.execute("UPDATE memories SET session_id=%s, agent_id=%s, type=%s, content=%s, content_hash=%s, "
                              "metadata=%s, updated_at=%s, expires_at=%s, dedup_key=%s, version=version+1 WHERE id=%s",
                              (*row[2:8], row[9], row[10], row[11], memory.id))
            found = cur.rowcount > 0
            if found and reindex:
                await cur.execute("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'upsert')", (memory.id,))
            if found:
                await cur.execute(HISTORY_INSERT, (memory.id, memory.user_id, "UPDATE", old[0], memory.content, actor,
                                                   memory.updated_at))
            return found

    async def update_fields(self, memory_id: str, changes: dict[str, Any], *, expected_version: int | None = None,
                            deduplicate: bool = True, actor: str = "api") -> tuple[Memory, Memory] | None:
        async with self._tx() as cur:
            # The row lock makes read-then-write one step: a concurrent update waits, then reads what this one wrote.
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id = %s FOR UPDATE", (memory_id,))
            found, unreadable = load_rows(await cur.fetchall(), _row_to_memory)
            if memory_id in unreadable:
                raise Conflict(f"Memory {memory_id} is quarantined: its stored record cannot be read back "
                               f"({unreadable[memory_id]}); see `mem0-service quarantine list`")
            current = found.get(memory_id)
            if current is None:
                return None
            if expected_version is not None and current.version != expected_version:
                raise PreconditionFailed(f"Memory {memory_id} is at version {current.version}, not "
                                         f"{expected_version}: read it again", field="If-Match")
            diff = changed_columns(current, changes)
            after = current.with_changes(**diff, updated_at=utcnow(), version=current.version + 1)
            columns = {k: _column_value(k, v) for k, v in diff.items()}
            if "content" in diff or "type" in diff:
                columns.update(content_hash=after.hash, dedup_key=dedup_key(after, deduplicate))
            columns.update(updated_at=after.updated_at, version=after.version)
            try:
                async with cur.connection.transaction():  # a savepoint: the duplicate check must not end the outer one
                    await cur.execute(f"UPDATE memories SET {', '.join(f'{k} = %s' for k in columns)} WHERE id = %s",
                                      [*columns.values(), memory_id])
            except psycopg.errors.UniqueViolation as exc:
                raise Conflict("Another memory in this scope already has this content", field="content") from exc
            if "content" in diff or "type" in diff:
                await cur.execute("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'upsert')", (memory_id,))
            await cur.execute(HISTORY_INSERT, (memory_id, current.user_id, "UPDATE", current.content, after.content,
                                               actor, after.updated_at))
            return current, after

    @staticmethod
    async def _after_delete(cur, gone: list[tuple[str, str, str]], actor: str, erase: bool) -> list[str]:
        """Outbox and history rows for deleted (id, user_id, content) triples, in the deleting transaction."""
        now = utcnow()
        await cur.executemany("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'delete')", [(g[0],) for g in gone])
        await cur.executemany(HISTORY_INSERT, [(i, u, "DELETE", None if erase else c, None, actor, now)
                                               for i, u, c in gone])
        ids = [g[0] for g in gone]
        if erase and ids:
            await erase_memories(cur, ids)
        return ids

    async def delete(self, ids: list[str], *, actor: str = "api", erase: bool = False,
                     expected_version: int | None = None) -> int:
        async with self._tx() as cur:
            if expected_version is None:
                await cur.execute("DELETE FROM memories WHERE id = ANY(%s) RETURNING id, user_id, content", (ids,))
            else:
                await cur.execute("DELETE FROM memories WHERE id = ANY(%s) AND version = %s "
                                  "RETURNING id, user_id, content", (ids, expected_version))
            gone = await cur.fetchall()
            if expected_version is not None and len(gone) < len(ids):
                await cur.execute("SELECT id, version FROM memories WHERE id = ANY(%s)", (ids,))
                for memory_id, version in await cur.fetchall():
                    raise PreconditionFailed(f"Memory {memory_id} is at version {version}, not {expected_version}: "
                                             "read it again", field="If-Match")
            return len(await self._after_delete(cur, gone, actor, erase))

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

    async def reserve_idempotent(self, key: str, fingerprint: str, *, lease_seconds: float) -> IdempotencyState:
        now = utcnow()
        async with self._tx() as cur:
            while True:
                await cur.execute("INSERT INTO idempotency_keys (key, status, body, created_at, fingerprint) "
                                  "VALUES (%s, 0, '', %s, %s) ON CONFLICT (key) DO NOTHING", (key, now, fingerprint))
                if cur.rowcount:
                    return IdempotencyState("reserved", fingerprint, reserved_at=now)
                await cur.execute("SELECT status, body, fingerprint, created_at FROM idempotency_keys WHERE key = %s "
                                  "FOR UPDATE", (key,))
                held = await cur.fetchone()
                if held is not None:
                    break
                # The request holding the key released it between the two statements: the key is free again.
            status, body, stored, reserved_at = held
            if status:
                return IdempotencyState("done", stored, status, body)
            if reserved_at < now - timedelta(seconds=lease_seconds):
                await cur.execute("UPDATE idempotency_keys SET created_at = %s, fingerprint = %s WHERE key = %s",
                                  (now, fingerprint, key))
                return IdempotencyState("reserved", fingerprint, reserved_at=now)
            return IdempotencyState("pending", stored)

    async def complete_idempotent(self, key: str, status: int, body: str,
                                  owners: Collection[IdempotentOwner] = (), *, reserved_at: datetime) -> None:
        async with self._tx() as cur:
            await store_answer(cur, key, reserved_at, status, body, owners)

    async def release_idempotent(self, key: str, *, reserved_at: datetime) -> None:
        async with self._tx() as cur:
            await cur.execute(f"DELETE FROM idempotency_keys WHERE {RESERVATION}", (key, reserved_at))

    async def expire_idempotency(self, before: datetime) -> int:
        expired = 0
        while True:
            async with self._tx() as cur:
                # The age is checked again on the row deleted: a reservation taken over meanwhile is young again.
                await cur.execute("DELETE FROM idempotency_keys WHERE created_at < %s AND key IN (SELECT key FROM "
                                  "idempotency_keys WHERE created_at < %s LIMIT %s) RETURNING key",
                                  (before, before, EXPIRY_BATCH))
                keys = [k for (k,) in await cur.fetchall()]
                if not keys:
                    return expired
                await cur.execute("DELETE FROM idempotency_owners WHERE key = ANY(%s)", (keys,))
            expired += len(keys)

    async def list(self, scope: Scope, *, limit: int, offset: int, newest_first: bool = True) -> tuple[list[Memory], int]:
        where, params = _where(scope)
        order = "DESC" if newest_first else "ASC"
        async with self._tx() as cur:
            await cur.execute(f"SELECT COUNT(*) FROM memories m WHERE {where}", params)
            total = (await single_row(cur))[0]
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE {where} "
                              f"ORDER BY m.created_at {order}, m.id {order} LIMIT %s OFFSET %s", [*params, limit, offset])
            found, _ = load_rows(await cur.fetchall(), _row_to_memory)
            return list(found.values()), total

    async def select(self, where: Filter, *, limit: int | None, offset: int = 0) -> tuple[builtins.list[Memory], int]:
        condition, params = _live_where(where)
        async with self._tx() as cur:
            await cur.execute(f"SELECT COUNT(*) FROM memories m WHERE {condition}", params)
            total = (await single_row(cur))[0]
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE {condition} "
                              "ORDER BY m.created_at DESC, m.id DESC LIMIT %s OFFSET %s", [*params, limit, offset])
            found, _ = load_rows(await cur.fetchall(), _row_to_memory)
            return list(found.values()), total

    async def list_users(self, prefix: str, *, limit: int, offset: int) -> tuple[builtins.list[UserSummary], int]:
        # In byte order (COLLATE "C", migration 005): under a language collation a range would not be a prefix,
        # and the order would differ from the embedded store's.
        where = ('m.user_id COLLATE "C" >= %s AND m.user_id COLLATE "C" < %s '
                 "AND (m.expires_at IS NULL OR m.expires_at > %s)")
        params = [prefix, prefix_upper_bound(prefix), utcnow()]
        async with self._tx() as cur:
            await cur.execute(f'SELECT COUNT(DISTINCT m.user_id COLLATE "C") FROM memories m WHERE {where}', params)
            total = (await single_row(cur))[0]
            await cur.execute(f'SELECT m.user_id COLLATE "C", COUNT(*), MAX(m.updated_at) FROM memories m WHERE {where} '
                              "GROUP BY 1 ORDER BY 1 LIMIT %s OFFSET %s", [*params, limit, offset])
            return [UserSummary(user_id, count, last) for user_id, count, last in await cur.fetchall()], total

    async def keyword_search(self, scope: Scope, query: str, *, limit: int) -> builtins.list[tuple[str, float]]:
        terms = keyword_terms(query)
        if not terms:
            return []
        where, params = _where(scope)
        sql, sql_params = postgres_keywords.bm25_query(where, params, terms, limit)
        async with self._tx() as cur:
            await cur.execute(sql, sql_params)
            rows = await cur.fetchall()
        return [(i, postgres_keywords.evidence(s)) for i, s in rows if s and s > 0]

    async def find_by_hash(self, scope: Scope, digest: str) -> Memory | None:
        where, params = _where(scope)
        async with self._tx() as cur:
            await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE {where} AND m.content_hash = %s",
                              [*params, digest])
            found, _ = load_rows(await cur.fetchall(), _row_to_memory)
        return next(iter(found.values()), None)

    async def quarantine(self, ops: builtins.list[IndexOp], cause: str) -> None:
        memory_id = ops[-1].memory_id
        async with self._tx() as cur:
            await cur.execute("INSERT INTO index_quarantine (memory_id, user_id, op, cause, quarantined_at) "
                              "SELECT %s, (SELECT user_id FROM memories WHERE id = %s), %s, %s, %s "
                              "ON CONFLICT (memory_id) DO UPDATE SET op = EXCLUDED.op, cause = EXCLUDED.cause, "
                              "quarantined_at = EXCLUDED.quarantined_at",
                              (memory_id, memory_id, ops[-1].op, cause[:1000], utcnow()))
            await cur.execute("DELETE FROM index_outbox WHERE seq = ANY(%s)", ([op.seq for op in ops],))

    async def quarantined(self, limit: int = 100) -> builtins.list[QuarantineEntry]:
        async with self._tx() as cur:
            await cur.execute("SELECT memory_id, user_id, op, cause, quarantined_at FROM index_quarantine "
                              "ORDER BY quarantined_at, memory_id LIMIT %s", (limit,))
            return [QuarantineEntry(*r) for r in await cur.fetchall()]

    async def count_quarantined(self) -> int:
        async with self._tx() as cur:
            await cur.execute("SELECT COUNT(*) FROM index_quarantine")
            return (await single_row(cur))[0]

    @staticmethod
    async def _quarantined_ids(cur, ids: builtins.list[str] | None) -> builtins.list[str]:
        await cur.execute("SELECT memory_id FROM index_quarantine WHERE %s::text[] IS NULL OR memory_id = ANY(%s) "
                          "ORDER BY memory_id FOR UPDATE", (ids, ids))
        return [r[0] for r in await cur.fetchall()]

    async def retry_quarantined(self, ids: builtins.list[str] | None) -> int:
        async with self._tx() as cur:
            chosen = await self._quarantined_ids(cur, ids)
            await cur.execute("INSERT INTO index_outbox (memory_id, op) SELECT memory_id, op FROM index_quarantine "
                              "WHERE memory_id = ANY(%s) ORDER BY quarantined_at", (chosen,))
            await cur.execute("DELETE FROM index_quarantine WHERE memory_id = ANY(%s)", (chosen,))
        return len(chosen)

    async def drop_quarantined(self, ids: builtins.list[str] | None, *, actor: str = "quarantine") -> int:
        async with self._tx() as cur:
            chosen = await self._quarantined_ids(cur, ids)
            await cur.execute("DELETE FROM memories WHERE id = ANY(%s) RETURNING id, user_id, content", (chosen,))
            deleted = set(await self._after_delete(cur, await cur.fetchall(), actor, False))
            # a memory already gone still needs its vector removed
            await cur.executemany("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'delete')",
                                  [(i,) for i in chosen if i not in deleted])
            await cur.execute("DELETE FROM index_quarantine WHERE memory_id = ANY(%s)", (chosen,))
        return len(chosen)

    async def pending_index_ops(self, limit: int) -> builtins.list[IndexOp]:
        async with self._tx() as cur:
            await cur.execute("SELECT seq, memory_id, op FROM index_outbox ORDER BY seq LIMIT %s", (limit,))
            return [IndexOp(seq=r[0], memory_id=r[1], op=r[2]) for r in await cur.fetchall()]

    async def ack_index_ops(self, seqs: builtins.list[int]) -> None:
        async with self._tx() as cur:
            await cur.execute("DELETE FROM index_outbox WHERE seq = ANY(%s)", (seqs,))

    async def count_pending_index_ops(self) -> int:
        async with self._tx() as cur:
            await cur.execute("SELECT COUNT(*) FROM index_outbox")
            return (await single_row(cur))[0]

    async def iter_all(self, batch_size: int = 500) -> AsyncIterator[builtins.list[Memory]]:
        after = ""
        while True:
            async with self._tx() as cur:
                await cur.execute(f"SELECT {COLUMNS} FROM memories m WHERE m.id > %s ORDER BY m.id LIMIT %s",
                                  (after, batch_size))
                rows = await cur.fetchall()
            if not rows:
                return
            found, unreadable = load_rows(rows, _row_to_memory)
            for memory_id, cause in unreadable.items():  # an export must not leave a memory out silently
                raise UnreadableRecord(memory_id, cause)
            yield list(found.values())
            after = rows[-1][0]

    async def count(self) -> int:
        async with self._tx() as cur:
            await cur.execute("SELECT COUNT(*) FROM memories")
            return (await single_row(cur))[0]

    async def enqueue_reindex_all(self) -> int:
        async with self._tx() as cur:
            await cur.execute("INSERT INTO index_outbox (memory_id, op) SELECT id, 'upsert' FROM memories")
            return cur.rowcount

    async def owner_groups(self, access: Access, now: datetime, tag_key: str) -> builtins.list[OwnerGroup]:
        where, params = _access_where(access)
        async with self._tx() as cur:
            await cur.execute("SELECT m.user_id, m.agent_id, m.session_id, CASE WHEN jsonb_typeof(m.metadata -> %s) = "
                              "'string' THEN m.metadata ->> %s END AS tag, COUNT(*), MIN(m.created_at), "
                              f"MAX(m.updated_at) FROM memories m WHERE {where} AND (m.expires_at IS NULL OR "
                              "m.expires_at > %s) GROUP BY m.user_id, m.agent_id, m.session_id, tag",
                              [tag_key, tag_key, *params, now])
            rows = await cur.fetchall()
        return [OwnerGroup(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    async def insert_key(self, key: ApiKey, digest: str, *, if_absent: bool = False) -> bool:
        async with self._tx() as cur:
            await cur.execute("INSERT INTO api_keys (id, key_hash, prefix, name, user_id, agent_id, access, created_at, "
                              "revoked_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                              f"{'ON CONFLICT DO NOTHING ' if if_absent else ''}RETURNING id",
                              (key.id, digest, key.prefix, key.name, key.user_id, key.agent_id, key.access,
                               key.created_at, key.revoked_at))
            return await cur.fetchone() is not None

    async def find_key(self, digest: str) -> ApiKey | None:
        async with self._tx() as cur:
            await cur.execute(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL",
                              (digest,))
            row = await cur.fetchone()
        return _row_to_key(row) if row else None

    async def list_keys(self, *, include_revoked: bool = False) -> builtins.list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        async with self._tx() as cur:
            await cur.execute(f"SELECT {KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at, id")
            rows = await cur.fetchall()
        return [_row_to_key(r) for r in rows]

    async def revoke_key(self, key_id: str, now: datetime) -> ApiKey | None:
        async with self._tx() as cur:
            await cur.execute(f"UPDATE api_keys SET revoked_at = COALESCE(revoked_at, %s) WHERE id = %s "
                              f"RETURNING {KEY_COLUMNS}", (now, key_id))
            row = await cur.fetchone()
        return _row_to_key(row) if row else None

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        from mem0_service.stores.snapshot import PostgresSnapshot

        view = PostgresSnapshot(self.url)
        try:
            yield view
        finally:
            view.close()

    @contextmanager
    def as_given(self) -> Iterator[AsGivenWriter]:
        from mem0_service.stores.loader import postgres_loader

        with postgres_loader(self.url) as writer:
            yield writer

    async def inspect(self) -> StoreInspection:
        parts = urlsplit(self.url)
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"
        try:
            conn = await psycopg.AsyncConnection.connect(self.url, connect_timeout=5, autocommit=True)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else type(exc).__name__
            raise StoreUnreachable(f"PostgreSQL at {where} is not reachable: {reason}") from None
        async with conn:
            cur = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            versions: set[int] = set()
            if (await cur.fetchone() or (False,))[0]:
                cur = await conn.execute("SELECT version FROM schema_migrations")
                versions = {r[0] for r in await cur.fetchall()}
            server = (await (await conn.execute("SHOW server_version")).fetchone() or ("?",))[0]
        return StoreInspection(where, exists=True, server=server, versions=frozenset(versions))
