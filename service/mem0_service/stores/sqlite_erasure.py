"""GDPR erasure on SQLite (mixed into SQLiteRecordStore, on its one connection): every copy of the erased content
outside the memories table, and the stored Idempotency-Key answers that would hand it back."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime

from mem0_service.core.ports import IdempotentOwner
from mem0_service.sqlite_worker import Runner
from mem0_service.stores.base import iso

# Deliveries keep who and what happened (event, ids, status) for the log; the contents go.
BLANK_DELIVERY = "content = NULL, previous_content = NULL, metadata = NULL, data = NULL"
HOLDS_CONTENT = ("(content IS NOT NULL OR previous_content IS NOT NULL OR metadata IS NOT NULL "
                 "OR data IS NOT NULL)")
CHUNK = 500  # SQLite's limit on bound parameters is 999 in older builds
# One request's reservation of an Idempotency-Key, still unanswered: (key, when it was reserved, as iso() wrote it).
RESERVATION = "key = ? AND created_at = ? AND status = 0"


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[start:start + CHUNK] for start in range(0, len(items), CHUNK)]


def _drop_answers(c: sqlite3.Connection, keys: list[str]) -> int:
    dropped = 0
    for chunk in _chunks(keys):
        marks = ",".join("?" * len(chunk))
        dropped += c.execute(f"DELETE FROM idempotency_keys WHERE key IN ({marks})", chunk).rowcount
        c.execute(f"DELETE FROM idempotency_owners WHERE key IN ({marks})", chunk)
    return dropped


def erase_memories(c: sqlite3.Connection, ids: list[str]) -> None:
    """In the transaction that deleted these memories: their contents leave the history (and, by the trigger of
    migration 010, the delivery log), their quarantined index work goes (the delete is in the outbox) and so do the
    stored answers that show them."""
    c.executemany("UPDATE memory_history SET old_content = NULL, new_content = NULL WHERE memory_id = ?",
                  [(i,) for i in ids])
    c.executemany("DELETE FROM index_quarantine WHERE memory_id = ?", [(i,) for i in ids])
    keys: set[str] = set()
    for chunk in _chunks(ids):
        keys.update(k for (k,) in c.execute(
            f"SELECT key FROM idempotency_owners WHERE memory_id IN ({','.join('?' * len(chunk))})", chunk))
    _drop_answers(c, sorted(keys))
    _purge_terms(c)


def _purge_terms(c: sqlite3.Connection) -> None:
    """A deleted row's words stay in the full-text index's segments, only marked deleted, until the segments are
    merged: merge them all now (measured: 0.1-0.15 s for 100k memories, see bench/results/erasure.md)."""
    c.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")


class SQLiteErasure:
    _run: Runner  # SQLiteRecordStore's transaction runner

    async def erase_owner(self, user_id: str, agent_id: str | None = None) -> None:
        def work(c: sqlite3.Connection) -> None:
            agent = "(? IS NULL OR agent_id = ?)"
            c.execute(f"DELETE FROM jobs WHERE user_id = ? AND {agent}", (user_id, agent_id, agent_id))
            keys = [k for (k,) in c.execute(f"SELECT DISTINCT key FROM idempotency_owners WHERE user_id = ? AND {agent}",
                                            (user_id, agent_id, agent_id))]
            _drop_answers(c, keys)
            c.execute(f"UPDATE webhook_deliveries SET {BLANK_DELIVERY} WHERE user_id = ? AND {agent} AND {HOLDS_CONTENT}",
                      (user_id, agent_id, agent_id))
            if agent_id is not None:
                return  # the history and the quarantine do not record the agent: only the erased memories' rows went
            # memories deleted earlier without erasure kept their last content in the history
            if c.execute("UPDATE memory_history SET old_content = NULL, new_content = NULL WHERE user_id = ? "
                         "AND (old_content IS NOT NULL OR new_content IS NOT NULL)", (user_id,)).rowcount:
                _purge_terms(c)  # the words of those memories too
            gone = [i for (i,) in c.execute("SELECT q.memory_id FROM index_quarantine q WHERE q.user_id = ? AND "
                                            "NOT EXISTS (SELECT 1 FROM memories m WHERE m.id = q.memory_id)",
                                            (user_id,))]
            c.executemany("INSERT INTO index_outbox (memory_id, op) VALUES (?, 'delete')", [(i,) for i in gone])
            c.executemany("DELETE FROM index_quarantine WHERE memory_id = ?", [(i,) for i in gone])
        await self._run(work)


def store_answer(c: sqlite3.Connection, key: str, reserved_at: datetime, status: int, body: str,
                 owners: Collection[IdempotentOwner]) -> None:
    """Keep a finished request's answer with the owners of what it shows; an answer showing a memory that is gone
    already (erased while the request finished) is dropped rather than kept.

    Only the request's own reservation, still unanswered, is touched: the one made at `reserved_at`. A slow
    request's reservation may have expired (or been taken over after its lease) and the key been reserved again by
    a later request, which it must neither answer for nor drop, nor give its owners."""
    mine = (key, iso(reserved_at))
    shown = sorted({o.memory_id for o in owners if o.memory_id})
    present = sum(c.execute(f"SELECT COUNT(*) FROM memories WHERE id IN ({','.join('?' * len(chunk))})",
                            chunk).fetchone()[0] for chunk in _chunks(shown))
    if present < len(shown):
        c.execute(f"DELETE FROM idempotency_keys WHERE {RESERVATION}", mine)
        return
    if not c.execute(f"UPDATE idempotency_keys SET status = ?, body = ? WHERE {RESERVATION}",
                     (status, body, *mine)).rowcount:
        return  # the reservation expired or was taken over while the request ran: there is no key left to answer for
    c.executemany("INSERT INTO idempotency_owners (key, user_id, agent_id, memory_id) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT DO NOTHING",
                  [(key, o.user_id, o.agent_id or "", o.memory_id or "") for o in owners])
