"""The session message logs in SQLite (mixed into SQLiteRecordStore, on its one connection)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from mem0_service.core.memory import utcnow
from mem0_service.core.messages import LoggedMessage, LogPage, LogWindow, NewMessage
from mem0_service.sqlite_worker import Runner
from mem0_service.stores.base import iso, parse_iso

MESSAGE_COLUMNS = "user_id, session_id, seq, agent_id, role, content, name, metadata, created_at, stored_at"


def _row_to_message(row: tuple) -> LoggedMessage:
    return LoggedMessage(user_id=row[0], session_id=row[1], seq=row[2], agent_id=row[3], role=row[4], content=row[5],
                         name=row[6], metadata=json.loads(row[7]), created_at=parse_iso(row[8]),
                         stored_at=parse_iso(row[9]))


def _message_row(m: LoggedMessage) -> tuple:
    return (m.user_id, m.session_id, m.seq, m.agent_id, m.role, m.content, m.name,
            json.dumps(m.metadata, ensure_ascii=False), iso(m.created_at), iso(m.stored_at))


def _session_where(user_id: str, session_id: str, agent_id: str | None) -> tuple[str, list]:
    where, params = "user_id = ? AND session_id = ?", [user_id, session_id]
    if agent_id is not None:
        where, params = where + " AND agent_id = ?", [*params, agent_id]
    return where, params


class SQLiteMessageLog:
    _run: Runner  # SQLiteRecordStore's transaction runner

    async def append_messages(self, user_id: str, session_id: str, agent_id: str | None,
                              messages: list[NewMessage]) -> list[LoggedMessage]:
        def work(c: sqlite3.Connection) -> list[LoggedMessage]:
            # A write as the first statement takes SQLite's write lock at once: no other process can number
            # messages of this session until this transaction ends.
            (last,) = c.execute(
                "INSERT INTO session_counters (user_id, session_id, last_seq) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, session_id) DO UPDATE SET last_seq = last_seq + excluded.last_seq "
                "RETURNING last_seq", (user_id, session_id, len(messages))).fetchone()
            now = utcnow()
            logged = [LoggedMessage(user_id=user_id, session_id=session_id, seq=last - len(messages) + i + 1,
                                    agent_id=agent_id, role=m.role, content=m.content, name=m.name,
                                    metadata=m.metadata, created_at=m.created_at, stored_at=now)
                      for i, m in enumerate(messages)]
            c.executemany(f"INSERT INTO session_messages ({MESSAGE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                          [_message_row(m) for m in logged])
            return logged
        return await self._run(work)

    async def read_messages(self, user_id: str, session_id: str, agent_id: str | None,
                            window: LogWindow) -> LogPage:
        where, params = _session_where(user_id, session_id, agent_id)
        if window.after is not None:
            page_sql = f"{where} AND seq > ? ORDER BY seq ASC LIMIT ?"
            page_params = [*params, window.after, window.limit + 1]
        else:
            bound = " AND seq < ?" if window.before is not None else ""
            page_sql = f"{where}{bound} ORDER BY seq DESC LIMIT ?"
            page_params = [*params, *([window.before] if window.before is not None else []), window.limit + 1]

        def work(c: sqlite3.Connection) -> LogPage:
            rows = c.execute(f"SELECT {MESSAGE_COLUMNS} FROM session_messages WHERE {page_sql}", page_params).fetchall()
            (total,) = c.execute(f"SELECT COUNT(*) FROM session_messages WHERE {where}", params).fetchone()
            page = [_row_to_message(r) for r in rows[:window.limit]]
            return LogPage(messages=sorted(page, key=lambda m: m.seq), total=total, has_more=len(rows) > window.limit)
        return await self._run(work)

    async def clear_messages(self, user_id: str, session_id: str | None = None, agent_id: str | None = None) -> int:
        where, params = "user_id = ?", [user_id]
        if session_id is not None:
            where, params = where + " AND session_id = ?", [*params, session_id]
        if agent_id is not None:
            where, params = where + " AND agent_id = ?", [*params, agent_id]

        def work(c: sqlite3.Connection) -> int:
            deleted = c.execute(f"DELETE FROM session_messages WHERE {where}", params).rowcount
            if session_id is None and agent_id is None:  # erasure: not even the session ids stay
                c.execute("DELETE FROM session_counters WHERE user_id = ?", (user_id,))
            return deleted
        return await self._run(work)

    async def idle_message_logs(self, cutoff: datetime, *, limit: int = 1000) -> list[tuple[str, str]]:
        return await self._run(lambda c: [(r[0], r[1]) for r in c.execute(
            "SELECT user_id, session_id FROM session_messages GROUP BY user_id, session_id "
            "HAVING MAX(stored_at) < ? LIMIT ?", (iso(cutoff), limit))])

    async def user_messages(self, user_id: str) -> list[LoggedMessage]:
        return await self._run(lambda c: [_row_to_message(r) for r in c.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM session_messages WHERE user_id = ? ORDER BY session_id, seq",
            (user_id,))])

    async def iter_messages(self, batch_size: int = 1000) -> AsyncIterator[list[LoggedMessage]]:
        def page(after: tuple) -> Callable[[sqlite3.Connection], list[tuple]]:
            return lambda c: c.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM session_messages WHERE (user_id, session_id, seq) > (?, ?, ?) "
                "ORDER BY user_id, session_id, seq LIMIT ?", (*after, batch_size)).fetchall()

        after: tuple = ("", "", 0)
        while True:
            rows = await self._run(page(after))
            if not rows:
                return
            yield [_row_to_message(r) for r in rows]
            after = (rows[-1][0], rows[-1][1], rows[-1][2])
