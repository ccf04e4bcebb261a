"""Webhooks and their deliveries, in the record store's database, reached through the record store's connection.

The SQL is written once with `?` placeholders; each dialect says how it stores times, JSON and list membership."""

from __future__ import annotations

import builtins
import json
import secrets
import sqlite3
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from mem0_service.core.access import Access
from mem0_service.core.memory import utcnow
from mem0_service.stores.base import iso, parse_iso
from mem0_service.webhooks.events import WebhookEvent

if TYPE_CHECKING:
    from mem0_service.core.ports import RecordStore
    from mem0_service.stores.postgres import PostgresRecordStore
    from mem0_service.stores.sqlite import SQLiteRecordStore

HOOK_FIELDS = ("id, url, user_id, agent_id, events, description, created_by, created_at, enabled, disabled_reason, "
               "consecutive_failures, next_attempt_at, secret")
DELIVERY_FIELDS = ("seq, webhook_id, event, memory_id, user_id, agent_id, session_id, memory_type, content, "
                   "previous_content, metadata, data, occurred_at, status, attempts, last_attempt_at, response_status, "
                   "last_error, delivered_at")


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    user_id: str | None
    agent_id: str | None
    events: list[str]
    description: str | None
    created_by: str
    created_at: datetime
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    next_attempt_at: datetime | None
    secret: str

    def within(self, access: Access) -> bool:
        """Whether a caller with `access` reaches everything this webhook announces (and may see or remove it)."""
        return ((access.user_id is None or self.user_id == access.user_id)
                and (access.agent_id is None or self.agent_id == access.agent_id))


@dataclass(frozen=True)
class Delivery:
    seq: int
    webhook_id: str
    event: str
    memory_id: str | None
    user_id: str | None
    agent_id: str | None
    session_id: str | None
    memory_type: str | None
    content: str | None
    previous_content: str | None
    metadata: dict[str, Any] | None
    data: dict[str, Any] | None
    occurred_at: datetime
    status: str
    attempts: int
    last_attempt_at: datetime | None
    response_status: int | None
    last_error: str | None
    delivered_at: datetime | None

    @property
    def id(self) -> str:
        return f"whd_{self.seq}"


def new_webhook_id() -> str:
    return "wh_" + secrets.token_hex(8)


