"""The record stores' as-given writers: restored and imported records written as given, all of them in one
transaction of the record store's database.

Memories, their history, the scoped keys, the message logs and the webhook subscriptions live in one database, so
one transaction holds a whole restore: when any write fails, none is kept. Each memory written also queues its index
work in the outbox (as every write of the service does), and the vectors follow once the transaction has
committed."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path

from mem0_service.core.memory import HistoryEvent, Memory
from mem0_service.core.messages import LoggedMessage
from mem0_service.core.ports import AsGivenWriter, LoadError, SnapshotUnreadable, dedup_key
from mem0_service.keys.model import ApiKey
from mem0_service.ops.validation import parse_timestamp, utc_text
from mem0_service.stores.snapshot import COLUMNS, MESSAGE_COLUMNS, WEBHOOK_COLUMNS, _memory
from mem0_service.webhooks.store import Webhook

MEMORY_INSERT = ("INSERT INTO memories (id, user_id, session_id, agent_id, type, content, content_hash, metadata, "
                 "created_at, updated_at, expires_at, dedup_key) VALUES ({marks})")
# Every field, the owner and creation time included: the stored memory becomes exactly the given one (a new
# version, so an ETag taken before no longer matches).
MEMORY_UPDATE = ("UPDATE memories SET user_id={m}, session_id={m}, agent_id={m}, type={m}, content={m}, "
                 "content_hash={m}, metadata={m}, created_at={m}, updated_at={m}, expires_at={m}, dedup_key={m}, "
                 "version=version+1 WHERE id={m}")
HISTORY_INSERT = ("INSERT INTO memory_history (memory_id, user_id, event, old_content, new_content, actor, created_at) "
                  "VALUES ({marks})")
KEY_COLUMNS = "id, key_hash, prefix, name, user_id, agent_id, access, created_at, revoked_at"
CHUNK = 500


class Loader(AsGivenWriter):
    """One open transaction; `as_given` commits it when the load completes and rolls it back otherwise."""

    mark: str

    @abstractmethod
    def _execute(self, sql: str, params: tuple | list = ()) -> list[tuple]: ...

    @abstractmethod
    def _execute_many(self, sql: str, rows: list[tuple]) -> None: ...

    @abstractmethod
    def _stamp(self, moment):
        """A timestamp as this database's driver takes it."""

    @abstractmethod
    def _json(self, value): ...

    @abstractmethod
    def _decode_stamp(self, value): ...

    def _in(self, ids: list[str]) -> tuple[str, list]:
        return f"({','.join([self.mark] * len(ids))})", list(ids)

    def existing(self, ids: list[str]) -> dict[str, Memory | None]:
        """The stored version of each of these memories that exists here (None where it cannot be read)."""
        found: dict[str, Memory | None] = {}
        for start in range(0, len(ids), CHUNK):
            where, params = self._in(ids[start:start + CHUNK])
            rows = self._execute(f"SELECT {COLUMNS} FROM memories WHERE id IN {where}", params)
            for row in rows:
                try:
                    found[row[0]] = _memory(row, self._decode_stamp)
                except SnapshotUnreadable:
                    found[row[0]] = None  # unreadable here (written by an older version): the load replaces it
        return found

    def with_history(self, ids: list[str]) -> set[str]:
        """Of these memories, those with any history here."""
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            where, params = self._in(ids[start:start + CHUNK])
            found.update(r[0] for r in self._execute(
                f"SELECT DISTINCT memory_id FROM memory_history WHERE memory_id IN {where}", params))
        return found

    def insert(self, memories: list[Memory]) -> None:
        if not memories:
            return
        # The same de-duplication key the store gives every write, so a restored memory is a duplicate like any other.
        self._execute_many(MEMORY_INSERT.format(marks=",".join([self.mark] * 12)), [
            (m.id, m.user_id, m.session_id, m.agent_id, m.type.value, m.content, m.hash, self._json(m.metadata),
             self._stamp(m.created_at), self._stamp(m.updated_at), self._stamp(m.expires_at) if m.expires_at else None,
             dedup_key(m, True))
            for m in memories])
        self._queue_upserts([m.id for m in memories])

    def update(self, memory: Memory) -> None:
        m = memory
        self._execute(MEMORY_UPDATE.format(m=self.mark), (
            m.user_id, m.session_id, m.agent_id, m.type.value, m.content, m.hash, self._json(m.metadata),
            self._stamp(m.created_at), self._stamp(m.updated_at), self._stamp(m.expires_at) if m.expires_at else None,
            dedup_key(m, True), m.id))
        self._queue_upserts([m.id])

    def _queue_upserts(self, ids: list[str]) -> None:
        self._execute_many(f"INSERT INTO index_outbox (memory_id, op) VALUES ({self.mark}, 'upsert')",
                           [(i,) for i in ids])

    def add_history(self, events: list[tuple[str, HistoryEvent]]) -> None:
        if events:
            self._execute_many(HISTORY_INSERT.format(marks=",".join([self.mark] * 7)), [
                (e.memory_id, user_id, e.event, e.old_content, e.new_content, e.actor, self._stamp(e.created_at))
                for user_id, e in events])

    def add_messages(self, messages: list[LoggedMessage]) -> int:
        """Put logged messages back under their own numbers (a number taken here keeps its message) and move each
        session's counter past them, so later appends follow; returns how many were added."""
        added = 0
        for m in messages:
            added += len(self._execute(
                f"INSERT INTO session_messages ({MESSAGE_COLUMNS}) VALUES ({','.join([self.mark] * 10)}) "
                "ON CONFLICT DO NOTHING RETURNING seq",
                (m.user_id, m.session_id, m.seq, m.agent_id, m.role, m.content, m.name, self._json(m.metadata),
                 self._stamp(m.created_at), self._stamp(m.stored_at))))
        last: dict[tuple[str, str], int] = {}
        for m in messages:
            last[(m.user_id, m.session_id)] = max(m.seq, last.get((m.user_id, m.session_id), 0))
        self._execute_many(
            f"INSERT INTO session_counters (user_id, session_id, last_seq) VALUES ({self.mark}, {self.mark}, "
            f"{self.mark}) ON CONFLICT (user_id, session_id) DO UPDATE SET last_seq = CASE WHEN "
            "session_counters.last_seq < excluded.last_seq THEN excluded.last_seq ELSE session_counters.last_seq END",
            [(u, s, seq) for (u, s), seq in last.items()])
        return added

    def add_key(self, key: ApiKey, digest: str) -> bool:
        """Store the key unless one with its id or digest exists; True if stored."""
        clash = self._execute(f"SELECT 1 FROM api_keys WHERE id = {self.mark} OR key_hash = {self.mark}",
                              (key.id, digest))
        if clash:
            return False
        self._execute(f"INSERT INTO api_keys ({KEY_COLUMNS}) VALUES ({','.join([self.mark] * 9)})", (
            key.id, digest, key.prefix, key.name, key.user_id, key.agent_id, key.access, self._stamp(key.created_at),
            self._stamp(key.revoked_at) if key.revoked_at else None))
        return True

    def add_webhook(self, hook: Webhook) -> bool:
        """Store the subscription unless one with its id exists; True if stored. It starts with no failures, no
        retry pending and an empty delivery queue."""
        if self._execute(f"SELECT 1 FROM webhooks WHERE id = {self.mark}", (hook.id,)):
            return False
        marks = ",".join([self.mark] * len(WEBHOOK_COLUMNS.split(",")))
        self._execute(f"INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ({marks})", (
            hook.id, hook.url, hook.secret, hook.user_id, hook.agent_id, self._json(hook.events), hook.description,
            hook.created_by, self._stamp(hook.created_at), hook.enabled, hook.disabled_reason))
        return True


