"""GDPR erasure on PostgreSQL (mixed into PostgresRecordStore, on its pool): every copy of the erased content
outside the memories table, and the stored Idempotency-Key answers that would hand it back."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from mem0_service.core.ports import IdempotentOwner

# Deliveries keep who and what happened (event, ids, status) for the log; the contents go.
BLANK_DELIVERY = "content = NULL, previous_content = NULL, metadata = NULL, data = NULL"
HOLDS_CONTENT = ("(content IS NOT NULL OR previous_content IS NOT NULL OR metadata IS NOT NULL "
                 "OR data IS NOT NULL)")
AGENT = "(%s::text IS NULL OR agent_id = %s)"
# One request's reservation of an Idempotency-Key, still unanswered: (key, when it was reserved).
RESERVATION = "key = %s AND created_at = %s AND status = 0"


async def _drop_answers(cur: Any, keys: list[str]) -> None:
    if keys:
        await cur.execute("DELETE FROM idempotency_keys WHERE key = ANY(%s)", (keys,))
        await cur.execute("DELETE FROM idempotency_owners WHERE key = ANY(%s)", (keys,))


async def erase_memories(cur: Any, ids: list[str]) -> None:
    """In the transaction that deleted these memories: their contents leave the history (and, by the trigger of
    migration 009, the delivery log), their quarantined index work goes (the delete is in the outbox) and so do the
    stored answers that show them."""
    await cur.execute("UPDATE memory_history SET old_content = NULL, new_content = NULL WHERE memory_id = ANY(%s)",
                      (ids,))
    await cur.execute("DELETE FROM index_quarantine WHERE memory_id = ANY(%s)", (ids,))
    await cur.execute("SELECT DISTINCT key FROM idempotency_owners WHERE memory_id = ANY(%s)", (ids,))
    await _drop_answers(cur, [k for (k,) in await cur.fetchall()])


class PostgresErasure:
    _tx: Any  # PostgresRecordStore's transaction

    async def erase_owner(self, user_id: str, agent_id: str | None = None) -> None:
        owner = (user_id, agent_id, agent_id)
        async with self._tx() as cur:
            await cur.execute(f"DELETE FROM jobs WHERE user_id = %s AND {AGENT}", owner)
            await cur.execute(f"SELECT DISTINCT key FROM idempotency_owners WHERE user_id = %s AND {AGENT}", owner)
            await _drop_answers(cur, [k for (k,) in await cur.fetchall()])
            await cur.execute(f"UPDATE webhook_deliveries SET {BLANK_DELIVERY} WHERE user_id = %s AND {AGENT} "
                              f"AND {HOLDS_CONTENT}", owner)
            if agent_id is not None:
                return  # the history and the quarantine do not record the agent: only the erased memories' rows went
            # memories deleted earlier without erasure kept their last content in the history
            await cur.execute("UPDATE memory_history SET old_content = NULL, new_content = NULL WHERE user_id = %s "
                              "AND (old_content IS NOT NULL OR new_content IS NOT NULL)", (user_id,))
            await cur.execute("DELETE FROM index_quarantine q WHERE q.user_id = %s AND NOT EXISTS "
                              "(SELECT 1 FROM memories m WHERE m.id = q.memory_id) RETURNING q.memory_id", (user_id,))
            gone = [(i,) for (i,) in await cur.fetchall()]
            await cur.executemany("INSERT INTO index_outbox (memory_id, op) VALUES (%s, 'delete')", gone)


async def store_answer(cur: Any, key: str, reserved_at: datetime, status: int, body: str,
                       owners: Collection[IdempotentOwner]) -> None:
    """Keep a finished request's answer with the owners of what it shows; an answer showing a memory that is gone
    already (erased while the request finished) is dropped rather than kept. Only the request's own reservation,
    still unanswered, is touched: the one made at `reserved_at` (see sqlite_erasure.store_answer)."""
    mine = (key, reserved_at)
    shown = sorted({o.memory_id for o in owners if o.memory_id})
    if shown:
        await cur.execute("SELECT COUNT(*) FROM memories WHERE id = ANY(%s)", (shown,))
        if (await cur.fetchone())[0] < len(shown):
            await cur.execute(f"DELETE FROM idempotency_keys WHERE {RESERVATION}", mine)
            return
    await cur.execute(f"UPDATE idempotency_keys SET status = %s, body = %s WHERE {RESERVATION}", (status, body, *mine))
    if not cur.rowcount:
        return  # the reservation expired or was taken over while the request ran: there is no key left to answer for
    await cur.executemany("INSERT INTO idempotency_owners (key, user_id, agent_id, memory_id) VALUES (%s, %s, %s, %s) "
                          "ON CONFLICT DO NOTHING",
                          [(key, o.user_id, o.agent_id or "", o.memory_id or "") for o in owners])