class WebhookStore(ABC):
    """Create, list and remove webhooks; queue, lease and settle their deliveries."""

    contains: str  # SQL: the JSON array column `w.events` holds the value of the placeholder

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def _execute(self, sql: str, params: tuple = (), *, fetch: str = "none") -> Any:
        """Run one statement in its own transaction; fetch "none", "one", "all" or "count" (rows changed)."""

    @abstractmethod
    def _time(self, value: datetime | None) -> Any: ...

    @abstractmethod
    def _read_time(self, value: Any) -> datetime | None: ...

    @abstractmethod
    def _json(self, value: Any) -> Any: ...

    @abstractmethod
    def _read_json(self, value: Any) -> Any: ...

    # created_at and occurred_at are NOT NULL columns: their casts below drop only the None _read_time allows
    def _hook(self, row: tuple) -> Webhook:
        return Webhook(id=row[0], url=row[1], user_id=row[2], agent_id=row[3], events=list(self._read_json(row[4])),
                       description=row[5], created_by=row[6], created_at=cast(datetime, self._read_time(row[7])),
                       enabled=bool(row[8]), disabled_reason=row[9], consecutive_failures=row[10],
                       next_attempt_at=self._read_time(row[11]), secret=row[12])

    def _delivery(self, row: tuple) -> Delivery:
        return Delivery(seq=row[0], webhook_id=row[1], event=row[2], memory_id=row[3], user_id=row[4], agent_id=row[5],
                        session_id=row[6], memory_type=row[7], content=row[8], previous_content=row[9],
                        metadata=self._read_json(row[10]), data=self._read_json(row[11]),
                        occurred_at=cast(datetime, self._read_time(row[12])), status=row[13], attempts=row[14],
                        last_attempt_at=self._read_time(row[15]), response_status=row[16], last_error=row[17],
                        delivered_at=self._read_time(row[18]))

    # -- webhooks -----------------------------------------------------------------------------------------

    async def create(self, *, url: str, secret: str, user_id: str | None, agent_id: str | None, events: list[str],
                     description: str | None, created_by: str) -> Webhook:
        hook = Webhook(id=new_webhook_id(), url=url, user_id=user_id, agent_id=agent_id, events=events,
                       description=description, created_by=created_by, created_at=utcnow(), enabled=True,
                       disabled_reason=None, consecutive_failures=0, next_attempt_at=None, secret=secret)
        await self._execute(
            "INSERT INTO webhooks (id, url, secret, user_id, agent_id, events, description, created_by, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?)", (hook.id, url, secret, user_id, agent_id, self._json(events), description,
                                           created_by, self._time(hook.created_at)))
        return hook

    async def get(self, webhook_id: str) -> Webhook | None:
        row = await self._execute(f"SELECT {HOOK_FIELDS} FROM webhooks WHERE id = ?", (webhook_id,), fetch="one")
        return self._hook(row) if row else None

    async def list(self, access: Access) -> list[Webhook]:
        rows = await self._execute(f"SELECT {HOOK_FIELDS} FROM webhooks ORDER BY created_at, id", fetch="all")
        return [h for h in map(self._hook, rows) if h.within(access)]

    async def delete(self, webhook_id: str) -> bool:
        removed = await self._execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,), fetch="count")
        await self._execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (webhook_id,))
        return removed > 0

    # -- events and deliveries ----------------------------------------------------------------------------

    async def publish(self, event: WebhookEvent) -> int:
        """Queue `event` for every enabled webhook that subscribes to it and may see its owner; how many."""
        return await self._execute(
            "INSERT INTO webhook_deliveries (webhook_id, event, memory_id, user_id, agent_id, session_id, data) "
            "SELECT w.id, ?, ?, ?, ?, ?, ? FROM webhooks w WHERE w.enabled "
            "AND (w.user_id IS NULL OR w.user_id = ?) AND (w.agent_id IS NULL OR w.agent_id = ?) "
            f"AND {self.contains}",
            (event.kind, event.memory_id, event.user_id, event.agent_id, event.session_id, self._json(event.data),
             event.user_id, event.agent_id, event.kind), fetch="count")

    async def deliveries(self, webhook_id: str, *, limit: int, offset: int,
                         status: str | None = None) -> tuple[builtins.list[Delivery], int]:
        where, params = "webhook_id = ?", [webhook_id]
        if status is not None:
            where += " AND status = ?"
            params.append(status)
        rows = await self._execute(f"SELECT {DELIVERY_FIELDS} FROM webhook_deliveries WHERE {where} "
                                   "ORDER BY seq DESC LIMIT ? OFFSET ?", (*params, limit, offset), fetch="all")
        total = await self._execute(f"SELECT COUNT(*) FROM webhook_deliveries WHERE {where}", tuple(params), fetch="one")
        return [self._delivery(r) for r in rows], total[0]

    async def due(self, now: datetime, *, lease_seconds: float, limit: int = 20) -> builtins.list[Webhook]:
        """Enabled webhooks with deliveries waiting whose retry time has come, each leased to the caller so that
        another process does not deliver the same queue at the same time."""
        # a webhook made with a scoped key reads through that key: once it is revoked, nothing more is sent
        await self._execute(
            "UPDATE webhooks SET enabled = FALSE, disabled_reason = 'the API key that created it was revoked' "
            "WHERE enabled AND created_by IN (SELECT id FROM api_keys WHERE revoked_at IS NOT NULL)")
        await self._execute("UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending' AND webhook_id IN "
                            "(SELECT id FROM webhooks WHERE NOT enabled)")
        rows = await self._execute(
            f"SELECT {HOOK_FIELDS} FROM webhooks w WHERE w.enabled "
            "AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= ?) AND (w.lease_until IS NULL OR w.lease_until < ?) "
            "AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending') "
            "ORDER BY w.next_attempt_at, w.id LIMIT ?", (self._time(now), self._time(now), limit), fetch="all")
        leased = []
        until = self._time(datetime.fromtimestamp(now.timestamp() + lease_seconds, now.tzinfo))
        for hook in map(self._hook, rows):
            taken = await self._execute("UPDATE webhooks SET lease_until = ? WHERE id = ? "
                                        "AND (lease_until IS NULL OR lease_until < ?)",
                                        (until, hook.id, self._time(now)), fetch="count")
            if taken:
                leased.append(hook)
        return leased

    async def extend(self, webhook_id: str, until: datetime) -> None:
        """Keep the lease while the queue is being sent, one delivery at a time."""
        await self._execute("UPDATE webhooks SET lease_until = ? WHERE id = ?", (self._time(until), webhook_id))

    async def release(self, webhook_id: str) -> None:
        await self._execute("UPDATE webhooks SET lease_until = NULL WHERE id = ?", (webhook_id,))

    async def pending(self, webhook_id: str, *, limit: int) -> builtins.list[Delivery]:
        """The oldest deliveries not made yet, in the order their changes were committed."""
        rows = await self._execute(f"SELECT {DELIVERY_FIELDS} FROM webhook_deliveries "
                                   "WHERE webhook_id = ? AND status = 'pending' ORDER BY seq LIMIT ?",
                                   (webhook_id, limit), fetch="all")
        return [self._delivery(r) for r in rows]

    async def delivered(self, delivery: Delivery, *, response_status: int, now: datetime) -> None:
        await self._execute("UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, "
                            "last_attempt_at = ?, delivered_at = ?, response_status = ?, last_error = NULL "
                            "WHERE seq = ?", (self._time(now), self._time(now), response_status, delivery.seq))
        await self._execute("UPDATE webhooks SET consecutive_failures = 0, next_attempt_at = NULL WHERE id = ?",
                            (delivery.webhook_id,))

    async def failed(self, delivery: Delivery, *, response_status: int | None, error: str, now: datetime,
                     retry_at: datetime, disable: str | None) -> None:
        """One failed attempt: the delivery stays queued and the webhook waits until `retry_at`; with `disable`,
        the webhook is switched off for that reason and its queue marked failed."""
        await self._execute("UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = ?, "
                            "response_status = ?, last_error = ? WHERE seq = ?",
                            (self._time(now), response_status, error[:500], delivery.seq))
        if disable is None:
            await self._execute("UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, "
                                "next_attempt_at = ? WHERE id = ?", (self._time(retry_at), delivery.webhook_id))
            return
        await self._execute("UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, enabled = FALSE, "
                            "disabled_reason = ?, next_attempt_at = NULL WHERE id = ?",
                            (disable[:500], delivery.webhook_id))
        await self._execute("UPDATE webhook_deliveries SET status = 'failed' WHERE webhook_id = ? AND status = 'pending'",
                            (delivery.webhook_id,))

    async def pending_count(self) -> int:
        """Deliveries queued for enabled webhooks: what the delivery loop still has to send."""
        row = await self._execute("SELECT COUNT(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                                  "WHERE d.status = 'pending' AND w.enabled", fetch="one")
        return row[0]

    async def disabled_count(self) -> int:
        row = await self._execute("SELECT COUNT(*) FROM webhooks WHERE NOT enabled", fetch="one")
        return row[0]

    async def prune(self, before: datetime) -> int:
        """Forget deliveries made before `before`: the log keeps what is recent and everything not delivered."""
        return await self._execute("DELETE FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < ?",
                                   (self._time(before),), fetch="count")


class SQLiteWebhookStore(WebhookStore):
    contains = "EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = ?)"

    def __init__(self, records: SQLiteRecordStore):
        # The record store's own connection and thread: one owner of the database file (see database.py).
        self.records = records

    async def open(self) -> None:
        """Nothing to open: the record store's connection is used."""

    async def close(self) -> None:
        """Nothing to close: the record store owns the connection."""

    async def _execute(self, sql: str, params: tuple = (), *, fetch: str = "none") -> Any:
        def call(conn: sqlite3.Connection) -> Any:
            cursor = conn.execute(sql, params)
            if fetch == "one":
                return cursor.fetchone()
            if fetch == "all":
                return cursor.fetchall()
            return cursor.rowcount
        return await self.records._run(call)

    def _time(self, value: datetime | None) -> Any:
        return iso(value) if value is not None else None

    def _read_time(self, value: Any) -> datetime | None:
        return parse_iso(value) if value else None

    def _json(self, value: Any) -> Any:
        return json.dumps(value, ensure_ascii=False)

    def _read_json(self, value: Any) -> Any:
        return json.loads(value) if value is not None else None


class PostgresWebhookStore(WebhookStore):
    contains = "jsonb_exists(w.events, ?)"

    def __init__(self, records: PostgresRecordStore):
        # The record store's pool: one door to the database, one 503 naming the record store when it is down.
        self.records = records

    async def open(self) -> None:
        """Nothing to open: the record store's pool is used."""

    async def close(self) -> None:
        """Nothing to close: the record store owns the pool."""

    async def _execute(self, sql: str, params: tuple = (), *, fetch: str = "none") -> Any:
        async with self.records._tx() as cur:
            await cur.execute(sql.replace("?", "%s"), params)
            if fetch == "one":
                return await cur.fetchone()
            if fetch == "all":
                return await cur.fetchall()
            return cur.rowcount

    def _time(self, value: datetime | None) -> Any:
        return value

    def _read_time(self, value: Any) -> datetime | None:
        return value

    def _json(self, value: Any) -> Any:
        from psycopg.types.json import Jsonb

        return Jsonb(value)

    def _read_json(self, value: Any) -> Any:
        return value


def open_webhook_store(records: RecordStore) -> WebhookStore:
    """The webhook tables live in the record store's database and are reached through its connection."""
    from mem0_service.stores.postgres import PostgresRecordStore
    from mem0_service.stores.sqlite import SQLiteRecordStore

    if isinstance(records, PostgresRecordStore):
        return PostgresWebhookStore(records)
    if isinstance(records, SQLiteRecordStore):
        return SQLiteWebhookStore(records)
    raise TypeError(f"webhooks are kept in SQLite or PostgreSQL, not beside {type(records).__name__}")