class SQLiteLoader(Loader):
    mark = "?"

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def _execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        return self._conn.execute(sql, params).fetchall()

    def _execute_many(self, sql: str, rows: list[tuple]) -> None:
        self._conn.executemany(sql, rows)

    def _stamp(self, moment):
        return utc_text(moment)

    def _json(self, value):
        return json.dumps(value, ensure_ascii=False)

    def _decode_stamp(self, value):
        return parse_timestamp(value, "stored timestamp")


class PostgresLoader(Loader):
    mark = "%s"

    def __init__(self, conn):
        self._conn = conn

    def _execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        cur = self._conn.execute(sql, params)
        return cur.fetchall() if cur.description else []

    def _execute_many(self, sql: str, rows: list[tuple]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(sql, rows)

    def _stamp(self, moment):
        return moment

    def _json(self, value):
        from psycopg.types.json import Jsonb

        return Jsonb(value)

    def _decode_stamp(self, value):
        return value


@contextlib.contextmanager
def sqlite_loader(path: Path) -> Iterator[Loader]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")  # a running service's writes finish first
        conn.execute("PRAGMA synchronous=FULL")  # as the service's own connection: a committed restore survives
        conn.execute("BEGIN IMMEDIATE")  # the write lock from the start: no other writer slips in half-way
        try:
            yield SQLiteLoader(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise LoadError(f"the record store refused the write ({exc}); nothing was written") from None
    finally:
        conn.close()


@contextlib.contextmanager
def postgres_loader(url: str) -> Iterator[Loader]:
    import psycopg

    try:
        # UTC: psycopg gives back timestamps in the session's zone, where year 1 or 9999 may not exist
        conn = psycopg.connect(url, connect_timeout=5, options="-c timezone=UTC")
    except psycopg.Error as exc:
        raise LoadError(f"cannot connect to PostgreSQL at DATABASE_URL: {str(exc).strip()}") from None
    try:
        with conn.transaction():
            yield PostgresLoader(conn)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoadError(f"the record store refused the write ({message}); nothing was written") from None
    finally:
        conn.close()
