"""The session message logs in PostgreSQL (mixed into PostgresRecordStore, on its pool)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from psycopg.types.json import Jsonb

from mem0_service.core.messages import LoggedMessage, LogPage, LogWindow, NewMessage
from mem0_service.stores.postgres_cursor import Transaction, single_row

MESSAGE_COLUMNS = "user_id, session_id, seq, agent_id, role, content, name, metadata, created_at, stored_at"
INSERT = f"INSERT INTO session_messages ({MESSAGE_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"


def _row_to_message(row: tuple) -> LoggedMessage:
    return LoggedMessage(user_id=row[0], session_id=row[1], seq=row[2], agent_id=row[3], role=row[4], content=row[5],
                         name=row[6], metadata=row[7] or {}, created_at=row[8], stored_at=row[9])


def _message_row(m: LoggedMessage) -> tuple:
    return (m.user_id, m.session_id, m.seq, m.agent_id, m.role, m.content, m.name, Jsonb(m.metadata), m.created_at,
            m.stored_at)


def _session_where(user_id: str, session_id: str, agent_id: str | None) -> tuple[str, list]:
    where, params = "user_id = %s AND session_id = %s", [user_id, session_id]
    if agent_id is not None:
        where, params = where + " AND agent_id = %s", [*params, agent_id]
    return where, params


class PostgresMessageLog:
    _tx: Transaction

    async def append_messages(self, user_id: str, session_id: str, agent_id: str | None,
                              messages: list[NewMessage]) -> list[LoggedMessage]:
        async with self._tx() as cur:
            # The upsert locks the counter's row until commit: a concurrent append to this session waits here and
            # then numbers its messages after these.
            await cur.execute(
                "INSERT INTO session_counters (user_id, session_id, last_seq) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id, session_id) DO UPDATE "
                "SET last_seq = session_counters.last_seq + excluded.last_seq RETURNING last_seq, now()",
                (user_id, session_id, len(messages)))
            last, now = await single_row(cur)
            logged = [LoggedMessage(user_id=user_id, session_id=session_id, seq=last - len(messages) + i + 1,
                                    agent_id=agent_id, role=m.role, content=m.content, name=m.name,
                                    metadata=m.metadata, created_at=m.created_at, stored_at=now)
                      for i, m in enumerate(messages)]
            await cur.executemany(INSERT, [_message_row(m) for m in logged])
            return logged

    async def read_messages(self, user_id: str, session_id: str, agent_id: str | None,
                            window: LogWindow) -> LogPage:
        where, params = _session_where(user_id, session_id, agent_id)
        if window.after is not None:
            page_sql, page_params = f"{where} AND seq > %s ORDER BY seq ASC LIMIT %s", [*params, window.after]
        elif window.before is not None:
            page_sql, page_params = f"{where} AND seq < %s ORDER BY seq DESC LIMIT %s", [*params, window.before]
        else:
            page_sql, page_params = f"{where} ORDER BY seq DESC LIMIT %s", list(params)
        async with self._tx() as cur:
            await cur.execute(f"SELECT {MESSAGE_COLUMNS} FROM session_messages WHERE {page_sql}",
                              [*page_params, window.limit + 1])
            rows = await cur.fetchall()
            await cur.execute(f"SELECT COUNT(*) FROM session_messages WHERE {where}", params)
            (total,) = await single_row(cur)
        page = [_row_to_message(r) for r in rows[:window.limit]]
        return LogPage(messages=sorted(page, key=lambda m: m.seq), total=total, has_more=len(rows) > window.limit)

    async def clear_messages(self, user_id: str, session_id: str | None = None, agent_id: str | None = None) -> int:
        where, params = "user_id = %s", [user_id]
        if session_id is not None:
            where, params = where + " AND session_id = %s", [*params, session_id]
        if agent_id is not None:
            where, params = where + " AND agent_id = %s", [*params, agent_id]
        async with self._tx() as cur:
            await cur.execute(f"DELETE FROM session_messages WHERE {where}", params)
            deleted = cur.rowcount
            if session_id is None and agent_id is None:  # erasure: not even the session ids stay
                await cur.execute("DELETE FROM session_counters WHERE user_id = %s", (user_id,))
            return deleted

    async def idle_message_logs(self, cutoff: datetime, *, limit: int = 1000) -> list[tuple[str, str]]:
        async with self._tx() as cur:
            await cur.execute("SELECT user_id, session_id FROM session_messages GROUP BY user_id, session_id "
                              "HAVING MAX(stored_at) < %s LIMIT %s", (cutoff, limit))
            return [(r[0], r[1]) for r in await cur.fetchall()]

    async def user_messages(self, user_id: str) -> list[LoggedMessage]:
        async with self._tx() as cur:
            await cur.execute(f"SELECT {MESSAGE_COLUMNS} FROM session_messages WHERE user_id = %s "
                              "ORDER BY session_id, seq", (user_id,))
            return [_row_to_message(r) for r in await cur.fetchall()]

    async def iter_messages(self, batch_size: int = 1000) -> AsyncIterator[list[LoggedMessage]]:
        after: tuple = ("", "", 0)
        while True:
            async with self._tx() as cur:
                await cur.execute(f"SELECT {MESSAGE_COLUMNS} FROM session_messages "
                                  "WHERE (user_id, session_id, seq) > (%s, %s, %s) "
                                  "ORDER BY user_id, session_id, seq LIMIT %s", (*after, batch_size))
                rows = await cur.fetchall()
            if not rows:
                return
            yield [_row_to_message(r) for r in rows]
            after = (rows[-1][0], rows[-1][1], rows[-1][2])
