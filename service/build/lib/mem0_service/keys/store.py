"""Where scoped keys live: a table in the record store's own database, reached through a connection of our own."""

from __future__ import annotations

import asyncio
import sqlite3
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mem0_service.config import Settings
from mem0_service.core.memory import utcnow
from mem0_service.errors import ServiceUnavailable
from mem0_service.keys.model import Access, ApiKey, hash_key, new_key, new_key_id
from mem0_service.stores.base import iso, parse_iso

FIELDS = "id, prefix, name, user_id, agent_id, access, created_at, revoked_at"


class KeyStore(ABC):
    """Create, find, list and revoke scoped keys. The table is created by the record store's migrations."""

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def _insert(self, key: ApiKey, digest: str, *, if_absent: bool = False) -> bool:
        """Store the key; with `if_absent`, skip it when one with its id or digest exists. True if stored."""

    @abstractmethod
    async def find(self, token: str) -> ApiKey | None:
        """The active key whose secret is `token`, or None."""

    @abstractmethod
    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]: ...

    @abstractmethod
    async def revoke(self, key_id: str) -> ApiKey | None:
        """Mark the key revoked; None if no such key exists."""

    async def create(self, *, user_id: str | None, agent_id: str | None, access: Access,
                     name: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret. The secret is not stored anywhere: show it once."""
        if user_id is None and agent_id is None:
            raise ValueError("a scoped key must be bound to a user_id, an agent_id or both")
        token = new_key()
        key = ApiKey(id=new_key_id(), prefix=token[:10], name=name, user_id=user_id, agent_id=agent_id,
                     access=access, created_at=utcnow())
        await self._insert(key, hash_key(token))
        return key, token

    async def restore(self, key: ApiKey, digest: str) -> bool:
        """Bring back a key from a backup (revoked ones stay revoked) unless this store already has it."""
        return await self._insert(key, digest, if_absent=True)


def _sqlite_key(row: tuple) -> ApiKey:
    return ApiKey(id=row[0], prefix=row[1], name=row[2], user_id=row[3], agent_id=row[4], access=row[5],
                  created_at=parse_iso(row[6]), revoked_at=parse_iso(row[7]) if row[7] else None)


class SQLiteKeyStore(KeyStore):
    def __init__(self, path: Path):
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keys")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn):
        def call():
            assert self._conn is not None, "key store is not open"
            with self._conn:
                return fn(self._conn)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except sqlite3.OperationalError as exc:
            raise ServiceUnavailable(f"Key store error: {exc}", dependency="record_store") from exc

    async def open(self) -> None:
        def connect() -> None:
            conn = sqlite3.connect(self.path, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=5000")
            self._conn = conn
        await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)

    async def _insert(self, key: ApiKey, digest: str, *, if_absent: bool = False) -> bool:
        cursor = await self._run(lambda c: c.execute(
            f"INSERT {'OR IGNORE ' if if_absent else ''}INTO api_keys (id, key_hash, prefix, name, user_id, agent_id, "
            "access, created_at, revoked_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (key.id, digest, key.prefix, key.name, key.user_id, key.agent_id, key.access, iso(key.created_at),
             iso(key.revoked_at) if key.revoked_at else None)))
        return cursor.rowcount == 1

    async def find(self, token: str) -> ApiKey | None:
        row = await self._run(lambda c: c.execute(
            f"SELECT {FIELDS} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (hash_key(token),)).fetchone())
        return _sqlite_key(row) if row else None

    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        rows = await self._run(lambda c: c.execute(
            f"SELECT {FIELDS} FROM api_keys {where} ORDER BY created_at, id").fetchall())
        return [_sqlite_key(r) for r in rows]

    async def revoke(self, key_id: str) -> ApiKey | None:
        now = iso(utcnow())

        def work(c: sqlite3.Connection):
            c.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, key_id))
            return c.execute(f"SELECT {FIELDS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        row = await self._run(work)
        return _sqlite_key(row) if row else None


class PostgresKeyStore(KeyStore):
    def __init__(self, url: str, timeout: float = 5.0):
        from psycopg_pool import AsyncConnectionPool

        self.timeout = timeout
        self.pool = AsyncConnectionPool(url, min_size=1, max_size=4, open=False, timeout=timeout,
                                        kwargs={"connect_timeout": max(1, int(timeout))},
                                        check=AsyncConnectionPool.check_connection)

    async def _query(self, sql: str, params: tuple, *, fetch: str = "all"):
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            async with self.pool.connection() as conn, conn.cursor() as cur:
                await cur.execute(sql, params)
                if fetch == "one":
                    return await cur.fetchone()
                if fetch == "all":
                    return await cur.fetchall()
                return None
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            raise ServiceUnavailable(f"Key store (PostgreSQL) unavailable: {str(exc).strip()[:200]}",
                                     dependency="record_store") from exc

    async def open(self) -> None:
        from psycopg_pool import PoolTimeout

        try:
            await self.pool.open(wait=True, timeout=self.timeout * 2)
        except PoolTimeout as exc:
            await self.pool.close()
            raise ServiceUnavailable(f"Cannot connect to PostgreSQL at DATABASE_URL: {exc}",
                                     dependency="record_store") from exc

    async def close(self) -> None:
        await self.pool.close()

    async def _insert(self, key: ApiKey, digest: str, *, if_absent: bool = False) -> bool:
        row = await self._query("INSERT INTO api_keys (id, key_hash, prefix, name, user_id, agent_id, access, "
                                "created_at, revoked_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                                f"{'ON CONFLICT DO NOTHING ' if if_absent else ''}RETURNING id",
                                (key.id, digest, key.prefix, key.name, key.user_id, key.agent_id, key.access,
                                 key.created_at, key.revoked_at), fetch="one")
        return row is not None

    @staticmethod
    def _key(row: tuple) -> ApiKey:
        return ApiKey(id=row[0], prefix=row[1], name=row[2], user_id=row[3], agent_id=row[4], access=row[5],
                      created_at=row[6], revoked_at=row[7])

    async def find(self, token: str) -> ApiKey | None:
        row = await self._query(f"SELECT {FIELDS} FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL",
                                (hash_key(token),), fetch="one")
        return self._key(row) if row else None

    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        rows = await self._query(f"SELECT {FIELDS} FROM api_keys {where} ORDER BY created_at, id", ())
        return [self._key(r) for r in rows]

    async def revoke(self, key_id: str) -> ApiKey | None:
        row = await self._query(
            "WITH changed AS (UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = %s "
            f"RETURNING {FIELDS}) SELECT * FROM changed", (key_id,), fetch="one")
        return self._key(row) if row else None


def open_key_store(settings: Settings) -> KeyStore:
    """The key store next to the records the settings select (not opened yet)."""
    url = settings.database_url
    if url and url.startswith(("postgres://", "postgresql://")):
        return PostgresKeyStore(url)
    path = Path(url.removeprefix("sqlite:///")) if url else settings.data_dir / "memories.sqlite3"
    return SQLiteKeyStore(path)


