"""Snapshot readers of the record stores: one consistent view, streamed in id order, on a connection of its own.

SQLite in WAL mode and PostgreSQL at REPEATABLE READ both give a read transaction a frozen view while writers
carry on, so a backup taken under load holds every memory exactly as one committed write left it."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from mem0_service.core.memory import HistoryEvent, Memory, MemoryType
from mem0_service.core.messages import LoggedMessage
from mem0_service.core.ports import Snapshot, SnapshotUnreadable
from mem0_service.errors import ConfigError
from mem0_service.keys.model import ApiKey
from mem0_service.stores.base import iso, parse_iso
from mem0_service.webhooks.store import Webhook

COLUMNS = "id, user_id, session_id, agent_id, type, content, metadata, created_at, updated_at, expires_at"
HISTORY_COLUMNS = "user_id, memory_id, event, old_content, new_content, actor, created_at, seq"
KEY_COLUMNS = "id, prefix, name, user_id, agent_id, access, created_at, revoked_at, key_hash"
MESSAGE_COLUMNS = "user_id, session_id, seq, agent_id, role, content, name, metadata, created_at, stored_at"
# A subscription as a restore needs it: its delivery state (failures in a row, next retry, lease) stays out.
WEBHOOK_COLUMNS = "id, url, secret, user_id, agent_id, events, description, created_by, created_at, enabled, disabled_reason"


def _readable(what: str, position: int):
    """A row decoder that names the row it could not read instead of failing with a traceback."""
    def wrap(decode):
        def run(row: tuple, parse):
            try:
                return decode(row, parse)
            except (ValueError, TypeError, KeyError) as exc:
                raise SnapshotUnreadable(f"{what} {row[position]!r} cannot be read from the record store ({exc})") from None
        return run
    return wrap


@_readable("a history event of memory", 1)
def _history(row: tuple, parse) -> tuple[str, HistoryEvent]:
    return row[0], HistoryEvent(row[1], row[2], row[3], row[4], row[5], parse(row[6]))


@_readable("scoped key", 0)
def _key(row: tuple, parse) -> tuple[ApiKey, str]:
    return ApiKey(id=row[0], prefix=row[1], name=row[2], user_id=row[3], agent_id=row[4], access=row[5],
                  created_at=parse(row[6]), revoked_at=parse(row[7]) if row[7] else None), row[8]


@_readable("a logged message of session", 1)
def _message(row: tuple, parse) -> LoggedMessage:
    metadata = row[7]
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return LoggedMessage(user_id=row[0], session_id=row[1], seq=row[2], agent_id=row[3], role=row[4], content=row[5],
                         name=row[6], metadata=metadata or {}, created_at=parse(row[8]), stored_at=parse(row[9]))


@_readable("webhook", 0)
def _webhook(row: tuple, parse) -> Webhook:
    events = row[5]
    if isinstance(events, str):
        events = json.loads(events)
    return Webhook(id=row[0], url=row[1], secret=row[2], user_id=row[3], agent_id=row[4], events=list(events),
                   description=row[6], created_by=row[7], created_at=parse(row[8]), enabled=bool(row[9]),
                   disabled_reason=row[10], consecutive_failures=0, next_attempt_at=None)


@_readable("memory", 0)
def _memory(row: tuple, parse) -> Memory:
    metadata = row[6]
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return Memory(id=row[0], user_id=row[1], session_id=row[2], agent_id=row[3], type=MemoryType(row[4]),
                  content=row[5], metadata=metadata or {}, created_at=parse(row[7]), updated_at=parse(row[8]),
                  expires_at=parse(row[9]) if row[9] else None)


class SQLiteSnapshot(Snapshot):
    backend = "sqlite"

    def __init__(self, path: Path):
        if not path.exists():
            raise ConfigError(f"No SQLite record store at {path} (is MEM0_DATA_DIR / DATABASE_URL right?)")
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._live = sqlite3.connect(path, isolation_level=None)
        self._live.execute("PRAGMA busy_timeout=10000")
        self._conn.execute("BEGIN")
        self._conn.execute("SELECT COUNT(*) FROM memories").fetchone()  # the read snapshot starts here

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("COMMIT")
        self._conn.close()
        self._live.close()

    def count(self) -> int:
        # COUNT(*) always returns one row
        return cast("tuple[int]", self._conn.execute("SELECT COUNT(*) FROM memories").fetchone())[0]

    def pending_ids(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT DISTINCT memory_id FROM index_outbox")}

    def batches(self, batch_size: int = 1000, *, user_id: str | None = None) -> Iterator[list[Memory]]:
        after = ""
        extra, params = (" AND user_id = ?", (user_id,)) if user_id is not None else ("", ())
        while True:
            rows = self._conn.execute(f"SELECT {COLUMNS} FROM memories WHERE id > ?{extra} ORDER BY id LIMIT ?",
                                      (after, *params, batch_size)).fetchall()
            if not rows:
                return
            yield [_memory(r, parse_iso) for r in rows]
            after = rows[-1][0]

    def history_batches(self, batch_size: int = 1000) -> Iterator[list[tuple[str, HistoryEvent]]]:
        after: tuple[str, int] = ("", 0)
        while True:
            rows = self._conn.execute(f"SELECT {HISTORY_COLUMNS} FROM memory_history WHERE (memory_id, seq) > (?, ?) "
                                      "ORDER BY memory_id, seq LIMIT ?", (*after, batch_size)).fetchall()
            if not rows:
                return
            yield [_history(r, parse_iso) for r in rows]
            after = (rows[-1][1], rows[-1][7])

    def message_batches(self, batch_size: int = 1000) -> Iterator[list[LoggedMessage]]:
        after: tuple[str, str, int] = ("", "", 0)
        while True:
            rows = self._conn.execute(f"SELECT {MESSAGE_COLUMNS} FROM session_messages "
                                      "WHERE (user_id, session_id, seq) > (?, ?, ?) "
                                      "ORDER BY user_id, session_id, seq LIMIT ?", (*after, batch_size)).fetchall()
            if not rows:
                return
            yield [_message(r, parse_iso) for r in rows]
            after = (rows[-1][0], rows[-1][1], rows[-1][2])

    def scoped_keys(self) -> list[tuple[ApiKey, str]]:
        return [_key(r, parse_iso) for r in self._conn.execute(f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id")]

    def webhooks(self) -> list[Webhook]:
        return [_webhook(r, parse_iso) for r in self._conn.execute(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id")]

    def ids_older_than(self, cutoff: datetime, types: tuple[str, ...], user_id: str | None) -> list[str]:
        sql, params = "SELECT id FROM memories WHERE created_at < ?", [iso(cutoff)]
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            params += list(types)
        if user_id:
            sql += " AND user_id = ?"
            params.append(user_id)
        return [r[0] for r in self._conn.execute(sql + " ORDER BY id", params)]

    def live_updated_at(self, ids: list[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self._live.execute(f"SELECT id, updated_at FROM memories WHERE id IN ({','.join('?' * len(chunk))})",
                                      chunk)
            found.update((i, parse_iso(u)) for i, u in rows)
        return found


class PostgresSnapshot(Snapshot):
    backend = "postgres"

    def __init__(self, url: str):
        import psycopg

        try:
            # UTC: psycopg gives back timestamps in the session's zone, where year 1 or 9999 may not exist
            self._conn = psycopg.connect(url, connect_timeout=5, options="-c timezone=UTC")
            self._live = psycopg.connect(url, connect_timeout=5, autocommit=True, options="-c timezone=UTC")
        except psycopg.OperationalError as exc:
            raise ConfigError(f"Cannot connect to PostgreSQL at DATABASE_URL: {str(exc).strip()}") from None
        self._conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self._conn.read_only = True
        self._conn.execute("SELECT 1 FROM memories LIMIT 1")  # the snapshot is taken by the first query
        self._cursors = 0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.rollback()
        self._conn.close()
        self._live.close()

    def count(self) -> int:
        # COUNT(*) always returns one row
        return cast("tuple[int]", self._conn.execute("SELECT COUNT(*) FROM memories").fetchone())[0]

    def pending_ids(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT DISTINCT memory_id FROM index_outbox")}

    def batches(self, batch_size: int = 1000, *, user_id: str | None = None) -> Iterator[list[Memory]]:
        where, params = ("WHERE user_id = %s", (user_id,)) if user_id is not None else ("", ())
        for rows in self._stream(f"SELECT {COLUMNS} FROM memories {where} ORDER BY id", params, batch_size):
            yield [_memory(r, lambda v: v) for r in rows]

    def _stream(self, sql: str, params: tuple, batch_size: int) -> Iterator[list[tuple]]:
        import psycopg

        self._cursors += 1
        # A server-side cursor streams millions of rows without holding them in memory.
        with self._conn.cursor(name=f"snapshot_{self._cursors}") as cur:
            cur.itersize = batch_size
            cur.execute(sql, params or None)
            while True:
                try:
                    rows = cur.fetchmany(batch_size)
                except psycopg.DataError as exc:  # e.g. a timestamp beyond what psycopg can load
                    raise SnapshotUnreadable(f"a stored value cannot be read from the record store ({exc})") from None
                if not rows:
                    return
                yield rows

    def history_batches(self, batch_size: int = 1000) -> Iterator[list[tuple[str, HistoryEvent]]]:
        for rows in self._stream(f"SELECT {HISTORY_COLUMNS} FROM memory_history ORDER BY memory_id, seq", (),
                                 batch_size):
            yield [_history(r, lambda v: v) for r in rows]

    def message_batches(self, batch_size: int = 1000) -> Iterator[list[LoggedMessage]]:
        for rows in self._stream(f"SELECT {MESSAGE_COLUMNS} FROM session_messages ORDER BY user_id, session_id, seq",
                                 (), batch_size):
            yield [_message(r, lambda v: v) for r in rows]

    def scoped_keys(self) -> list[tuple[ApiKey, str]]:
        return [_key(r, lambda v: v) for r in self._conn.execute(f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id")]

    def webhooks(self) -> list[Webhook]:
        return [_webhook(r, lambda v: v)
                for r in self._conn.execute(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id")]

    def ids_older_than(self, cutoff: datetime, types: tuple[str, ...], user_id: str | None) -> list[str]:
        sql = "SELECT id FROM memories WHERE created_at < %s"
        params: list[Any] = [cutoff]
        if types:
            sql += " AND type = ANY(%s)"
            params.append(list(types))
        if user_id:
            sql += " AND user_id = %s"
            params.append(user_id)
        return [r[0] for r in self._conn.execute(sql + " ORDER BY id", params)]

    def live_updated_at(self, ids: list[str]) -> dict[str, datetime]:
        rows = self._live.execute("SELECT id, updated_at FROM memories WHERE id = ANY(%s)", (ids,)).fetchall()
        return {i: u for i, u in rows}
